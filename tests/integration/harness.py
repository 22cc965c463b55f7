"""Test harness for the Switchboard integration suite (Python 3 standard library only).

Starts the real server binary (SB_BIN) on a free 127.0.0.1 port with a fresh temporary
SB_DATA_DIR, talks to it over real HTTP, reads its SQLite database read-only, and stops it
with SIGTERM (or SIGKILL for the crash test). Every wait is bounded in time and in count;
every process and temporary directory is cleaned up, also when a test fails.
"""

import atexit
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.parse

HOST = "127.0.0.1"  # the only address this suite ever talks to

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def binary_path():
    """The server under test: $SB_BIN (relative to the current directory, else to the repo
    root), default build/asan/switchboard."""
    p = os.environ.get("SB_BIN", "build/asan/switchboard")
    if os.path.isabs(p):
        return p
    if os.path.exists(p):
        return os.path.abspath(p)
    return os.path.join(REPO_ROOT, p)


# Every server process started by this module, so that nothing outlives the suite.
_LIVE = set()


def _kill_leftovers():
    for proc in list(_LIVE):
        if proc.poll() is None:
            try:
                proc.kill()
                proc.wait(timeout=10)
            except Exception:
                pass
        _LIVE.discard(proc)


atexit.register(_kill_leftovers)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def sign(secret, body):
    """The X-Hub-Signature-256 value Meta would send for body."""
    if isinstance(secret, str):
        secret = secret.encode()
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def base_env():
    """The parent environment without any SB_* key (so a developer's settings never leak in)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SB_")}


def deadline_loop(timeout, interval=0.05, max_iter=None):
    """Yields until timeout seconds have passed (and at most max_iter times)."""
    end = time.monotonic() + timeout
    if max_iter is None:
        max_iter = int(timeout / interval) + 2
    for i in range(max_iter):
        yield i
        if time.monotonic() >= end:
            return
        time.sleep(interval)


# ---------------------------------------------------------------- payloads

IG_ACCOUNT = "17841405309211844"


def ig_dm(mid, text=None, sender="7061839550569623", ts_ms=None):
    """A realistic Instagram DM delivery (the shape of peers/bench/payloads/instagram-dm.json)."""
    ts_ms = ts_ms or int(time.time() * 1000)
    if text is None:
        text = "Hi! Do you still have the linen shirt in size M? (" + mid[-12:] + ")"
    doc = {
        "object": "instagram",
        "entry": [{
            "time": ts_ms + 400,
            "id": IG_ACCOUNT,
            "messaging": [{
                "sender": {"id": sender},
                "recipient": {"id": IG_ACCOUNT},
                "timestamp": ts_ms,
                "message": {"mid": mid, "text": text},
            }],
        }],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def unique_mid(tag="m"):
    return "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE" + tag + secrets.token_hex(12)


# ---------------------------------------------------------------- HTTP

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self):
        return "Response(%d, %r)" % (self.status, self.body[:200])


def http_request(port, method, path, body=None, headers=None, timeout=15):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def raw_request(port, head, body=b"", timeout=20, chunk=64 * 1024):
    """Sends head (request line and headers, without the blank line) and body over a raw
    socket, stopping early when the server answers before the body is complete (as it may
    for a body that is too large). Returns the Response."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        s.setblocking(False)
        out = head.encode("latin-1") + b"\r\n\r\n" + body
        sent = 0
        got = b""
        end = time.monotonic() + timeout
        closed = False
        while time.monotonic() < end:
            want_write = [s] if sent < len(out) else []
            r, w, _ = select.select([s], want_write, [], 0.2)
            if r:
                try:
                    data = s.recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    data = b""
                if not data:
                    closed = True
                    break
                got += data
                resp = _parse_response(got)
                if resp is not None:
                    return resp
                continue
            if w:
                try:
                    sent += s.send(out[sent:sent + chunk])
                except (BlockingIOError, InterruptedError):
                    pass
                except (ConnectionResetError, BrokenPipeError):
                    sent = len(out)  # the server stopped reading; its answer may follow
        resp = _parse_response(got, eof=closed)
        if resp is None:
            raise AssertionError("no complete HTTP response (got %r)" % got[:200])
        return resp
    finally:
        s.close()


def _parse_response(data, eof=False):
    sep = data.find(b"\r\n\r\n")
    if sep < 0:
        return None
    lines = data[:sep].decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        raise AssertionError("bad status line %r" % lines[0])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    body = data[sep + 4:]
    n = headers.get("content-length")
    if n is not None:
        if len(body) < int(n):
            return None
        body = body[:int(n)]
    elif not eof:
        return None
    return Response(int(m.group(1)), headers, body)


# ---------------------------------------------------------------- metrics

_METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(\s+-?\d+)?$")


def parse_metrics(text):
    """Prometheus text -> {"name{labels}": float}; raises on a line that is not valid."""
    out = {}
    for ln in text.splitlines():
        if not ln.strip() or ln.startswith("#"):
            if ln.startswith("#") and not re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* ", ln):
                raise AssertionError("bad metrics comment line: %r" % ln)
            continue
        m = _METRIC_LINE.match(ln)
        if not m:
            raise AssertionError("bad metrics line: %r" % ln)
        v = m.group(3)
        out[m.group(1) + (m.group(2) or "")] = float(v.replace("+Inf", "inf"))
    return out


# ---------------------------------------------------------------- logs

LOG_LEVELS = {"debug", "info", "warn", "error"}


def check_log_lines(text, forbidden=(), allow_torn_tail=False):
    """Returns a list of problems: lines that are not one JSON object with ts/level/event,
    and forbidden strings (secrets, message texts) found anywhere in the text."""
    problems = []
    lines = text.split("\n")
    tail = lines.pop()  # text after the last newline ('' when the text ends with one)
    if tail and not allow_torn_tail:
        lines.append(tail)
    for i, ln in enumerate(lines, 1):
        try:
            obj = json.loads(ln)
        except ValueError:
            problems.append("line %d is not JSON: %r" % (i, ln[:300]))
            continue
        if not isinstance(obj, dict):
            problems.append("line %d is not a JSON object: %r" % (i, ln[:300]))
            continue
        for k in ("ts", "level", "event"):
            if not isinstance(obj.get(k), str) or not obj.get(k):
                problems.append("line %d lacks a string %r: %r" % (i, k, ln[:300]))
        if obj.get("level") not in LOG_LEVELS:
            problems.append("line %d has level %r" % (i, obj.get("level")))
    for f in forbidden:
        if f and f in text:
            problems.append("log contains a forbidden string %r" % f)
    return problems


# ---------------------------------------------------------------- the server

class Server:
    """One switchboard serve process on a fresh (or a given) data directory."""

    def __init__(self, data_dir=None, env=None, secret=None, verify_token=None, args=(),
                 serve_args=()):
        self.own_root = tempfile.mkdtemp(prefix="sb-it-")
        self.data_dir = data_dir or os.path.join(self.own_root, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.secret = secret if secret is not None else "appsecret-" + secrets.token_hex(16)
        self.verify_token = (verify_token if verify_token is not None
                             else "verify-" + secrets.token_hex(12))
        self.extra_env = dict(env or {})
        self.args = list(args)              # before the command (e.g. --config FILE)
        self.serve_args = list(serve_args)  # after "serve" (e.g. --role ingest)
        self.proc = None
        self.port = None
        self.runs = []  # (stderr path, how it ended) for every process started
        self.sent_signatures = set()  # signature hex digests sent; never to be logged
        self._stderr_file = None

    # -- lifecycle

    def start(self, timeout=30):
        last = None
        for attempt in range(3):  # a free port may be taken between probe and bind
            self.port = free_port()
            env = base_env()
            env.update({
                "SB_LISTEN": "%s:%d" % (HOST, self.port),
                "SB_DATA_DIR": self.data_dir,
                "SB_META_APP_SECRET": self.secret,
                "SB_META_VERIFY_TOKEN": self.verify_token,
            })
            env.update(self.extra_env)
            path = os.path.join(self.own_root, "stderr-%d.log" % len(self.runs))
            self._stderr_file = open(path, "wb")
            self.proc = subprocess.Popen(
                [binary_path()] + self.args + ["serve"] + self.serve_args,
                env=env, cwd=self.own_root,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr_file)
            _LIVE.add(self.proc)
            self.runs.append([path, None])
            for _ in deadline_loop(timeout, 0.05):
                if self.proc.poll() is not None:
                    break
                try:
                    if http_request(self.port, "GET", "/healthz", timeout=2).status == 200:
                        return self
                except OSError:
                    pass
            rc = self.proc.poll()
            log = self.stderr(-1)
            self._reap()
            last = "server did not become healthy (exit code %r); stderr:\n%s" % (rc, log[-3000:])
            if rc is None or "bind" not in log:
                break
        raise AssertionError(last)

    def restart(self, timeout=30):
        """A new process on the same data directory (the previous one must be gone)."""
        assert self.proc is None or self.proc.poll() is not None
        return self.start(timeout)

    def _reap(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            _LIVE.discard(self.proc)
        if self._stderr_file:
            self._stderr_file.close()
            self._stderr_file = None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Sends sig and waits; returns the exit code (None and SIGKILL if it hangs)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        self.runs[-1][1] = "signal %d" % sig
        self._reap()
        return rc

    def kill9(self):
        assert self.proc is not None and self.proc.poll() is None, "server not running"
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.runs[-1][1] = "SIGKILL"
        self._reap()

    def close(self):
        self._reap()
        shutil.rmtree(self.own_root, ignore_errors=True)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # -- logs

    def stderr(self, run=-1):
        if not self.runs:
            return ""
        if self._stderr_file:
            self._stderr_file.flush()
        with open(self.runs[run][0], "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_events(self, run=-1):
        out = []
        for ln in self.stderr(run).splitlines():
            try:
                out.append(json.loads(ln))
            except ValueError:
                pass
        return out

    def log_problems(self, extra_forbidden=()):
        """Every stderr line of every run is a JSON object with ts/level/event; the app
        secret, the verify token, the signatures sent and extra_forbidden never appear."""
        problems = []
        for i, (path, how) in enumerate(self.runs):
            text = self.stderr(i)
            # A process killed with SIGKILL may in principle leave a torn last line.
            forbidden = [self.secret, self.verify_token] + sorted(self.sent_signatures)
            p = check_log_lines(text, forbidden + list(extra_forbidden),
                                allow_torn_tail=(how == "SIGKILL"))
            problems += ["run %d: %s" % (i, x) for x in p]
        return problems

    # -- HTTP

    def get(self, path, headers=None, timeout=15):
        return http_request(self.port, "GET", path, headers=headers, timeout=timeout)

    def post_webhook(self, body, signature="auto", headers=None, timeout=15):
        h = {"Content-Type": "application/json"}
        if signature == "auto":
            signature = sign(self.secret, body)
        if signature is not None:
            h["X-Hub-Signature-256"] = signature
            digest = signature.rpartition("=")[2]
            if len(digest) >= 32:
                self.sent_signatures.add(digest)
        h.update(headers or {})
        return http_request(self.port, "POST", "/webhooks/meta", body=body, headers=h,
                            timeout=timeout)

    def verify(self, params):
        return self.get("/webhooks/meta?" + urllib.parse.urlencode(params))

    def metrics(self):
        r = self.get("/metrics")
        assert r.status == 200, r
        return parse_metrics(r.body.decode())

    # -- database

    @property
    def db_path(self):
        return os.path.join(self.data_dir, "switchboard.db")

    def query(self, sql, args=(), attempts=50):
        """Runs sql on a read-only connection; retries briefly while the database is busy."""
        uri = "file:%s?mode=ro" % urllib.parse.quote(self.db_path)
        last = None
        for _ in range(attempts):
            try:
                con = sqlite3.connect(uri, uri=True, timeout=5)
                try:
                    return con.execute(sql, args).fetchall()
                finally:
                    con.close()
            except sqlite3.OperationalError as e:
                last = e
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
                time.sleep(0.05)
        raise last

    def scalar(self, sql, args=()):
        return self.query(sql, args)[0][0]

    def counts(self):
        return {t: self.scalar("SELECT count(*) FROM " + t)
                for t in ("jobs", "events", "dead_letters")}

    def pending_jobs(self):
        return self.scalar("SELECT count(*) FROM jobs WHERE state IN ('ready','running')")

    def wait_drained(self, timeout=20):
        """Waits until no job in the table is ready or running; returns True when that
        happened. A delivery answered 200 may still be in the server's intake journal and not
        yet in the table, so callers wait for what they expect first (wait_events,
        wait_scalar) and use this only as a final condition."""
        for _ in deadline_loop(timeout, 0.05):
            if self.pending_jobs() == 0:
                return True
        return False

    def event_counts(self):
        return dict(self.query("SELECT mid, count(*) FROM events WHERE mid IS NOT NULL"
                               " GROUP BY mid"))

    def wait_events(self, mids, timeout=20):
        """Waits until every mid is in `events` and no job is pending; returns
        {mid: number of rows} for every mid in the table."""
        want = set(mids)
        got = {}
        for _ in deadline_loop(timeout, 0.05):
            got = self.event_counts()
            if want <= got.keys() and self.pending_jobs() == 0:
                break
        return got

    def wait_scalar(self, sql, expected, timeout=20, args=()):
        """Waits until the one-value query returns expected; returns the last value."""
        got = None
        for _ in deadline_loop(timeout, 0.05):
            got = self.scalar(sql, args)
            if got == expected:
                break
        return got

    def wait_metric(self, key, value, timeout=5):
        """Waits until metric key equals value (gauges are cached for a second)."""
        got = None
        for _ in deadline_loop(timeout, 0.1):
            got = self.metrics().get(key)
            if got == value:
                return got
        return got


# ---------------------------------------------------------------- base test case

class ServerTestCase(unittest.TestCase):
    """Gives each test helpers to start servers that are always cleaned up."""

    maxDiff = 4000

    def start_server(self, **kw):
        s = Server(**kw)
        self.addCleanup(s.close)
        s.start()
        return s

    def stop_and_check(self, server, sig=signal.SIGTERM, forbidden=()):
        """Stops server gracefully: exit code 0, every log line JSON, no secret logged."""
        rc = server.stop(sig)
        log = server.stderr(-1)
        self.assertEqual(rc, 0, "exit code after %s; stderr tail:\n%s" % (
            signal.Signals(sig).name, log[-3000:]))
        problems = server.log_problems(forbidden)
        self.assertEqual(problems, [], "log problems")
