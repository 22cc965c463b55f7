"""Conversations from webhooks, end to end: the local Meta (emu.py) delivers customers'
messages to `serve`, `accounts connect` has stored the Page and the Instagram account, and
`switchboard conversations list --json` shows each conversation with mode ai and an open
window; a reply the business sends from outside Switchboard (the Send API called directly with
the Page token, as Business Suite would) comes back as an echo and pauses the AI; a delivery
replayed is one message. Window edges are unit-tested (tests/unit/inbox/test_window.c): the
server keeps its own clock."""

import json
import subprocess
import time

from emu import APP_ID, APP_SECRET, IG_ID, PAGE_ID, Emulator, EmulatorTestCase
from harness import base_env, binary_path, deadline_loop


class TestConversations(EmulatorTestCase):
    def setUp(self):
        # No SB_META_APP_ID on the server: no echo counts as its own send, as with a reply
        # typed in Business Suite (whose app id differs from ours).
        self.server = self.start_server(secret=APP_SECRET)
        self.emu = Emulator(webhook="http://127.0.0.1:%d/webhooks/meta" % self.server.port,
                            args=["--webhook-retry-ms", "100"])
        self.addCleanup(self.emu.stop)
        self.emu.start()
        rc, _, err = self.run_sb("accounts", "connect", "--user-token", "-",
                                 stdin=self.emu.user_token() + "\n", app=True)
        self.assertEqual(rc, 0, err)
        self.customers = self.emu.state()["customers"]

    def run_sb(self, *args, stdin=None, app=False):
        env = base_env()
        env.update({"SB_DATA_DIR": self.server.data_dir, "SB_META_GRAPH_URL": self.emu.base,
                    "SB_META_GRAPH_VERSION": "v24.0"})
        if app:
            env.update({"SB_META_APP_ID": APP_ID, "SB_META_APP_SECRET": APP_SECRET})
        r = subprocess.run([binary_path()] + list(args), input=(stdin or "").encode(), env=env,
                           capture_output=True, timeout=60)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def conversations(self, *extra):
        rc, out, err = self.run_sb("conversations", "list", "--json", *extra)
        self.assertEqual(rc, 0, err)
        return [json.loads(line) for line in out.splitlines()]

    def customer_says(self, channel, text, customer=0):
        r = self.emu.control("POST", "/_emulator/customers/%d/messages" % customer,
                             {"channel": channel, "text": text})
        self.assertEqual(r.status, 200, r)
        return r.json()["mid"]

    def wait_messages(self, sql, expected, timeout=20):
        got = None
        for _ in deadline_loop(timeout, 0.05):
            got = self.server.query(sql)[0][0]
            if got == expected:
                break
        return got

    def test_customers_become_conversations_open_with_the_ai(self):
        mids = [self.customer_says("instagram", "Do you ship to Canada?"),
                self.customer_says("messenger", "Open on Sunday?", customer=1)]
        self.server.wait_events(mids)
        self.assertEqual(self.wait_messages("SELECT count(*) FROM messages", 2), 2)
        rows = {c["scoped_id"]: c for c in self.conversations()}
        ig = rows[self.customers[0]["igsid"]]
        fb = rows[self.customers[1]["psid"][PAGE_ID]]
        self.assertEqual((ig["platform"], ig["account"]), ("instagram", IG_ID))
        self.assertEqual((fb["platform"], fb["account"]), ("messenger", PAGE_ID))
        for c in (ig, fb):
            self.assertEqual(c["mode"], "ai")
            self.assertEqual(c["window"], "open")
            self.assertIsNone(c["handoff_reason"])
            self.assertIsNotNone(c["last_message_at"])
        self.assertEqual(len(self.conversations("--mode", "ai")), 2)
        self.assertEqual(self.conversations("--mode", "closed"), [])
        rc, out, _ = self.run_sb("conversations", "list")
        self.assertEqual(rc, 0)
        self.assertIn("open 24h left", out)
        self.assertNotIn("Do you ship", out)  # never message text
        rc, _, err = self.run_sb("conversations", "list", "--mode", "sideways")
        self.assertEqual(rc, 2, err)
        self.stop_and_check(self.server)

    def test_a_reply_from_meta_apps_pauses_the_ai(self):
        psid = self.customers[1]["psid"][PAGE_ID]
        self.server.wait_events([self.customer_says("messenger", "Hello?", customer=1)])
        r = self.emu.graph("POST", "/%s/messages" % PAGE_ID, token=self.emu.page_token(),
                           json_body={"recipient": {"id": psid}, "messaging_type": "RESPONSE",
                                      "message": {"text": "Hi, Dana here from the shop"}})
        self.assertEqual(r.status, 200, r)
        echo_mid = r.json()["message_id"]
        self.assertEqual(self.wait_messages(
            "SELECT count(*) FROM messages WHERE author = 'business' AND direction = 'out'"
            " AND status = 'sent'", 1), 1)
        got = self.server.query("SELECT mid FROM messages WHERE author = 'business'")
        self.assertEqual(got, [(echo_mid,)])
        conv = {c["scoped_id"]: c for c in self.conversations()}[psid]
        self.assertEqual(conv["mode"], "paused")
        self.assertEqual(conv["handoff_reason"], "a person replied from Meta's apps")
        self.assertEqual([c["scoped_id"] for c in self.conversations("--mode", "ai")], [])
        self.stop_and_check(self.server)

    def test_a_replayed_delivery_is_one_message(self):
        psid = self.customers[2]["psid"][PAGE_ID]
        ts = int(time.time() * 1000)
        body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": ts, "messaging": [{
            "sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": ts,
            "message": {"mid": "m_replayed_once", "text": "is this thing on?"}}]}]}).encode()
        for _ in range(3):
            self.assertEqual(self.server.post_webhook(body).status, 200)
        self.server.wait_events(["m_replayed_once"])
        self.assertEqual(self.wait_messages(
            "SELECT count(*) FROM messages WHERE mid = 'm_replayed_once'", 1), 1)
        time.sleep(0.3)  # a late duplicate would land now
        self.assertEqual(self.server.query(
            "SELECT count(*), max(unread) FROM messages JOIN conversations c"
            " ON c.id = conversation_id WHERE mid = 'm_replayed_once'"), [(1, 1)])
        self.stop_and_check(self.server)
