"""A small stand-in for Meta's Graph API, written from Meta's documentation and not from our
emulator (src/emulator/): just the calls of `switchboard accounts connect`, with switches for
the documented variations a client must take:

    g = GraphFake(app_id, app_secret)
    g.gzip = True            # every answer gzip-encoded, asked for or not (RFC 9110 12.5.3:
                             # a request without Accept-Encoding accepts any coding)
    g.paging = "cursors"     # /me/accounts pages: "cursors" (paging.cursors + next),
                             # "next_only" (paging.next with after=, no cursors object),
                             # "offset" (paging.next with offset=, offset-based pagination)
    g.page_size = 2          # `limit` is a maximum: fewer may come back
    g.next_base = None       # the scheme://host:port written into paging.next (default: ours)
    g.requests               # every request: {"method", "path", "query", "form", "headers"}
    g.problems               # what a request did wrong (no appsecret_proof, a bad one, ...)

Graph calls are checked as Meta checks them: the version in the path, an access token, and
appsecret_proof = hex HMAC-SHA256(app secret, access token) beside every access token.
"""

import gzip
import hashlib
import hmac
import http.server
import json
import threading
import urllib.parse

from harness import HOST

VERSION = "v24.0"
USER_ID = "10170000000000009"
SCOPES = ["pages_show_list", "pages_messaging", "pages_manage_metadata", "pages_read_engagement",
          "instagram_basic", "instagram_manage_messages", "instagram_manage_comments",
          "instagram_content_publish", "business_management"]


class GraphFake:
    def __init__(self, app_id, app_secret, n_pages=5):
        self.app_id, self.app_secret = app_id, app_secret
        self.gzip = False
        self.paging = "cursors"
        self.page_size = 2
        self.next_base = None
        self.requests = []
        self.problems = []
        self.subscribed = {}  # page id -> fields
        self.short_token = "short-user-token-1"
        self.long_token = "long-user-token-1"
        self.pages = []
        for i in range(n_pages):
            pid = "1050000000000%02d" % (i + 1)
            p = {"id": pid, "name": "Fake Page %d" % (i + 1), "access_token": "page-token-%s" % pid,
                 "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE",
                           "MANAGE"]}
            if i == 0:
                p["instagram_business_account"] = {"id": "17841499900000001",
                                                   "username": "fake.shop",
                                                   "profile_picture_url": "https://x.example/p"}
            self.pages.append(p)
        self.lock = threading.Lock()
        self.httpd = http.server.ThreadingHTTPServer((HOST, 0), _handler(self))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = "http://%s:%d" % (HOST, self.port)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self):
        with self.lock:
            return [r["path"] for r in self.requests]

    # ---- the documented answers

    def token_info(self, token):
        if token == self.long_token:
            return {"app_id": self.app_id, "type": "USER", "application": "Fake app",
                    "data_access_expires_at": 4102444800, "expires_at": 4102444800,
                    "is_valid": True, "issued_at": 1700000000, "scopes": SCOPES,
                    "user_id": USER_ID}
        for p in self.pages:
            if token == p["access_token"]:
                return {"app_id": self.app_id, "type": "PAGE", "application": "Fake app",
                        "expires_at": 0, "is_valid": True, "scopes": SCOPES,
                        "profile_id": p["id"], "user_id": USER_ID}
        return {"is_valid": False, "scopes": [],
                "error": {"code": 190, "subcode": 467, "message": "Invalid OAuth access token."}}

    def accounts_page(self, q):
        size = min(int(q.get("limit", "25")), self.page_size)
        if self.paging == "offset":
            start = int(q.get("offset", "0"))
        else:
            after = q.get("after")
            start = int(after[len("cur-"):]) if after and after.startswith("cur-") else 0
        items = self.pages[start:start + size]
        end = start + len(items)
        body = {"data": items}
        paging = {}
        if self.paging == "cursors" and items:
            paging["cursors"] = {"before": "cur-%d" % start, "after": "cur-%d" % end}
        if end < len(self.pages):
            base = self.next_base or self.base
            # Meta's next links name the user by id and repeat the query, token included.
            nq = {"access_token": q.get("access_token", ""), "fields": q.get("fields", ""),
                  "limit": str(size)}
            if self.paging == "offset":
                nq["offset"] = str(end)
            else:
                nq["after"] = "cur-%d" % end
            paging["next"] = "%s/%s/%s/accounts?%s" % (base, VERSION, USER_ID,
                                                       urllib.parse.urlencode(nq))
        if paging:
            body["paging"] = paging
        return body


def _error(code, message, subcode=None, status=400):
    e = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AFakeTrace1"}
    if subcode:
        e["error_subcode"] = subcode
    return status, {"error": e}


def _handler(g):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            if g.gzip:
                body = gzip.compress(body)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self, method):
            u = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            form = {}
            if raw and "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                form = dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
            params = dict(q)
            params.update(form)
            with g.lock:
                g.requests.append({"method": method, "path": u.path, "query": q, "form": form,
                                   "headers": dict(self.headers.items())})
            status, body = self.route(method, u.path, params)
            self.send(status, body)

        def check_proof(self, params):
            tok = params.get("access_token")
            if not tok:
                return _error(104, "An access token is required to request this resource.")
            want = hmac.new(g.app_secret.encode(), tok.encode(), hashlib.sha256).hexdigest()
            got = params.get("appsecret_proof")
            if not got:
                with g.lock:
                    g.problems.append("no appsecret_proof on %s" % self.path.split("?")[0])
                return _error(100, "API calls from the server require an appsecret_proof "
                                   "argument")
            if not hmac.compare_digest(want, got):
                with g.lock:
                    g.problems.append("bad appsecret_proof on %s" % self.path.split("?")[0])
                return _error(100, "Invalid appsecret_proof provided in the API argument")
            return None

        def route(self, method, path, p):
            prefix = "/" + VERSION + "/"
            if not path.startswith(prefix):
                with g.lock:
                    g.problems.append("unversioned path %s" % path)
                return _error(2500, "Unknown path components: %s" % path)
            rest = path[len(prefix):]
            if rest == "oauth/access_token" and method == "GET":
                ok = (p.get("client_id") == g.app_id and p.get("client_secret") == g.app_secret
                      and p.get("grant_type") == "fb_exchange_token"
                      and p.get("fb_exchange_token") in (g.short_token, g.long_token))
                if not ok:
                    return _error(190, "Error validating access token", 463)
                return 200, {"access_token": g.long_token, "token_type": "bearer",
                             "expires_in": 5183944}
            bad = self.check_proof(p)
            if bad:
                return bad
            tok = p["access_token"]
            if rest == "debug_token" and method == "GET":
                if tok != "%s|%s" % (g.app_id, g.app_secret):
                    return _error(190, "Invalid OAuth access token.")
                return 200, {"data": g.token_info(p.get("input_token", ""))}
            if rest == "me/accounts" and method == "GET":
                if tok != g.long_token:
                    return _error(190, "Invalid OAuth access token.", 467)
                return 200, g.accounts_page(p)
            parts = rest.split("/")
            if len(parts) == 2 and parts[1] == "subscribed_apps":
                page = next((x for x in g.pages if x["id"] == parts[0]), None)
                if not page or tok != page["access_token"]:
                    return _error(190, "Invalid OAuth access token.", 467)
                if method == "POST":
                    fields = [f for f in p.get("subscribed_fields", "").split(",") if f]
                    if not fields:
                        return _error(100, "(#100) The parameter subscribed_fields is required.")
                    with g.lock:
                        g.subscribed[page["id"]] = fields
                    return 200, {"success": True}
                if method == "GET":
                    with g.lock:
                        fields = list(g.subscribed.get(page["id"], []))
                    data = [{"id": g.app_id, "name": "Fake app", "subscribed_fields": fields}]
                    return 200, {"data": data if fields else []}
            return _error(100, "Unsupported %s request." % method, 33)

        def do_GET(self):
            self.handle_any("GET")

        def do_POST(self):
            self.handle_any("POST")

        def do_DELETE(self):
            self.handle_any("DELETE")

    return H
