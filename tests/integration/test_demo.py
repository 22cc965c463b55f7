"""`switchboard demo`: runs end to end with no accounts, explains what it did, stops on SIGINT."""

import os
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
        proc = subprocess.Popen([harness.binary_path(), "demo"], cwd=work, env=env,
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
        # Each delivery got the answer Meta would get.
        self.assertRegex(text, r"Instagram DM with an emoji.*-> HTTP 200")
        self.assertRegex(text, r"the same delivery again.*-> HTTP 200")
        self.assertRegex(text, r"wrong secret\s+-> HTTP 403")
        self.assertRegex(text, r"no signature\s+-> HTTP 403")
        self.assertRegex(text, r"not JSON\s+-> HTTP 200")
        # Four events, stored once each, with the emoji decoded from its escapes.
        self.assertIn("Hi! Do you ship to Canada? \U0001F4E6", text)
        self.assertRegex(text, r"instagram\s+changes\s+comment")
        self.assertRegex(text, r"page\s+messaging\s+reaction")
        self.assertIn('switchboard_webhooks_received_total{result="duplicate"} 1', text)
        self.assertIn('switchboard_webhooks_received_total{result="rejected"} 2', text)
        self.assertIn("switchboard_dead_letters 1", text)
        self.assertIn("Stopped.", text)
        harness.check_log_lines(err.decode("utf-8", "replace"),
                                forbidden=("switchboard-demo-app-secret",))


if __name__ == "__main__":
    unittest.main()
