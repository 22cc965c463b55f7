"""What the reply tests share: the local Meta (emu.py) with the demo Page connected to a
server that answers from examples/kb without an LLM, and helpers to make a customer write,
read what Meta received, read our rows and set the emulator's faults.

    class TestX(ReplyTestCase):
        def test_y(self):
            thread = self.customer_says("do you ship to canada?")["thread"]
            got = self.wait_replies(thread, 1)
"""

import os
import subprocess

from emu import APP_ID, APP_SECRET, PAGE_ID, Emulator, EmulatorTestCase
from harness import base_env, binary_path, deadline_loop

KB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "kb")


class ReplyTestCase(EmulatorTestCase):
    emulator_args = ["--webhook-retry-ms", "100"]
    server_env = {}  # more SB_* settings for a class's server

    def setUp(self):
        # The emulator first (the server needs its URL), then the server, then the webhook.
        self.emu = Emulator(args=list(self.emulator_args))
        self.addCleanup(self.emu.stop)
        self.emu.start()
        env = {"SB_META_APP_ID": APP_ID, "SB_META_GRAPH_URL": self.emu.base,
               "SB_META_GRAPH_VERSION": "v24.0", "SB_TURN_BURST_MS": "200",
               "SB_KB_DIR": os.path.normpath(KB_DIR), "SB_BUSINESS_NAME": "Northwind Coffee"}
        env.update(self.server_env)
        self.server = self.start_server(secret=APP_SECRET, env=env)
        self.point_webhook()
        rc, _, err = self.run_sb("accounts", "connect", "--user-token", "-",
                                 stdin=self.emu.user_token() + "\n")
        self.assertEqual(rc, 0, err)
        self.customers = self.emu.state()["customers"]
        self.assertEqual(self.server.wait_scalar("SELECT count(*) FROM kb_documents", 4), 4)

    def point_webhook(self):
        r = self.emu.control("POST", "/_emulator/config", {
            "webhook_url": "http://127.0.0.1:%d/webhooks/meta" % self.server.port})
        self.assertEqual(r.status // 100, 2, r)

    def run_sb(self, *args, stdin=None):
        env = base_env()
        env.update({"SB_DATA_DIR": self.server.data_dir, "SB_META_GRAPH_URL": self.emu.base,
                    "SB_META_GRAPH_VERSION": "v24.0", "SB_META_APP_ID": APP_ID,
                    "SB_META_APP_SECRET": APP_SECRET})
        r = subprocess.run([binary_path()] + list(args), input=(stdin or "").encode(), env=env,
                           capture_output=True, timeout=60)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def customer_says(self, text, customer=0, channel="messenger", page=0):
        body = {"channel": channel, "text": text}
        if page:
            body["page"] = page
        r = self.emu.control("POST", "/_emulator/customers/%d/messages" % customer, body)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def thread(self, thread):
        r = self.emu.control("GET", "/_emulator/threads/%s" % thread)
        self.assertEqual(r.status, 200, r)
        return r.json()["messages"]

    def replies(self, thread):
        return [m for m in self.thread(thread) if m["direction"] == "out"]

    def wait_replies(self, thread, n, timeout=10):
        got = []
        for _ in deadline_loop(timeout, 0.05):
            got = self.replies(thread)
            if len(got) >= n:
                break
        return got

    def out_rows(self):
        return self.server.query("SELECT author, status, mid, correlation, error_message"
                                 " FROM messages WHERE direction = 'out' ORDER BY id")

    def conversation_of(self, customer=0, page_id=PAGE_ID, timeout=10):
        """The customer's conversation, waiting for its webhook to be stored."""
        psid = self.customers[customer]["psid"][page_id]
        for _ in deadline_loop(timeout, 0.05):
            rows = self.server.query("SELECT v.id FROM conversations v JOIN contacts c"
                                     " ON c.id = v.contact_id WHERE c.scoped_id = ?", (psid,))
            if rows:
                return rows[0][0]
        self.fail("no conversation for customer %d" % customer)

    def mode(self, customer=0, page_id=PAGE_ID):
        psid = self.customers[customer]["psid"][page_id]
        return self.server.query("SELECT v.mode, v.handoff_reason FROM conversations v"
                                 " JOIN contacts c ON c.id = v.contact_id WHERE c.scoped_id = ?",
                                 (psid,))[0]

    def fault(self, kind, count=1, path="/messages", method="POST", **extra):
        body = {"kind": kind, "path": path, "method": method, "count": count}
        body.update(extra)
        r = self.emu.control("POST", "/_emulator/faults", body)
        self.assertEqual(r.status // 100, 2, r)

    def faults_left(self):
        return sum(f["count"] for f in self.emu.control("GET", "/_emulator/faults")
                   .json()["faults"])

    def log_count(self, event):
        return sum(1 for e in self.server.log_events() if e.get("event") == event)
