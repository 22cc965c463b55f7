"""Token health: `serve` (its scheduler checking every second) against the local Meta after
`accounts connect`. A user who removes the app, or a token Meta calls expired, ends with the
accounts holding that token `needs_reconnect` with a plain reason, one log line each (no
storm), the gauges and counters showing it and /api/accounts carrying the banner; a 500 from
Meta changes nothing and is counted as an error; access that ends within 7 days is warned
about. No token appears in any output."""

import json
import sqlite3
import subprocess
import time

from emu import APP_ID, APP_SECRET, IG_ID, PAGE2_ID, PAGE_ID, EmulatorTestCase
from harness import base_env, binary_path, deadline_loop
from test_dashboard_auth import Client, add_user

ADMIN_ASID = "10160000000000001"
EMAIL = "ana@shop.example"
DAY_MS = 24 * 3600 * 1000
ALL = {PAGE_ID, PAGE2_ID, IG_ID}


class TestTokenHealth(EmulatorTestCase):
    def setUp(self):
        self.emu = self.start_emulator()  # no deauthorize URL: Meta tells nobody, as it may
        self.server = self.start_server(secret=APP_SECRET, env={
            "SB_META_APP_ID": APP_ID, "SB_META_GRAPH_URL": self.emu.base,
            "SB_META_GRAPH_VERSION": "v24.0", "SB_TOKEN_CHECK_INTERVAL_S": "1"})
        self.tokens = []
        self.connect()
        self.wait_checks("valid", 2)  # a round ran over both distinct tokens

    def tearDown(self):
        if self.server.alive():
            self.stop_and_check(self.server, forbidden=["EAA"] + self.tokens)

    # -- helpers

    def connect(self):
        token = self.emu.user_token()
        self.tokens.append(token)
        env = base_env()
        env.update({"SB_DATA_DIR": self.server.data_dir, "SB_META_APP_ID": APP_ID,
                    "SB_META_APP_SECRET": APP_SECRET, "SB_META_GRAPH_URL": self.emu.base})
        r = subprocess.run([binary_path(), "accounts", "connect", "--user-token", "-"],
                           input=(token + "\n").encode(), env=env, capture_output=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        for out in (r.stdout, r.stderr):
            self.assertNotIn(b"EAA", out)

    def statuses(self):
        return dict(self.server.query("SELECT external_id, status FROM accounts"))

    def wait_statuses(self, want, timeout=20):
        got = None
        for _ in deadline_loop(timeout, 0.1):
            got = self.statuses()
            if want(got):
                return got
        self.fail("statuses never matched: %r" % got)

    def checks(self, result):
        return self.server.metrics().get(
            'switchboard_token_checks_total{result="%s"}' % result, 0)

    def wait_checks(self, result, at_least, timeout=20):
        for _ in deadline_loop(timeout, 0.1):
            if self.checks(result) >= at_least:
                return
        self.fail("token checks %s never reached %d: %r" % (
            result, at_least, self.server.stderr()[-2000:]))

    def events(self, name):
        return [e for e in self.server.log_events() if e.get("event") == name]

    def gauges(self):
        m = self.server.metrics()
        out = {s: m['switchboard_accounts{status="%s"}' % s]
               for s in ("active", "needs_reconnect", "revoked")}
        out["expiring"] = m["switchboard_accounts_token_expiring"]
        return out

    def api_accounts(self):
        c = Client(self.server)
        if add_user(self.server, EMAIL).returncode not in (0, 1):  # 1: already there
            self.fail("user add failed")
        self.assertEqual(c.login(EMAIL).status, 200)
        r = c.request("GET", "/api/accounts")
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(b"EAA", r.body)
        self.assertNotIn(b"token_enc", r.body)
        body = json.loads(r.body)
        return {a["external_id"]: a for a in body["accounts"]}, body["banner"]

    def write_db(self, sql, args=()):
        con = sqlite3.connect(self.server.db_path, timeout=10)
        try:
            con.execute(sql, args)
            con.commit()
        finally:
            con.close()

    def fault(self, kind, count=1):
        r = self.emu.control("POST", "/_emulator/faults",
                             {"kind": kind, "path": "/debug_token", "count": count})
        self.assertEqual(r.status // 100, 2, r)

    # -- tests

    def test_healthy_accounts(self):
        self.assertEqual(set(self.statuses().values()), {"active"})
        self.assertEqual(self.gauges(), {"active": 3, "needs_reconnect": 0, "revoked": 0,
                                         "expiring": 0})
        accts, banner = self.api_accounts()
        self.assertIsNone(banner)
        self.assertEqual(set(accts), ALL)
        ig = accts[IG_ID]
        self.assertEqual((ig["platform"], ig["page_id"], ig["username"], ig["status"]),
                         ("instagram", PAGE_ID, "northwind.coffee", "active"))
        self.assertIsNone(ig["token_expires_at"])  # Page tokens from a long-lived login
        self.assertTrue(ig["data_access_expires_at"].endswith("Z"))
        self.assertIn("messages", ig["subscribed_fields"])
        for a in accts.values():
            self.assertIsNone(a["warning"])
            self.assertIsNone(a["status_reason"])
            quota = {"quota"} if a["platform"] == "instagram" else set()  # the publishing quota
            self.assertEqual(set(a), {
                "id", "platform", "external_id", "page_id", "name", "username", "status",
                "status_reason", "token_expires_at", "data_access_expires_at",
                "subscribed_fields", "warning", "sends_paused_until", "last_event_at",
                "silent", "silent_since"} | quota)
        self.assertEqual(self.checks("invalid"), 0)
        # every round asks once per distinct token: 2 tokens for 3 accounts
        rounds = self.events("token.checked")
        self.assertTrue(rounds)
        for e in rounds:  # (a round with no account connected yet logs nothing)
            self.assertEqual((e["accounts"], e["tokens"], e["valid"]), (3, 2, 2), e)

    def test_api_accounts_needs_a_session(self):
        r = self.server.get("/api/accounts")
        self.assertEqual(r.status, 401)
        self.assertNotIn(b"northwind", r.body)

    def test_deauthorized_user_marks_every_account_once(self):
        r = self.emu.control("POST", "/_emulator/users/%s/deauthorize" % ADMIN_ASID)
        self.assertEqual(r.status, 409, r)  # nobody to tell; the tokens are dead all the same
        self.wait_statuses(lambda s: set(s.values()) == {"needs_reconnect"})
        reasons = {r for (r,) in self.server.query("SELECT status_reason FROM accounts")}
        self.assertEqual(reasons, {"Meta says the token is no longer valid (code 190/458: the "
                                   "app was removed from the account); reconnect from the "
                                   "dashboard"})
        invalid = self.checks("invalid")
        self.assertEqual(invalid, 2)  # one per token
        time.sleep(2.5)  # more rounds: nothing is asked or logged again
        self.assertEqual(self.checks("invalid"), invalid)
        marked = self.events("account.needs_reconnect")
        self.assertEqual(sorted(e["external_id"] for e in marked), sorted(ALL))
        for e in marked:
            self.assertEqual((e["level"], e["code"], e["subcode"]), ("warn", 190, 458))
        rounds = self.events("token.checked")  # rounds with no active account log at debug
        self.assertEqual(sum(e["marked"] for e in rounds), 3)
        self.assertEqual((rounds[-1]["invalid"], rounds[-1]["marked"]), (2, 3))
        self.assertEqual(self.gauges(), {"active": 0, "needs_reconnect": 3, "revoked": 0,
                                         "expiring": 0})
        accts, banner = self.api_accounts()
        self.assertTrue(banner.startswith("3 accounts need reconnecting: "), banner)
        for name in ("Northwind Coffee (Facebook Page)", "Northwind Outlet (Facebook Page)",
                     "@northwind.coffee (Instagram)", "reconnects from the dashboard"):
            self.assertIn(name, banner)
        for a in accts.values():
            self.assertEqual(a["status"], "needs_reconnect")
            self.assertIn("190/458", a["status_reason"])
            self.assertTrue(a["warning"].startswith("Needs reconnecting: Meta says"), a)

    def test_token_expired_answer_marks_that_tokens_accounts(self):
        self.fault("token_expired")
        got = self.wait_statuses(lambda s: "needs_reconnect" in s.values())
        dead = {k for k, v in got.items() if v == "needs_reconnect"}
        self.assertIn(dead, ({PAGE_ID, IG_ID}, {PAGE2_ID}))  # the Page goes with its Instagram
        time.sleep(2.5)  # later rounds find the other token valid and leave things be
        self.assertEqual({k for k, v in self.statuses().items() if v == "needs_reconnect"}, dead)
        self.assertEqual(self.checks("invalid"), 1)
        reason = self.server.scalar("SELECT status_reason FROM accounts WHERE status ="
                                    " 'needs_reconnect' LIMIT 1")
        self.assertEqual(reason, "Meta says the token is no longer valid (code 190/463: session "
                                 "expired); reconnect from the dashboard")
        self.assertEqual(len(self.events("account.needs_reconnect")), len(dead))
        g = self.gauges()
        self.assertEqual((g["active"], g["needs_reconnect"]), (3 - len(dead), len(dead)))
        _, banner = self.api_accounts()
        self.assertIn("need%s reconnecting" % ("s" if len(dead) == 1 else ""), banner)

    def test_meta_error_changes_nothing_and_is_counted(self):
        errors = self.checks("error")
        self.fault("http_500")
        self.wait_checks("error", errors + 1)
        valid = self.checks("valid")
        self.wait_checks("valid", valid + 2)  # the next round checks both tokens again
        self.assertEqual(set(self.statuses().values()), {"active"})
        self.assertEqual(self.checks("error"), errors + 1)  # not retried
        self.assertEqual(self.checks("invalid"), 0)
        failed = self.events("token.check_failed")
        self.assertEqual(len(failed), 1)
        self.assertEqual((failed[0]["class"], failed[0]["http_status"]), ("transient", 500))
        self.assertEqual(self.events("account.needs_reconnect"), [])
        _, banner = self.api_accounts()
        self.assertIsNone(banner)

    def test_access_ending_within_7_days_is_warned_about(self):
        soon = int(time.time() * 1000) + 3 * DAY_MS + DAY_MS // 2
        self.write_db("UPDATE accounts SET data_access_expires_at = ? WHERE page_id = ?",
                      (soon, PAGE_ID))
        warned = []
        for _ in deadline_loop(20, 0.1):
            warned = self.events("token.expiring")
            if len(warned) >= 2:
                break
        self.assertEqual({e["external_id"] for e in warned}, {PAGE_ID, IG_ID})
        for e in warned:
            self.assertEqual((e["level"], e["days_left"], e["which"]), ("warn", 3, "data_access"))
        self.assertEqual(self.gauges()["expiring"], 2)
        accts, banner = self.api_accounts()
        self.assertTrue(banner.startswith("Access for "), banner)
        for name in ("Northwind Coffee (Facebook Page)", "@northwind.coffee (Instagram)"):
            self.assertIn(name + " ends in 3 days (on ", banner)
        self.assertTrue(accts[PAGE_ID]["warning"].startswith(
            "Data access for its login ends in 3 days (on "), accts[PAGE_ID])
        self.assertIsNone(accts[PAGE2_ID]["warning"])
        self.assertEqual(set(self.statuses().values()), {"active"})  # a warning, not a death
