"""The local Meta for integration tests: starts `switchboard emulator` on a free loopback port,
and a webhook sink that records (and signature-checks) what the emulator delivers.

    emu = self.start_emulator(webhook=True)          # EmulatorTestCase helper
    r = emu.graph("GET", "/me/accounts", token=user_token, params={"fields": "id,name"})
    r.status, r.json()                               # Meta's JSON
    emu.control("POST", "/_emulator/customers/0/messages", {"channel": "instagram", "text": "hi"})
    emu.sink.wait(1)                                 # the deliveries the sink received
"""

import hashlib
import hmac
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.parse

from harness import (HOST, ServerTestCase, _LIVE, binary_path, deadline_loop, free_port,
                     http_request)

VERSION = "v24.0"
APP_ID = "1234567890123456"
APP_SECRET = "emulator-app-secret"
PAGE_ID = "104000000000001"
PAGE2_ID = "104000000000002"
IG_ID = "17841400000000001"


class Reply:
    def __init__(self, r):
        self.status = r.status
        self.headers = r.headers
        self.body = r.body

    def json(self):
        return json.loads(self.body)

    def error(self):
        """(code, subcode) of a Meta error object, or None."""
        try:
            e = self.json().get("error")
        except ValueError:
            return None
        if not e:
            return None
        return (e.get("code"), e.get("error_subcode"))

    def __repr__(self):
        return "Reply(%d, %r)" % (self.status, self.body[:400])


class Sink:
    """A webhook receiver: answers each POST with the next status in `statuses` (default 200)
    and records (status answered, headers, raw body, signature ok)."""

    def __init__(self, secret=APP_SECRET):
        self.secret = secret.encode()
        self.received = []
        self.statuses = []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        sink = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                want = "sha256=" + hmac.new(sink.secret, body, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(want, self.headers.get("X-Hub-Signature-256") or "")
                with sink.cond:
                    status = sink.statuses.pop(0) if sink.statuses else 200
                    sink.received.append({"status": status, "headers": dict(self.headers),
                                          "body": body, "signature_ok": ok})
                    sink.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, 0), H)
        self.port = self.server.server_address[1]
        self.url = "http://%s:%d/webhooks/meta" % (HOST, self.port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, n, timeout=10):
        """Waits until at least n deliveries were received; returns them all."""
        end = time.monotonic() + timeout
        with self.cond:
            while len(self.received) < n and time.monotonic() < end:
                self.cond.wait(0.05)
            return list(self.received)

    def events(self, accepted_only=True):
        """Every messaging/changes event of every delivery answered 200, in order."""
        out = []
        with self.lock:
            got = list(self.received)
        for d in got:
            if accepted_only and d["status"] != 200:
                continue
            body = json.loads(d["body"])
            for entry in body.get("entry", []):
                for key in ("messaging", "standby", "changes"):
                    for ev in entry.get(key, []):
                        out.append((body.get("object"), entry.get("id"), key, ev))
        return out

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Emulator:
    def __init__(self, args=(), webhook=None):
        self.args = list(args)
        self.webhook = webhook
        self.proc = None
        self.port = None
        self.root = tempfile.mkdtemp(prefix="sb-emu-")
        self.log_path = os.path.join(self.root, "emulator.log")

    def start(self, timeout=20):
        self.port = free_port()
        argv = [binary_path(), "emulator", "--listen", "%s:%d" % (HOST, self.port)]
        if self.webhook:
            argv += ["--webhook", self.webhook]
        argv += self.args
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._log)
        _LIVE.add(self.proc)
        for _ in deadline_loop(timeout, 0.05):
            if self.proc.poll() is not None:
                break
            try:
                http_request(self.port, "GET", "/_emulator/state", timeout=2)
                return self  # it answers
            except OSError:
                pass
        raise AssertionError("emulator did not start: " + self.stderr()[-2000:])

    def stderr(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                rc = self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait(timeout=10)
            _LIVE.discard(self.proc)
            self._log.close()
            return rc
        return self.proc.returncode if self.proc else None

    @property
    def base(self):
        return "http://%s:%d" % (HOST, self.port)

    # -- Graph API

    def graph(self, method, path, params=None, token=None, json_body=None, form=None,
              headers=None, version=VERSION, timeout=15):
        """A Graph call: params go in the query string, form as a urlencoded body, json_body
        as a JSON body. token is sent as access_token unless headers carry Authorization."""
        q = dict(params or {})
        if token is not None:
            q["access_token"] = token
        path = "/%s%s" % (version, path) if version else path
        if q:
            path += "?" + urllib.parse.urlencode(q)
        h = dict(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            h["Content-Type"] = "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        return Reply(http_request(self.port, method, path, body=body, headers=h,
                                  timeout=timeout))

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        h = {"Content-Type": "application/json"} if data is not None else {}
        return Reply(http_request(self.port, method, path, body=data, headers=h))

    def state(self):
        return self.control("GET", "/_emulator/state").json()

    # -- the login flow, as a browser would drive it

    def login(self, redirect_uri="http://127.0.0.1:1/oauth/callback", state="st4te",
              scope="pages_show_list,pages_messaging,pages_manage_metadata,"
                    "instagram_basic,instagram_manage_messages,instagram_content_publish"):
        """Runs the dialog (GET the page, POST its form) and returns the redirect's query
        as a dict (code and state, or error...)."""
        q = {"client_id": APP_ID, "redirect_uri": redirect_uri, "state": state,
             "scope": scope, "response_type": "code"}
        page = self.graph("GET", "/dialog/oauth", params=q)
        assert page.status == 200, page
        form = dict(q, decision="allow")
        r = self.graph("POST", "/dialog/oauth/confirm", form=form)
        assert r.status in (302, 303), r
        loc = r.headers.get("Location") or r.headers.get("location")
        return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(loc).query))

    def user_token(self, long_lived=True):
        """A user token for Dana Admin through the real flow (code exchange, then the
        fb_exchange_token exchange when long_lived)."""
        redirect = "http://127.0.0.1:1/oauth/callback"
        code = self.login(redirect_uri=redirect)["code"]
        r = self.graph("GET", "/oauth/access_token",
                       params={"client_id": APP_ID, "client_secret": APP_SECRET,
                               "redirect_uri": redirect, "code": code})
        assert r.status == 200, r
        tok = r.json()["access_token"]
        if not long_lived:
            return tok
        r = self.graph("GET", "/oauth/access_token",
                       params={"grant_type": "fb_exchange_token", "client_id": APP_ID,
                               "client_secret": APP_SECRET, "fb_exchange_token": tok})
        assert r.status == 200, r
        return r.json()["access_token"]

    def page_token(self, page_id=PAGE_ID, user_token=None):
        ut = user_token or self.user_token()
        r = self.graph("GET", "/me/accounts", token=ut,
                       params={"fields": "id,access_token", "limit": "100"})
        assert r.status == 200, r
        for p in r.json()["data"]:
            if p["id"] == page_id:
                return p["access_token"]
        raise AssertionError("page %s not in /me/accounts" % page_id)

    def subscribe(self, page_token, page_id=PAGE_ID,
                  fields="messages,message_echoes,messaging_postbacks,message_reactions,"
                         "messaging_seen,message_reads"):
        r = self.graph("POST", "/%s/subscribed_apps" % page_id, token=page_token,
                       params={"subscribed_fields": fields})
        assert r.status == 200 and r.json() == {"success": True}, r


class EmulatorTestCase(ServerTestCase):
    def start_emulator(self, args=(), webhook=False, sink_statuses=()):
        """An emulator (and, with webhook=True, a Sink it delivers to: self.sink)."""
        url = None
        if webhook:
            self.sink = Sink()
            self.sink.statuses.extend(sink_statuses)
            self.addCleanup(self.sink.close)
            url = self.sink.url
        emu = Emulator(args=args, webhook=url)
        self.addCleanup(emu.stop)
        emu.start()
        return emu
