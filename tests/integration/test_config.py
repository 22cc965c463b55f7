"""Command line and configuration: usage errors exit 2 with exactly one line on stderr."""

import base64
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import (HOST, ServerTestCase, base_env, binary_path, check_log_lines, free_port,
                     http_request)


class Cli:
    """Runs the binary once with a controlled environment; never leaves a process behind."""

    def __init__(self, test):
        self.tmp = tempfile.mkdtemp(prefix="sb-it-cfg-")
        test.addCleanup(shutil.rmtree, self.tmp, True)
        self.port = free_port()

    def env(self, **extra):
        e = base_env()
        e.update({"SB_LISTEN": "%s:%d" % (HOST, self.port),
                  "SB_DATA_DIR": os.path.join(self.tmp, "data")})
        e.update(extra)
        return {k: v for k, v in e.items() if v is not None}

    def run(self, args, env=None, timeout=20):
        p = subprocess.Popen([binary_path()] + list(args), env=env or self.env(), cwd=self.tmp,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate(timeout=10)
            raise AssertionError("%r did not exit within %d s (a config error must not start "
                                 "a server); stderr: %r" % (args, timeout, err[-2000:]))
        return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path


class UsageErrorTests(unittest.TestCase):

    def assert_usage_error(self, cli, args, env=None, not_in_message=()):
        rc, out, err = cli.run(args, env)
        self.assertEqual(rc, 2, "exit code for %r; stderr %r" % (args, err))
        lines = err.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.assertEqual(len(lines), 1, "stderr must be exactly one line, got %r" % err)
        self.assertTrue(lines[0].strip(), "empty error line")
        for s in not_in_message:
            self.assertNotIn(s, err)
        return lines[0]

    def test_bad_listen_addresses(self):
        cli = Cli(self)
        for v in ["nonsense", "127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:0",
                  "127.0.0.1:70000", "127.0.0.1:80x", "127.0.0.1:-1", "999.1.1.1:8080",
                  "127.0.0.1:8080 "]:
            with self.subTest(SB_LISTEN=v):
                self.assert_usage_error(cli, ["serve"], cli.env(SB_LISTEN=v))

    def test_bad_urls(self):
        cli = Cli(self)
        cases = [("SB_PUBLIC_URL", "not a url"), ("SB_PUBLIC_URL", "ftp://example.com"),
                 ("SB_META_GRAPH_URL", "graph.facebook.com"), ("SB_META_GRAPH_URL", "http://"),
                 ("SB_META_OAUTH_URL", "https://exa mple.com"),
                 ("SB_LLM_URL", "localhost:11434/v1"),
                 ("SB_DATABASE_URL", "mysql://db/x"), ("SB_REDIS_URL", "http://127.0.0.1:6379")]
        for key, v in cases:
            with self.subTest(key=key, value=v):
                self.assert_usage_error(cli, ["serve"], cli.env(**{key: v}))

    def test_bad_master_key_is_not_echoed(self):
        cli = Cli(self)
        for v in ["not-base64!!!secretvalue", base64.b64encode(b"k" * 16).decode(),
                  base64.b64encode(b"k" * 33).decode()]:
            with self.subTest(SB_MASTER_KEY=v):
                self.assert_usage_error(cli, ["serve"], cli.env(SB_MASTER_KEY=v),
                                        not_in_message=[v])

    def test_non_integer_and_out_of_range_workers(self):
        cli = Cli(self)
        for v in ["four", "4x", "", "4.0", "0x4", " 4", "99999999999999999999999", "0", "-1"]:
            with self.subTest(SB_WORKERS=v):
                self.assert_usage_error(cli, ["serve"], cli.env(SB_WORKERS=v))

    def test_other_bad_integers(self):
        cli = Cli(self)
        for key, v in [("SB_WEBHOOK_MAX_BYTES", "1MiB"), ("SB_WEBHOOK_MAX_BYTES", "0")]:
            with self.subTest(key=key, value=v):
                self.assert_usage_error(cli, ["serve"], cli.env(**{key: v}))

    def test_bad_log_level(self):
        cli = Cli(self)
        self.assert_usage_error(cli, ["serve"], cli.env(SB_LOG_LEVEL="loud"))

    def test_config_file_errors(self):
        cli = Cli(self)
        missing = os.path.join(cli.tmp, "no-such-file.env")
        self.assert_usage_error(cli, ["--config", missing, "serve"])
        self.assert_usage_error(cli, ["serve", "--config"])
        unknown = cli.write("unknown.env", "SB_LISTEN=127.0.0.1:%d\nSB_NO_SUCH_KEY=1\n" % cli.port)
        line = self.assert_usage_error(cli, ["--config", unknown, "serve"])
        self.assertIn("SB_NO_SUCH_KEY", line)
        typo = cli.write("typo.env", "SB_WORKER=4\n")
        self.assert_usage_error(cli, ["--config", typo, "serve"])
        garbage = cli.write("garbage.env", "this is not a key value line\n")
        self.assert_usage_error(cli, ["--config", garbage, "serve"])
        bad_int = cli.write("badint.env", "SB_WORKERS=many\n")
        self.assert_usage_error(cli, ["--config", bad_int, "serve"])
        secret = "SB_META_APP_SECRET=file-secret-%s\nSB_BOGUS=1\n" % cli.port
        path = cli.write("secret.env", secret)
        self.assert_usage_error(cli, ["--config", path, "serve"],
                                not_in_message=["file-secret-%s" % cli.port])

    def test_unknown_command_and_arguments(self):
        cli = Cli(self)
        self.assert_usage_error(cli, ["frobnicate"])
        self.assert_usage_error(cli, [])
        self.assert_usage_error(cli, ["serve", "--bogus"])
        self.assert_usage_error(cli, ["serve", "--role", "janitor"])

    def test_help_exits_0(self):
        cli = Cli(self)
        rc, out, err = cli.run(["help"])
        self.assertEqual(rc, 0, err)
        self.assertIn("serve", out)


class ConfigFileTests(ServerTestCase):

    def test_config_file_is_used_and_environment_wins(self):
        cli = Cli(self)
        port = free_port()
        path = cli.write("ok.env", "\n".join([
            "# a comment",
            "SB_LISTEN=%s:%d" % (HOST, port),
            "SB_DATA_DIR=%s" % os.path.join(cli.tmp, "data"),
            "SB_META_APP_SECRET=from-file-secret",
            'SB_META_VERIFY_TOKEN="token-from-file"',
            "SB_WORKERS=2", ""]))
        env = base_env()
        env["SB_META_VERIFY_TOKEN"] = "token-from-env"
        p = subprocess.Popen([binary_path(), "--config", path, "serve"], env=env, cwd=cli.tmp,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        self.addCleanup(_reap, p)
        up = False
        for _ in range(300):
            if p.poll() is not None:
                break
            try:
                up = http_request(port, "GET", "/healthz", timeout=2).status == 200
            except OSError:
                pass
            if up:
                break
            time.sleep(0.05)
        self.assertTrue(up, "server from --config did not listen on the file's SB_LISTEN")
        q = "/webhooks/meta?hub.mode=subscribe&hub.challenge=ch&hub.verify_token="
        self.assertEqual(http_request(port, "GET", q + "token-from-env").status, 200)
        self.assertEqual(http_request(port, "GET", q + "token-from-file").status, 403)
        p.terminate()
        _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err[-2000:])
        text = err.decode("utf-8", "replace")
        self.assertEqual(check_log_lines(text, ["from-file-secret", "token-from-env",
                                                "token-from-file"]), [])


def _reap(p):
    if p.poll() is None:
        p.kill()
    p.communicate(timeout=10)
