"""`switchboard demo`: runs end to end with no accounts, explains what it did, stops on SIGINT."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness


class DemoTests(unittest.TestCase):
    def test_demo_runs_end_to_end_and_stops_on_sigint(self):
        work = tempfile.mkdtemp(prefix="sbdemo.")
        self.addCleanup(shutil.rmtree, work, True)
        port = harness.free_port()
        env = harness.base_env()
        env.update({"SB_LISTEN": "127.0.0.1:%d" % port, "SB_DATA_DIR": os.path.join(work, "data")})
        env.pop("SB_META_APP_SECRET", None)  # the demo brings its own
        proc = subprocess.Popen([harness.binary_path(), "demo"], cwd=harness.REPO_ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = b""
        try:
            for _ in harness.deadline_loop(60):
                # The demo prints its closing line once it has sent everything and is serving.
                line = proc.stdout.readline()
                if not line:
                    break
                out += line
                if b"Ctrl-C stops it" in line:
                    break
            status = harness.http_request(port, "GET", "/healthz").status
            m = re.search(r"Customer simulator\s+http://127\.0\.0\.1:(\d+)/", out.decode())
            sim_status = harness.http_request(int(m.group(1)), "GET", "/").status if m else 0
            proc.send_signal(signal.SIGINT)
            rest, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        out += rest
        text = out.decode("utf-8", "replace")
        self.assertEqual(proc.returncode, 0, err.decode("utf-8", "replace")[-2000:])
        self.assertEqual(status, 200)
        # The real login flow against the local Meta connected the demo accounts.
        self.assertRegex(text, r"/oauth/start sends the browser to Facebook Login")
        self.assertIn("/oauth/callback answered 200", text)
        self.assertIn("Northwind Outlet", text)  # the Page without an Instagram account
        # Customers wrote through the emulator; its signed webhooks were stored once each,
        # the emoji decoded from Meta's escapes.
        self.assertEqual(text.count("-> sent"), 3, text)
        self.assertIn("4 documents indexed", text)  # examples/kb
        self.assertRegex(text, r'best match for "do you ship to canada\?": Shipping > .*shipping\.md')
        self.assertIn("Hi! Do you ship to Canada? \U0001F4E6", text)
        self.assertRegex(text, r"page\s+messaging\s+message")
        # ...and answered: from the knowledge base, or handed to a person.
        self.assertRegex(text, r"customer 0 <- I'm the AI assistant for "
                               r"Northwind Coffee\..*Canada")
        self.assertEqual(text.count("(no answer yet)"), 0, text)
        self.assertRegex(text, r"wrong secret\s+-> HTTP 403")
        self.assertRegex(text, r"no signature\s+-> HTTP 403")
        self.assertIn('switchboard_webhooks_received_total{result="rejected"} 2', text)
        self.assertRegex(text, r"Dashboard\s+http://127\.0\.0\.1:%d/  \(sign in as "
                               r"demo@northwind\.example, password \S+:" % port)
        self.assertEqual(sim_status, 200)
        self.assertIn("Stopped.", text)
        harness.check_log_lines(err.decode("utf-8", "replace"),
                                forbidden=tuple(re.findall(r"password (\S+):", text)))


if __name__ == "__main__":
    unittest.main()
