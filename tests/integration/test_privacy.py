"""Meta's privacy callbacks and `switchboard privacy`, against the real binary.

POST /meta/data-deletion and POST /meta/deauthorize receive form-encoded signed_requests built
here exactly as meta-platform.md section 8 says (HMAC-SHA256 with the app secret over the
base64url payload segment as sent); GET /meta/data-deletion/{code} answers people (HTML) and
programs (JSON). Deletions are durable jobs: a kill -9 between the answer and the job, or
during it, still ends with the data gone after a restart. The last test lets the local Meta
(the emulator) send the callbacks itself.
"""

import base64
import hashlib
import hmac
import json
import re
import sqlite3
import subprocess
import time
import urllib.parse

from emu import APP_ID, APP_SECRET, IG_ID, Emulator, EmulatorTestCase
from harness import (IG_ACCOUNT, ServerTestCase, base_env, binary_path, deadline_loop,
                     http_request, ig_dm, unique_mid)

PUBLIC_URL = "https://privacy.example.test"
MAYA_ASID, MAYA_SID = "10170000000000001", "7061839550569623"  # a customer
SAM_ASID, SAM_SID = "10170000000000002", "7061839550569624"    # another customer
ADMIN_ASID = "10160000000000001"                               # who connected the account
TOKEN_BYTES = b"sealed-token-bytes-XYZZY"                      # stands for a sealed token
CODE_RE = re.compile(r"^[0-9a-f]{32}$")


def b64u(data, pad=False):
    s = base64.urlsafe_b64encode(data).decode()
    return s if pad else s.rstrip("=")


def signed_request(secret, payload, pad=False):
    """Meta's format: base64url(HMAC-SHA256(secret, payload segment)) "." payload segment."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    seg = b64u(raw, pad)
    sig = hmac.new(secret.encode(), seg.encode(), hashlib.sha256).digest()
    return b64u(sig, pad) + "." + seg


def deletion_payload(user_id, issued_at=None, **extra):
    p = {"algorithm": "HMAC-SHA256", "issued_at": int(time.time()) if issued_at is None
         else issued_at, "expires": int(time.time()) + 3600, "user_id": user_id}
    p.update(extra)
    return p


def post_form(server, path, fields):
    body = urllib.parse.urlencode(fields).encode()
    return http_request(server.port, "POST", path, body=body,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})


def echo_to(recipient, mid):
    """The business's own reply to a customer, as Meta echoes it (sender = the account)."""
    ts = int(time.time() * 1000)
    doc = {"object": "instagram", "entry": [{"time": ts, "id": IG_ACCOUNT, "messaging": [{
        "sender": {"id": IG_ACCOUNT}, "recipient": {"id": recipient}, "timestamp": ts,
        "message": {"mid": mid, "text": "We do ship to Canada!", "is_echo": True}}]}]}
    return json.dumps(doc, separators=(",", ":")).encode()


def write_db(server, sql, args=()):
    """Rows the product has no writer for yet (contacts, conversations, messages), written
    the way the inbox will: a second connection beside the running server."""
    con = sqlite3.connect(server.db_path, timeout=10)
    try:
        cur = con.execute(sql, args)
        con.commit()
        return cur.lastrowid
    finally:
        con.close()


def add_account(server, external_id, user_id, platform="instagram"):
    return write_db(server, "INSERT INTO accounts (platform, external_id, name, token_enc,"
                    " token_expires_at, user_id, scopes, created_at, updated_at) VALUES"
                    " (?, ?, 'Northwind Coffee', ?, 99, ?, 'instagram_basic', 1, 1)",
                    (platform, external_id, TOKEN_BYTES, user_id))


def add_customer(server, account_id, asid, scoped_id, name, texts):
    """A contact with one conversation holding texts (alternately in and out)."""
    contact = write_db(server, "INSERT INTO contacts (account_id, scoped_id, name, user_id,"
                       " created_at, updated_at) VALUES (?, ?, ?, ?, 1, 1)",
                       (account_id, scoped_id, name, asid))
    conv = write_db(server, "INSERT INTO conversations (account_id, contact_id, created_at,"
                    " updated_at) VALUES (?, ?, 1, 1)", (account_id, contact))
    for i, text in enumerate(texts):
        write_db(server, "INSERT INTO messages (conversation_id, direction, author, text, status,"
                 " created_at, updated_at) VALUES (?, ?, ?, ?, 'sent', 1, 1)",
                 (conv, "in" if i % 2 == 0 else "out", "customer" if i % 2 == 0 else "ai", text))
    return contact, conv


class PrivacyCase(ServerTestCase):
    def start(self, **kw):
        env = dict(kw.pop("env", {}))
        env.setdefault("SB_PUBLIC_URL", PUBLIC_URL)
        self.s = self.start_server(env=env, **kw)
        self.sent = []  # every signed_request posted: none may appear in a log
        return self.s

    def sr(self, payload, secret=None, pad=False):
        v = signed_request(secret or self.s.secret, payload, pad)
        self.sent.append(v)
        return v

    def request_deletion(self, user_id, pad=False):
        r = post_form(self.s, "/meta/data-deletion",
                      {"signed_request": self.sr(deletion_payload(user_id), pad=pad)})
        self.assertEqual(r.status, 200, r)
        return json.loads(r.body)["confirmation_code"]

    def status(self, code):
        r = self.s.get("/meta/data-deletion/" + code, headers={"Accept": "application/json"})
        return r.status, (json.loads(r.body) if r.body else None)

    def wait_completed(self, code, timeout=30):
        got = None
        for _ in deadline_loop(timeout, 0.05):
            got = self.s.query("SELECT status, detail FROM deletion_requests WHERE code = ?",
                               (code,))
            if got and got[0][0] == "completed":
                return json.loads(got[0][1])
        self.fail("deletion %s not completed: %r" % (code, got))

    def seed_customers(self):
        """Maya: two messages and an echo as real signed webhooks, a contact, a conversation
        of three messages; Sam: one webhook, a contact, a conversation of two."""
        mids = [unique_mid("maya1"), unique_mid("maya2"), unique_mid("echo"), unique_mid("sam")]
        for body in (ig_dm(mids[0], sender=MAYA_SID), ig_dm(mids[1], sender=MAYA_SID),
                     echo_to(MAYA_SID, mids[2]), ig_dm(mids[3], sender=SAM_SID)):
            self.assertEqual(self.s.post_webhook(body).status, 200)
        got = self.s.wait_events(mids)
        self.assertEqual({m: got.get(m) for m in mids}, {m: 1 for m in mids})
        acct = add_account(self.s, IG_ACCOUNT, ADMIN_ASID)
        add_customer(self.s, acct, MAYA_ASID, MAYA_SID, "Maya Lopez",
                     ["Do you ship to Canada?", "We do!", "Great, thanks"])
        add_customer(self.s, acct, SAM_ASID, SAM_SID, "Sam Chen", ["Open Sunday?", "9 to 5"])
        return acct

    def maya_rows(self):
        return {
            "contacts": self.s.scalar("SELECT count(*) FROM contacts WHERE user_id = ? OR"
                                      " scoped_id = ?", (MAYA_ASID, MAYA_SID)),
            "conversations": self.s.scalar(
                "SELECT count(*) FROM conversations v JOIN contacts c ON c.id = v.contact_id"
                " WHERE c.user_id = ?", (MAYA_ASID,)),
            "messages": self.s.scalar("SELECT count(*) FROM messages WHERE text IN"
                                      " ('Do you ship to Canada?', 'We do!', 'Great, thanks')"),
            "events": self.s.scalar("SELECT count(*) FROM events WHERE sender_id = ? OR"
                                    " recipient_id = ? OR raw LIKE ?",
                                    (MAYA_SID, MAYA_SID, "%" + MAYA_SID + "%")),
        }

    def nothing_requested(self):
        self.assertEqual(self.s.scalar("SELECT count(*) FROM deletion_requests"), 0)
        self.assertEqual(self.s.scalar("SELECT count(*) FROM jobs WHERE kind = 'privacy_delete'"),
                         0)

    def finish(self):
        self.stop_and_check(self.s, forbidden=self.sent + [TOKEN_BYTES.decode()])


class DeletionCallbackTests(PrivacyCase):

    def test_valid_request_answers_url_code_and_a_status_page(self):
        self.start()
        r = post_form(self.s, "/meta/data-deletion",
                      {"signed_request": self.sr(deletion_payload(MAYA_ASID))})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["content-type"].startswith("application/json"))
        doc = json.loads(r.body)
        self.assertEqual(list(doc), ["url", "confirmation_code"])  # exactly these, in order
        code = doc["confirmation_code"]
        self.assertRegex(code, CODE_RE)
        self.assertEqual(doc["url"], PUBLIC_URL + "/meta/data-deletion/" + code)
        self.wait_completed(code)
        self.assertEqual(self.status(code), (200, {"confirmation_code": code,
                                                   "status": "completed"}))
        page = self.s.get("/meta/data-deletion/" + code, headers={"Accept": "text/html"})
        self.assertEqual(page.status, 200)
        self.assertTrue(page.headers["content-type"].startswith("text/html"))
        html = page.body.decode()
        self.assertIn("Status: completed.", html)
        self.assertIn(code, html)
        self.assertIn("We held no data about you", html)
        self.assertNotIn(MAYA_ASID, html)
        # another request gets another code
        self.assertNotEqual(self.request_deletion(MAYA_ASID), code)
        self.finish()

    def test_unknown_or_malformed_code_is_404(self):
        self.start()
        for code in ("0" * 32, "f" * 32, "nope", "0123456789ABCDEF0123456789abcdef"):
            with self.subTest(code=code):
                self.assertEqual(self.status(code)[0], 404)
                r = self.s.get("/meta/data-deletion/" + code)
                self.assertEqual(r.status, 404)
                self.assertIn(b"no deletion request", r.body)
        self.finish()

    def test_customer_data_is_gone_and_nobody_elses(self):
        self.start()
        self.seed_customers()
        self.assertEqual(self.maya_rows(), {"contacts": 1, "conversations": 1, "messages": 3,
                                            "events": 3})
        code = self.request_deletion(MAYA_ASID)
        counts = self.wait_completed(code)
        self.assertEqual(counts, {"accounts": 0, "contacts": 1, "conversations": 1,
                                  "messages": 3, "events": 3, "dead_letters": 0, "comments": 0})
        self.assertEqual(self.maya_rows(), {"contacts": 0, "conversations": 0, "messages": 0,
                                            "events": 0})
        # Sam's data and the business's connection are untouched
        self.assertEqual(self.s.scalar("SELECT count(*) FROM events WHERE sender_id = ?",
                                       (SAM_SID,)), 1)
        self.assertEqual(self.s.scalar("SELECT count(*) FROM messages"), 2)
        self.assertEqual(self.s.query("SELECT status, user_id, token_enc IS NOT NULL FROM"
                                      " accounts"), [("active", ADMIN_ASID, 1)])
        html = self.s.get("/meta/data-deletion/" + code).body.decode()
        self.assertIn("<li>3 messages</li>", html)
        self.assertIn("<li>1 conversation with this business</li>", html)
        self.finish()

    def test_admin_deletion_erases_their_connection_not_the_business_records(self):
        self.start()
        acct = self.seed_customers()
        code = self.request_deletion(ADMIN_ASID)
        counts = self.wait_completed(code)
        self.assertEqual(counts["accounts"], 1)
        self.assertEqual(self.s.query(
            "SELECT status, user_id, token_enc, scopes, token_expires_at FROM accounts"
            " WHERE id = ?", (acct,)), [("revoked", None, None, None, None)])
        self.assertEqual(self.s.scalar("SELECT count(*) FROM messages"), 5)
        self.assertEqual(self.s.scalar("SELECT count(*) FROM contacts"), 2)
        self.finish()

    def test_padded_base64_and_numeric_user_id_are_accepted(self):
        self.start()
        r = post_form(self.s, "/meta/data-deletion", {"signed_request": self.sr(
            deletion_payload(int(MAYA_ASID)), pad=True)})
        self.assertEqual(r.status, 200, r)
        code = json.loads(r.body)["confirmation_code"]
        self.wait_completed(code)
        self.assertEqual(self.s.scalar("SELECT user_id FROM deletion_requests WHERE code = ?",
                                       (code,)), MAYA_ASID)
        self.finish()

    def test_invalid_requests_are_400_and_store_nothing(self):
        self.start()
        now = int(time.time())
        good = deletion_payload(MAYA_ASID)
        tampered = self.sr(good)
        sig, _, seg = tampered.partition(".")
        tampered = sig + "." + b64u(json.dumps(deletion_payload(SAM_ASID)).encode())
        no_user = dict(good)
        del no_user["user_id"]
        no_issued = dict(good)
        del no_issued["issued_at"]
        cases = {
            "wrong secret": {"signed_request": self.sr(good, secret="not-the-app-secret")},
            "payload swapped under the signature": {"signed_request": tampered},
            "wrong algorithm": {"signed_request": self.sr(dict(good, algorithm="HMAC-SHA1"))},
            "two days old": {"signed_request": self.sr(deletion_payload(MAYA_ASID,
                                                                        now - 2 * 86400))},
            "an hour in the future": {"signed_request": self.sr(deletion_payload(MAYA_ASID,
                                                                                 now + 3600))},
            "no user_id": {"signed_request": self.sr(no_user)},
            "no issued_at": {"signed_request": self.sr(no_issued)},
            "user_id not an id": {"signed_request": self.sr(dict(good, user_id="1 OR 1=1"))},
            "payload not JSON": {"signed_request": self.sr(b"user_id=1")},
            "no dot": {"signed_request": "abc"},
            "empty": {"signed_request": ""},
            "field missing": {"signedrequest": self.sr(good)},
            "nothing": {},
        }
        for name, fields in cases.items():
            with self.subTest(case=name):
                r = post_form(self.s, "/meta/data-deletion", fields)
                self.assertEqual(r.status, 400, r)
                err = json.loads(r.body)["error"]
                self.assertIn(err["code"], ("invalid", "auth"))
                self.assertTrue(err["message"])
        r = http_request(self.s.port, "POST", "/meta/data-deletion",
                         body=json.dumps({"signed_request": self.sr(good)}).encode(),
                         headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        self.nothing_requested()
        self.finish()
        self.nothing_requested()  # also after the graceful stop flushed everything


class CrashTests(PrivacyCase):

    def test_kill_9_before_the_job_ran_then_restart_completes_it(self):
        # An ingest-only process answers the callback but runs no workers: the job is queued
        # and cannot have run when the process is killed.
        self.start(serve_args=["--role", "ingest"])
        self.seed_customers_without_workers()
        code = self.request_deletion(MAYA_ASID)
        self.assertEqual(self.s.query("SELECT status FROM deletion_requests WHERE code = ?",
                                      (code,)), [("pending",)])
        self.assertEqual(self.s.query("SELECT state FROM jobs WHERE kind = 'privacy_delete'"),
                         [("ready",)])
        self.assertEqual(self.status(code), (200, {"confirmation_code": code,
                                                   "status": "pending"}))
        self.assertIn("Status: in progress.", self.s.get("/meta/data-deletion/" + code).body
                      .decode())
        self.s.kill9()
        self.s.serve_args = []  # every role, workers included
        self.s.restart()
        self.wait_completed(code)
        self.assertEqual(self.maya_rows(), {"contacts": 0, "conversations": 0, "messages": 0,
                                            "events": 0})
        self.finish()

    def seed_customers_without_workers(self):
        acct = add_account(self.s, IG_ACCOUNT, ADMIN_ASID)
        add_customer(self.s, acct, MAYA_ASID, MAYA_SID, "Maya Lopez",
                     ["Do you ship to Canada?", "We do!", "Great, thanks"])
        write_db(self.s, "INSERT INTO events (object, entry_id, kind, channel, key, sender_id,"
                 " recipient_id, raw, created_at) VALUES ('instagram', ?, 'message', 'messaging',"
                 " 'k1', ?, ?, ?, 1)", (IG_ACCOUNT, MAYA_SID, IG_ACCOUNT,
                                         '{"sender":{"id":"%s"}}' % MAYA_SID))

    def test_kill_9_right_after_the_answer_then_restart_completes_it(self):
        # With workers running the job may be done, half done (rolled back) or not started
        # when the kill lands; every case must end completed after the restart.
        self.start()
        self.seed_customers()
        code = self.request_deletion(MAYA_ASID)
        self.s.kill9()
        self.s.restart()
        self.wait_completed(code)
        self.assertEqual(self.maya_rows(), {"contacts": 0, "conversations": 0, "messages": 0,
                                            "events": 0})
        self.finish()


class DeauthorizeTests(PrivacyCase):

    def test_deauthorize_revokes_that_users_accounts_only(self):
        self.start()
        a1 = add_account(self.s, IG_ACCOUNT, ADMIN_ASID)
        a2 = add_account(self.s, "104000000000001", ADMIN_ASID, platform="messenger")
        other = add_account(self.s, "104000000000002", "10160000000000009", platform="messenger")
        r = post_form(self.s, "/meta/deauthorize",
                      {"signed_request": self.sr(deletion_payload(ADMIN_ASID))})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(json.loads(r.body), {"success": True})
        rows = self.s.query("SELECT id, status, status_reason, token_enc, user_id FROM accounts"
                            " ORDER BY id")
        self.assertEqual([(i, s, t, u) for i, s, _, t, u in rows if i in (a1, a2)],
                         [(a1, "revoked", None, ADMIN_ASID), (a2, "revoked", None, ADMIN_ASID)])
        self.assertIn("app removed by user", rows[0][2])
        self.assertEqual([(s, t) for i, s, _, t, _ in rows if i == other],
                         [("active", TOKEN_BYTES)])
        # a user with nothing connected: still 200
        r = post_form(self.s, "/meta/deauthorize",
                      {"signed_request": self.sr(deletion_payload("42"))})
        self.assertEqual((r.status, json.loads(r.body)), (200, {"success": True}))
        self.finish()

    def test_invalid_deauthorize_is_400_and_changes_nothing(self):
        self.start()
        add_account(self.s, IG_ACCOUNT, ADMIN_ASID)
        for fields in ({"signed_request": self.sr(deletion_payload(ADMIN_ASID), secret="x")},
                       {"signed_request": self.sr(deletion_payload(ADMIN_ASID, 1))},
                       {}):
            r = post_form(self.s, "/meta/deauthorize", fields)
            self.assertEqual(r.status, 400, r)
        self.assertEqual(self.s.query("SELECT status, token_enc FROM accounts"),
                         [("active", TOKEN_BYTES)])
        self.finish()


class CliTests(PrivacyCase):

    def run_sb(self, *args):
        env = base_env()
        env.update({"SB_DATA_DIR": self.s.data_dir, "SB_META_APP_SECRET": self.s.secret})
        r = subprocess.run([binary_path()] + list(args), env=env, capture_output=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def test_export_has_the_persons_data_and_no_token(self):
        self.start()
        self.seed_customers()
        self.request_deletion(SAM_ASID)  # someone else's request is not in Maya's export
        rc, out, err = self.run_sb("privacy", "export", "--user", MAYA_ASID)
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["user_id"], MAYA_ASID)
        self.assertEqual([c["name"] for c in doc["contacts"]], ["Maya Lopez"])
        self.assertEqual(len(doc["conversations"]), 1)
        self.assertEqual([m["text"] for m in doc["messages"]],
                         ["Do you ship to Canada?", "We do!", "Great, thanks"])
        self.assertEqual(len(doc["events"]), 3)
        for ev in doc["events"]:
            self.assertIsInstance(ev["raw"], dict)  # Meta's JSON, not a string
            self.assertIn(MAYA_SID, (ev["sender_id"], ev["recipient_id"]))
        self.assertEqual(doc["accounts"], [])
        self.assertEqual(doc["deletion_requests"], [])
        self.assertNotIn(SAM_SID, out)
        self.assertNotIn("Sam Chen", out)
        # the admin's export shows the connection, never its token
        rc, out, err = self.run_sb("privacy", "export", "--user", ADMIN_ASID)
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual([a["external_id"] for a in doc["accounts"]], [IG_ACCOUNT])
        self.assertNotIn("token_enc", doc["accounts"][0])
        for text in (out, err):
            self.assertNotIn(TOKEN_BYTES.decode(), text)
            self.assertNotIn(base64.b64encode(TOKEN_BYTES).decode(), text)
            self.assertNotIn(TOKEN_BYTES.hex(), text)
        self.finish()

    def test_delete_without_a_running_server(self):
        self.start()
        self.seed_customers()
        self.s.stop()
        rc, out, err = self.run_sb("privacy", "delete", "--user", MAYA_ASID)
        self.assertEqual(rc, 0, err)
        m = re.search(r"^confirmation code: ([0-9a-f]{32})$", out, re.M)
        self.assertTrue(m, out)
        self.assertIn("completed: ", out)
        counts = json.loads(out.split("completed: ", 1)[1])
        self.assertEqual((counts["messages"], counts["events"]), (3, 3))
        self.assertEqual(self.maya_rows(), {"contacts": 0, "conversations": 0, "messages": 0,
                                            "events": 0})
        self.assertEqual(self.s.query("SELECT kind, status FROM deletion_requests WHERE code = ?",
                                      (m.group(1),)), [("cli", "completed")])
        self.assertEqual(self.s.query("SELECT state FROM jobs WHERE kind = 'privacy_delete'"),
                         [("done",)])
        self.s.restart()  # the server shows the same request
        self.assertEqual(self.status(m.group(1))[1]["status"], "completed")
        self.finish()

    def test_delete_beside_a_running_server(self):
        self.start()
        self.seed_customers()
        rc, out, err = self.run_sb("privacy", "delete", "--user", MAYA_ASID)
        self.assertEqual(rc, 0, err)
        self.assertIn("completed: ", out)
        self.assertEqual(self.maya_rows(), {"contacts": 0, "conversations": 0, "messages": 0,
                                            "events": 0})
        rc, out, err = self.run_sb("privacy", "delete", "--user", SAM_ASID, "--no-wait")
        self.assertEqual(rc, 0, err)
        code = re.search(r"^confirmation code: ([0-9a-f]{32})$", out, re.M).group(1)
        self.assertIn("queued", out)
        self.wait_completed(code)  # the server's workers pick it up
        self.finish()

    def test_usage_errors(self):
        self.start()
        for args in (["privacy"], ["privacy", "delete"], ["privacy", "frob", "--user", "1"],
                     ["privacy", "export", "--user", "1 2"], ["privacy", "export", "--user"],
                     ["privacy", "export", "--user", "1", "--no-wait"]):
            with self.subTest(args=args):
                rc, out, err = self.run_sb(*args)
                self.assertEqual(rc, 2, (out, err))
                self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.nothing_requested()
        self.finish()


class EmulatorEndToEnd(EmulatorTestCase):
    """The local Meta connects, delivers a customer's message, and sends both callbacks."""

    def setUp(self):
        self.server = self.start_server(secret=APP_SECRET)
        base = "http://127.0.0.1:%d" % self.server.port
        self.emu = Emulator(webhook=base + "/webhooks/meta", args=[
            "--deletion-url", base + "/meta/data-deletion",
            "--deauthorize-url", base + "/meta/deauthorize", "--app-secret", APP_SECRET])
        self.addCleanup(self.emu.stop)
        self.emu.start()

    def connect_accounts(self):
        env = base_env()
        env.update({"SB_DATA_DIR": self.server.data_dir, "SB_META_APP_ID": APP_ID,
                    "SB_META_APP_SECRET": APP_SECRET, "SB_META_GRAPH_URL": self.emu.base})
        r = subprocess.run([binary_path(), "accounts", "connect", "--user-token", "-"],
                           input=(self.emu.user_token() + "\n").encode(), env=env,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())

    def test_delete_data_and_deauthorize_from_the_emulator(self):
        self.connect_accounts()
        state = self.emu.state()
        admin = state["users"][0]["asid"]
        maya = state["customers"][0]
        self.assertEqual(self.server.query("SELECT DISTINCT user_id FROM accounts"), [(admin,)])
        r = self.emu.control("POST", "/_emulator/customers/0/messages",
                             {"channel": "instagram", "text": "Please forget me"})
        self.assertEqual(r.status, 200, r)
        mid = r.json()["mid"]
        self.assertEqual(self.server.wait_events([mid]).get(mid), 1)
        ig_account = self.server.scalar("SELECT id FROM accounts WHERE external_id = ?",
                                        (IG_ID,))
        # The inbox made Maya's contact, conversation and message from the webhook; only the
        # link to her app-scoped id (which webhooks never carry) is written here.
        self.assertEqual(self.server.wait_scalar(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " JOIN contacts k ON k.id = c.contact_id WHERE k.account_id = ? AND k.scoped_id = ?",
            1, args=(ig_account, maya["igsid"])), 1)
        write_db(self.server, "UPDATE contacts SET user_id = ?, name = ? WHERE account_id = ?"
                 " AND scoped_id = ?", (maya["asid"], maya["name"], ig_account, maya["igsid"]))

        r = self.emu.control("POST", "/_emulator/users/%s/delete-data" % maya["asid"])
        self.assertEqual(r.status, 200, r)
        answer = r.json()
        self.assertEqual(answer["status"], 200, answer)
        code = answer["body"]["confirmation_code"]
        self.assertEqual(answer["body"]["url"], "http://127.0.0.1:%d/meta/data-deletion/%s" % (
            self.server.port, code))
        got = None
        for _ in deadline_loop(30, 0.05):
            got = self.server.scalar("SELECT status FROM deletion_requests WHERE code = ?",
                                     (code,))
            if got == "completed":
                break
        self.assertEqual(got, "completed")
        self.assertEqual(self.server.scalar(
            "SELECT count(*) FROM events WHERE sender_id = ? OR recipient_id = ?",
            (maya["igsid"], maya["igsid"])), 0)
        self.assertEqual(self.server.scalar("SELECT count(*) FROM contacts"), 0)

        r = self.emu.control("POST", "/_emulator/users/%s/deauthorize" % admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"status": 200, "body": {"success": True}})
        rows = self.server.query("SELECT status, token_enc IS NULL FROM accounts")
        self.assertTrue(rows)
        self.assertEqual(set(rows), {("revoked", 1)})
        self.stop_and_check(self.server)
