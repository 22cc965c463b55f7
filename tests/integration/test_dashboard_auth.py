"""Operators and sessions: `user add` (argon2id, password on stdin), sign-in, the session
cookie, CSRF on changes, sign-out, and the OAuth state that /oauth/start hands out (random,
single use, bound to the session)."""

import json
import os
import subprocess
import urllib.parse

from harness import ServerTestCase, base_env, binary_path, http_request

PASSWORD = "correct horse battery staple"


def add_user(server, email, role="admin", password=PASSWORD):
    env = base_env()
    env["SB_DATA_DIR"] = server.data_dir
    return subprocess.run([binary_path(), "user", "add", "--email", email, "--role", role],
                          input=(password + "\n").encode(), env=env, capture_output=True,
                          timeout=60)


class Client:
    """A browser: keeps the session cookie, sends the CSRF token on changes."""

    def __init__(self, server):
        self.server = server
        self.cookie = None
        self.csrf = None

    def request(self, method, path, body=None, csrf=True, headers=None):
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = "sb_session=" + self.cookie
        if csrf and self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        return http_request(self.server.port, method, path, body=data, headers=h)

    def login(self, email, password=PASSWORD):
        r = self.request("POST", "/api/login", {"email": email, "password": password})
        if r.status == 200:
            sc = r.headers["set-cookie"]
            self.cookie = sc.split(";")[0].split("=", 1)[1]
            self.csrf = json.loads(r.body)["csrf"]
        return r


class TestOperators(ServerTestCase):
    def setUp(self):
        self.server = self.start_server(env={
            "SB_META_APP_ID": "1234567890123456",
            "SB_META_OAUTH_URL": "http://127.0.0.1:9",
            "SB_PUBLIC_URL": "http://127.0.0.1:8999"})

    def test_user_add_validates_and_hashes(self):
        ok = add_user(self.server, "ana@shop.example")
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertIn(b"ana@shop.example", ok.stdout)
        dup = add_user(self.server, "ANA@shop.example")
        self.assertEqual(dup.returncode, 1)
        self.assertIn(b"already exists", dup.stderr)
        for email, role, pw in (("not-an-email", "admin", PASSWORD),
                                ("bo@shop.example", "admin", "short"),
                                ("bo@shop.example", "boss", PASSWORD)):
            r = add_user(self.server, email, role, pw)
            self.assertEqual(r.returncode, 2, (email, role, r.stderr))
        (h,) = self.server.query("SELECT password_hash FROM operators")[0]
        self.assertTrue(h.startswith("$argon2id$"), h)
        self.assertNotIn(PASSWORD, h)

    def test_sign_in_session_csrf_sign_out(self):
        self.assertEqual(add_user(self.server, "ana@shop.example").returncode, 0)
        c = Client(self.server)
        self.assertEqual(c.request("GET", "/api/me").status, 401)
        bad = c.login("ana@shop.example", "wrong password here")
        self.assertEqual(bad.status, 401)
        self.assertEqual(c.login("nobody@shop.example").status, 401)
        r = c.login("ana@shop.example")
        self.assertEqual(r.status, 200, r)
        sc = r.headers["set-cookie"]
        for flag in ("HttpOnly", "SameSite=Strict", "Path=/"):
            self.assertIn(flag, sc)
        me = json.loads(c.request("GET", "/api/me").body)
        self.assertEqual(me["operator"]["email"], "ana@shop.example")
        self.assertEqual(me["operator"]["role"], "admin")
        (stored,) = self.server.query("SELECT id FROM sessions")[0]
        self.assertNotEqual(stored, c.cookie)  # only a hash of the cookie is kept
        self.assertEqual(c.request("POST", "/api/logout", csrf=False).status, 403)
        self.assertEqual(c.request("POST", "/api/logout", headers={"X-CSRF-Token": "x"},
                                   csrf=False).status, 403)
        self.assertEqual(c.request("POST", "/api/logout").status, 200)
        self.assertEqual(c.request("GET", "/api/me").status, 401)
        self.stop_and_check(self.server, forbidden=(PASSWORD, c.cookie))

    def test_oauth_start_requires_a_session_and_binds_state(self):
        self.assertEqual(add_user(self.server, "ana@shop.example").returncode, 0)
        c = Client(self.server)
        self.assertEqual(c.request("GET", "/oauth/start").status, 401)
        c.login("ana@shop.example")
        r = c.request("GET", "/oauth/start")
        self.assertEqual(r.status, 302)
        u = urllib.parse.urlparse(r.headers["location"])
        self.assertEqual((u.scheme, u.netloc, u.path), ("http", "127.0.0.1:9", "/v24.0/dialog/oauth"))
        q = dict(urllib.parse.parse_qsl(u.query))
        self.assertEqual(q["client_id"], "1234567890123456")
        self.assertEqual(q["redirect_uri"], "http://127.0.0.1:8999/oauth/callback")
        self.assertEqual(q["response_type"], "code")
        for scope in ("pages_show_list", "pages_messaging", "instagram_manage_messages",
                      "instagram_content_publish", "instagram_manage_comments"):
            self.assertIn(scope, q["scope"].split(","))
        state = q["state"]
        self.assertGreaterEqual(len(state), 40)
        second = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(
            c.request("GET", "/oauth/start").headers["location"]).query))["state"]
        self.assertNotEqual(second, state)

        # a state from another operator's session is refused (and burnt)
        self.assertEqual(add_user(self.server, "bo@shop.example", "agent").returncode, 0)
        other = Client(self.server)
        other.login("bo@shop.example")
        r = other.request("GET", "/oauth/callback?" + urllib.parse.urlencode(
            {"state": second, "code": "x"}))
        self.assertEqual(r.status, 400)
        self.assertIn(b"another session", r.body)
        # a cancelled login with a good state: says so, and the state is then used up
        cancel = "/oauth/callback?" + urllib.parse.urlencode(
            {"state": state, "error": "access_denied", "error_reason": "user_denied"})
        r = c.request("GET", cancel)
        self.assertEqual(r.status, 400)
        self.assertIn(b"cancelled", r.body)
        r = c.request("GET", cancel)
        self.assertIn(b"expired or was already used", r.body)
        r = c.request("GET", "/oauth/callback?state=made-up&code=x")
        self.assertIn(b"expired or was already used", r.body)


class TestDashboardConnect(ServerTestCase):
    """/oauth/start -> the (emulated) Facebook Login dialog -> /oauth/callback, end to end."""

    def setUp(self):
        from emu import APP_ID, APP_SECRET, Emulator
        self.emu = Emulator()
        self.addCleanup(self.emu.stop)
        self.emu.start()
        self.server = self.start_server(secret=APP_SECRET, env={
            "SB_META_APP_ID": APP_ID,
            "SB_META_GRAPH_URL": self.emu.base,
            "SB_META_OAUTH_URL": self.emu.base})
        self.assertEqual(add_user(self.server, "ana@shop.example").returncode, 0)
        self.client = Client(self.server)
        self.client.login("ana@shop.example")

    def dialog_allow(self):
        """Presses Continue on the dialog /oauth/start sent us to; returns the callback path."""
        r = self.client.request("GET", "/oauth/start")
        dialog = urllib.parse.urlparse(r.headers["location"])
        q = dict(urllib.parse.parse_qsl(dialog.query))
        q.pop("response_type", None)
        r = self.emu.graph("POST", "/dialog/oauth/confirm", form=dict(q, decision="allow"))
        back = urllib.parse.urlparse(r.headers["location"])
        return back.path + "?" + back.query

    def test_connect_through_the_dialog(self):
        r = self.client.request("GET", self.dialog_allow())
        self.assertEqual(r.status, 200, r.body[:2000])
        page = r.body.decode()
        self.assertIn("Connected Page Northwind Coffee", page)
        self.assertIn("@northwind.coffee", page)
        self.assertIn("has no Instagram account linked", page)
        rows = self.server.query("SELECT platform, external_id, status FROM accounts "
                                 "ORDER BY platform, external_id")
        self.assertEqual(rows, [("instagram", "17841400000000001", "active"),
                                ("messenger", "104000000000001", "active"),
                                ("messenger", "104000000000002", "active")])
        subs = self.emu.graph("GET", "/104000000000001/subscribed_apps",
                              token=self.emu.page_token()).json()["data"]
        self.assertIn("messages", subs[0]["subscribed_fields"])

    def test_a_code_meta_refuses_connects_nothing(self):
        path = self.dialog_allow()
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(path).query))["code"]
        # the code is spent before Switchboard can use it (as a replayed or stolen one would be)
        spent = self.emu.graph("GET", "/oauth/access_token", params={
            "client_id": "1234567890123456", "client_secret": "emulator-app-secret",
            "redirect_uri": "http://127.0.0.1:%d/oauth/callback" % self.server.port,
            "code": code})
        self.assertEqual(spent.status, 200, spent)
        r = self.client.request("GET", path)
        self.assertEqual(r.status, 502)
        self.assertIn(b"did not accept the login code", r.body)
        self.assertEqual(self.server.scalar("SELECT count(*) FROM accounts"), 0)
