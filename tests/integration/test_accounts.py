"""`switchboard accounts connect|list` and `switchboard keys rotate`, run as the real binary
against the local Meta (tests/integration/emu.py): Pages and the Instagram account stored with
sealed tokens and subscribed to webhooks, the self-test's findings, failures with one clear
line, a worse reconnect that keeps the stored token, key rotation beside a running server, and
no token in plaintext in the database files or any output."""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse

from emu import APP_ID, APP_SECRET, IG_ID, PAGE2_ID, PAGE_ID, EmulatorTestCase
from harness import Server, base_env, binary_path, check_log_lines

REDIRECT = "http://127.0.0.1:1/oauth/callback"
REQUIRED_FIELDS = ["messages", "messaging_postbacks", "message_reactions", "message_echoes",
                   "messaging_seen"]
SCOPES = ("pages_show_list,pages_messaging,pages_manage_metadata,instagram_basic,"
          "instagram_manage_messages,instagram_content_publish")


class TestAccounts(EmulatorTestCase):
    def setUp(self):
        self.emu = self.start_emulator()
        self.root = tempfile.mkdtemp(prefix="sb-acct-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.data = os.path.join(self.root, "data")
        self.outputs = []  # every stdout and stderr, checked for tokens in tearDown
        self.tokens = []   # every token handed to the binary

    def tearDown(self):
        for text in self.outputs:
            self.assertNotIn("EAA", text)  # every emulator token starts so
            for t in self.tokens:
                self.assertNotIn(t, text)

    # -- helpers

    def env(self, **extra):
        e = base_env()
        e.update({"SB_DATA_DIR": self.data, "SB_META_APP_ID": APP_ID,
                  "SB_META_APP_SECRET": APP_SECRET, "SB_META_GRAPH_URL": self.emu.base,
                  "SB_META_GRAPH_VERSION": "v24.0", "SB_META_SCOPES": SCOPES})
        e.update(extra)
        return e

    def run_sb(self, *args, stdin=None, env=None):
        r = subprocess.run([binary_path()] + list(args), input=(stdin or "").encode(),
                           env=env or self.env(), capture_output=True, timeout=60)
        out, err = r.stdout.decode(), r.stderr.decode()
        self.outputs += [out, err]
        return r.returncode, out, err

    def connect(self, token, **kw):
        self.tokens.append(token)
        return self.run_sb("accounts", "connect", "--user-token", "-", stdin=token + "\n", **kw)

    def list_json(self):
        rc, out, err = self.run_sb("accounts", "list", "--json")
        self.assertEqual(rc, 0, err)
        return {(a["platform"], a["external_id"]): a for a in map(json.loads, out.splitlines())}

    def token_blobs(self):
        path = os.path.join(self.data, "switchboard.db")
        import sqlite3
        con = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(path), uri=True)
        try:
            return dict(((p, e), b) for p, e, b in
                        con.execute("SELECT platform, external_id, token_enc FROM accounts"))
        finally:
            con.close()

    def assert_no_plaintext_in_db(self):
        for name in ("switchboard.db", "switchboard.db-wal"):
            path = os.path.join(self.data, name)
            if not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                raw = f.read()
            self.assertNotIn(b"EAA", raw, name)
            for t in self.tokens:
                self.assertNotIn(t.encode(), raw, name)

    def login_token(self, ticked=None):
        """A short-lived user token from the dialog with only `ticked` scopes ticked."""
        q = {"client_id": APP_ID, "redirect_uri": REDIRECT, "state": "s", "scope": SCOPES,
             "response_type": "code", "decision": "allow"}
        if ticked is not None:
            q["perms_shown"] = "1"
            for s in ticked:
                q["perm_" + s] = "on"
        r = self.emu.graph("POST", "/dialog/oauth/confirm", form=q)
        loc = urllib.parse.urlparse(r.headers["location"])
        code = dict(urllib.parse.parse_qsl(loc.query))["code"]
        r = self.emu.graph("GET", "/oauth/access_token",
                           params={"client_id": APP_ID, "client_secret": APP_SECRET,
                                   "redirect_uri": REDIRECT, "code": code})
        self.assertEqual(r.status, 200, r)
        return r.json()["access_token"]

    def assert_one_clear_line(self, err, *needles):
        self.assertEqual(check_log_lines("".join(ln + "\n" for ln in err.splitlines()[:-1])), [])
        last = err.splitlines()[-1]
        self.assertTrue(last.startswith("switchboard accounts: "), last)
        for n in needles:
            self.assertIn(n, last)

    # -- tests

    def test_connect_short_lived_token_then_list(self):
        rc, out, err = self.connect(self.emu.user_token(long_lived=False))
        self.assertEqual(rc, 0, err)
        self.assertEqual(check_log_lines(err), [])
        self.assertIn("Connected 3 accounts for user 10160000000000001", out)
        self.assertIn("Page 'Northwind Outlet' (%s) has no Instagram account linked" % PAGE2_ID,
                      out)

        rc, table, err = self.run_sb("accounts", "list")
        self.assertEqual(rc, 0, err)
        lines = table.splitlines()
        self.assertTrue(lines[0].startswith("PLATFORM"), table)
        self.assertEqual(len(lines), 4, table)
        rows = {ln.split()[1]: ln for ln in lines[1:]}
        self.assertIn("Northwind Coffee", rows[PAGE_ID])
        self.assertIn("@northwind.coffee", rows[IG_ID])
        self.assertIn(PAGE_ID, rows[IG_ID].split()[3])  # the linked Page
        for ln in rows.values():
            self.assertIn(" never ", ln)  # Page tokens from a long-lived login never expire
            self.assertIn(" active ", ln)

        accts = self.list_json()
        self.assertEqual(set(accts), {("messenger", PAGE_ID), ("messenger", PAGE2_ID),
                                      ("instagram", IG_ID)})
        ig = accts[("instagram", IG_ID)]
        self.assertEqual((ig["username"], ig["page_id"]), ("northwind.coffee", PAGE_ID))
        for a in accts.values():
            self.assertEqual(a["token_state"], "never_expires")
            self.assertIsNone(a["token_expires_at"])
            self.assertEqual(a["status"], "active")
            self.assertIsNone(a["quota"])
            self.assertIn("pages_messaging", a["scopes"])
            for f in REQUIRED_FIELDS:
                self.assertIn(f, a["subscribed_fields"])

        for page in (PAGE_ID, PAGE2_ID):  # Meta's side of the subscription
            got = self.emu.graph("GET", "/%s/subscribed_apps" % page,
                                 token=self.emu.page_token(page)).json()["data"]
            self.assertEqual(got[0]["id"], APP_ID)
            for f in REQUIRED_FIELDS:
                self.assertIn(f, got[0]["subscribed_fields"])
        self.assert_no_plaintext_in_db()

    def test_token_as_argument_and_long_lived(self):
        tok = self.emu.user_token()
        self.tokens.append(tok)
        rc, out, err = self.run_sb("accounts", "connect", "--user-token", tok)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(self.list_json()), 3)

    def test_garbage_token_fails_with_one_clear_line(self):
        rc, out, err = self.connect("EAAgarbage-not-a-token")
        self.assertEqual(rc, 1)
        self.assert_one_clear_line(err, "connect failed", "not valid")
        rc, out, err = self.run_sb("accounts", "list")
        self.assertEqual(rc, 0, err)
        self.assertIn("No accounts are connected", out)
        self.assertEqual(self.list_json(), {})

    def test_usage_and_missing_app_credentials(self):
        env = self.env()
        del env["SB_META_APP_SECRET"]
        rc, out, err = self.connect(self.emu.user_token(), env=env)
        self.assertEqual(rc, 1)
        self.assertIn("SB_META_APP_ID and SB_META_APP_SECRET must be set", err.splitlines()[-1])
        self.assertEqual(self.run_sb("accounts", "connect")[0], 2)
        self.assertEqual(self.run_sb("accounts", "connect", "--user-token", "-", stdin="")[0], 2)
        self.assertEqual(self.run_sb("accounts", "list", "--bogus")[0], 2)
        self.assertEqual(self.run_sb("keys", "spin")[0], 2)

    def test_scope_not_granted_is_named(self):
        tok = self.login_token(ticked=[s for s in SCOPES.split(",") if s != "pages_messaging"])
        rc, out, err = self.connect(tok)
        self.assertEqual(rc, 0, err)
        self.assertIn("scope pages_messaging was not granted: replies on Messenger will fail; "
                      "reconnect and tick it", out)
        for a in self.list_json().values():
            self.assertNotIn("pages_messaging", a["scopes"])

    def test_failing_subscription_is_reported(self):
        r = self.emu.control("POST", "/_emulator/faults", {
            "kind": "http_500", "path": "/subscribed_apps", "method": "POST", "count": 5})
        self.assertEqual(r.status // 100, 2, r)
        rc, out, err = self.connect(self.emu.user_token())
        self.assertEqual(rc, 0, err)  # findings are warnings: the accounts are stored
        self.assertIn("subscribing Page 'Northwind Coffee' (%s) to webhooks failed" % PAGE_ID, out)
        self.assertIn("no messages will arrive from it", out)
        accts = self.list_json()
        self.assertEqual(len(accts), 3)
        self.assertEqual(accts[("messenger", PAGE_ID)]["subscribed_fields"], [])
        rc, out, err = self.connect(self.emu.user_token())  # Meta works again: fixed
        self.assertEqual(rc, 0, err)
        self.assertNotIn("to webhooks failed", out)
        self.assertIn("messages", self.list_json()[("messenger", PAGE_ID)]["subscribed_fields"])

    def test_reconnect_with_worse_token_does_not_overwrite(self):
        rc, out, err = self.connect(self.emu.user_token())
        self.assertEqual(rc, 0, err)
        before = self.token_blobs()
        worse = self.login_token(ticked=["pages_show_list", "pages_manage_metadata",
                                         "instagram_basic"])
        rc, out, err = self.connect(worse)
        self.assertEqual(rc, 0, err)
        self.assertIn("kept the stored token of 'Northwind Coffee' (%s)" % PAGE_ID, out)
        self.assertIn("kept the stored token of Instagram account @northwind.coffee", out)
        self.assertEqual(self.token_blobs(), before)
        for a in self.list_json().values():
            self.assertIn("pages_messaging", a["scopes"])  # the stored token's grant
        rc, out, err = self.connect(self.emu.user_token())  # as good again: replaced
        self.assertEqual(rc, 0, err)
        after = self.token_blobs()
        self.assertNotIn("kept the stored token", out)
        self.assertNotEqual(after[("messenger", PAGE_ID)], before[("messenger", PAGE_ID)])

    def test_keys_rotate_beside_a_running_server(self):
        rc, out, err = self.connect(self.emu.user_token())
        self.assertEqual(rc, 0, err)
        server = Server(data_dir=self.data, secret=APP_SECRET)
        self.addCleanup(server.close)
        server.start()
        before = self.token_blobs()
        rc, out, err = self.run_sb("keys", "rotate")
        self.assertEqual(rc, 0, err)
        self.assertIn("Added a new master key", out)
        self.assertIn("re-encrypted 3 tokens (0 already under the current key)", out)
        with open(os.path.join(self.data, "master.key")) as f:
            self.assertEqual(len(f.read().split()), 2)  # the old key stays for old rows
        after = self.token_blobs()
        self.assertEqual(set(after), set(before))
        for k in before:
            self.assertNotEqual(after[k], before[k])
            self.assertNotEqual(after[k][1:5], before[k][1:5])  # another key id
        self.assertEqual(server.get("/healthz").status, 200)
        self.assertEqual(len(self.list_json()), 3)
        # every token opens under the new key: a second rotation re-seals all three again
        rc, out, err = self.run_sb("keys", "rotate")
        self.assertEqual(rc, 0, err)
        self.assertIn("re-encrypted 3 tokens", out)
        rc, out, err = self.connect(self.emu.user_token())  # connect after rotation
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(self.list_json()), 3)
        self.assertEqual(server.stop(), 0)
        self.assertEqual(server.log_problems(), [])
        self.assert_no_plaintext_in_db()

    def test_keys_rotate_with_master_key_set(self):
        key = base64.b64encode(bytes(range(32))).decode()
        rc, out, err = self.connect(self.emu.user_token(), env=self.env(SB_MASTER_KEY=key))
        self.assertEqual(rc, 0, err)
        rc, out, err = self.run_sb("keys", "rotate", env=self.env(SB_MASTER_KEY=key))
        self.assertEqual(rc, 0, err)
        self.assertIn("SB_MASTER_KEY is set, so no key was added", out)
        self.assertIn("re-encrypted 0 tokens (3 already under the current key)", out)
        # a wrong key opens nothing: rotation says so and fails
        rc, out, err = self.run_sb("keys", "rotate", env=self.env(SB_MASTER_KEY=base64.b64encode(b"r" * 32).decode()))
        self.assertEqual(rc, 1)
        self.assertIn("3 tokens could not be opened", err.splitlines()[-1])
