"""INTERFACE.md's command-line contract, from outside: exit codes 0 success, 1 runtime failure,
2 usage error, and "errors go to stderr as one clear line" (a one-shot command prints its
output and, on failure, that one line: no log lines around it unless SB_LOG_LEVEL asks)."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import base_env, binary_path, free_port


class TestContractCli(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="sb-ccli-")
        self.addCleanup(shutil.rmtree, self.root, True)

    def run_sb(self, *args, stdin="", **env):
        e = base_env()
        e["SB_DATA_DIR"] = os.path.join(self.root, "data")
        e.update(env)
        r = subprocess.run([binary_path()] + list(args), input=stdin.encode(), env=e,
                           capture_output=True, timeout=60)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def assert_one_line(self, err):
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, err[-3000:])
        self.assertTrue(lines[0].startswith("switchboard"), lines[0])
        self.assertFalse(lines[0].startswith("{"), lines[0])

    def test_usage_errors(self):
        for args in [(), ("bogus",), ("serve", "--bogus"), ("serve", "--role", "chef"),
                     ("migrate", "extra"), ("accounts",), ("accounts", "connect"),
                     ("accounts", "list", "--yaml"), ("conversations", "list", "--mode", "x"),
                     ("kb", "search"), ("user", "add"), ("--config",)]:
            with self.subTest(args=args):
                rc, out, err = self.run_sb(*args)
                self.assertEqual(rc, 2, err)
                self.assert_one_line(err)

    def test_configuration_error(self):
        rc, out, err = self.run_sb("migrate", SB_LISTEN="nowhere")
        self.assertEqual(rc, 2)
        self.assert_one_line(err)
        self.assertIn("SB_LISTEN", err)

    def test_runtime_failures(self):
        closed = "http://127.0.0.1:%d" % free_port()  # nothing listens there
        rc, out, err = self.run_sb("accounts", "connect", "--user-token", "-", stdin="tok\n",
                                   SB_META_APP_ID="1234", SB_META_APP_SECRET="s",
                                   SB_META_GRAPH_URL=closed)
        self.assertEqual(rc, 1)
        self.assert_one_line(err)
        rc, out, err = self.run_sb("kb", "add", os.path.join(self.root, "missing.md"))
        self.assertEqual(rc, 1)
        self.assert_one_line(err)

    def test_success_is_quiet(self):
        """A fresh data directory is migrated by the first command: no log lines for it."""
        rc, out, err = self.run_sb("accounts", "list", "--json")
        self.assertEqual((rc, out, err), (0, "", ""))
        rc, out, err = self.run_sb("conversations", "list", "--json")
        self.assertEqual((rc, out, err), (0, "", ""))

    def test_log_level_when_asked(self):
        rc, out, err = self.run_sb("migrate", SB_LOG_LEVEL="info")
        self.assertEqual(rc, 0, err)
        events = [json.loads(ln)["event"] for ln in err.splitlines()]
        self.assertIn("store.migrated", events)


if __name__ == "__main__":
    unittest.main()
