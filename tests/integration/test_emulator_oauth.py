"""The emulator's Facebook Login and identity endpoints, checked against Meta's documented
behaviour (meta-platform.md §4): the dialog, code exchange, long-lived tokens, debug_token,
/me/accounts with field expansion and paging, permissions, subscribed_apps, appsecret_proof,
token errors and rate limits."""

import hashlib
import hmac
import time
import urllib.parse

from emu import (APP_ID, APP_SECRET, IG_ID, PAGE2_ID, PAGE_ID, EmulatorTestCase)

REDIRECT = "http://127.0.0.1:1/oauth/callback"


def proof(token, secret=APP_SECRET, at=None):
    msg = token if at is None else "%s|%d" % (token, at)
    return hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()


class TestLogin(EmulatorTestCase):
    def setUp(self):
        self.emu = self.start_emulator()

    def dialog_query(self, **kw):
        q = {"client_id": APP_ID, "redirect_uri": REDIRECT, "state": "abc 123",
             "scope": "pages_show_list,pages_messaging", "response_type": "code"}
        q.update(kw)
        return q

    def test_dialog_page_shows_scopes_and_continue(self):
        r = self.emu.graph("GET", "/dialog/oauth", params=self.dialog_query())
        self.assertEqual(r.status, 200)
        self.assertIn("text/html", r.headers["content-type"])
        page = r.body.decode()
        for want in ("Continue as Dana Admin", "pages_show_list", "pages_messaging", "Cancel",
                     'name="state" value="abc 123"'):
            self.assertIn(want, page)

    def test_dialog_rejects_wrong_app_and_relative_redirect(self):
        r = self.emu.graph("GET", "/dialog/oauth", params=self.dialog_query(client_id="999"))
        self.assertEqual(r.error(), (101, None))
        r = self.emu.graph("GET", "/dialog/oauth",
                           params=self.dialog_query(redirect_uri="/callback"))
        self.assertEqual(r.error(), (191, None))

    def test_allow_redirects_with_code_and_state(self):
        got = self.emu.login(redirect_uri=REDIRECT + "?x=1", state="s/1 2")
        self.assertEqual(got["state"], "s/1 2")
        self.assertEqual(got["x"], "1")
        self.assertGreaterEqual(len(got["code"]), 40)

    def test_cancel_redirects_with_access_denied(self):
        form = dict(self.dialog_query(), decision="deny")
        r = self.emu.graph("POST", "/dialog/oauth/confirm", form=form)
        self.assertEqual(r.status, 302)
        loc = urllib.parse.urlparse(r.headers["location"])
        q = dict(urllib.parse.parse_qsl(loc.query))
        self.assertEqual(q["error"], "access_denied")
        self.assertEqual(q["error_reason"], "user_denied")
        self.assertEqual(q["state"], "abc 123")
        self.assertNotIn("code", q)

    def test_unticked_scope_is_not_granted(self):
        form = dict(self.dialog_query(scope="pages_show_list,pages_messaging"),
                    decision="allow", perms_shown="1", perm_pages_show_list="on")
        r = self.emu.graph("POST", "/dialog/oauth/confirm", form=form)
        code = dict(urllib.parse.parse_qsl(
            urllib.parse.urlparse(r.headers["location"]).query))["code"]
        tok = self.exchange(code).json()["access_token"]
        perms = self.emu.graph("GET", "/me/permissions", token=tok).json()["data"]
        granted = {p["permission"] for p in perms if p["status"] == "granted"}
        self.assertIn("pages_show_list", granted)
        self.assertNotIn("pages_messaging", granted)

    def exchange(self, code, redirect=REDIRECT, secret=APP_SECRET):
        return self.emu.graph("GET", "/oauth/access_token",
                              params={"client_id": APP_ID, "client_secret": secret,
                                      "redirect_uri": redirect, "code": code})

    def test_code_exchange_is_single_use_and_checks_redirect_and_secret(self):
        code = self.emu.login(redirect_uri=REDIRECT)["code"]
        self.assertEqual(self.exchange(code, secret="wrong").error(), (1, None))
        self.assertEqual(self.exchange(code, redirect=REDIRECT + "x").error(), (100, 36008))
        r = self.exchange(code)
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["token_type"], "bearer")
        self.assertTrue(0 < body["expires_in"] <= 2 * 3600)  # short-lived
        self.assertEqual(self.exchange(code).error(), (100, 36009))
        self.assertEqual(self.exchange("nonsense").error()[0], 100)

    def test_code_expires_after_ten_minutes(self):
        code = self.emu.login(redirect_uri=REDIRECT)["code"]
        self.emu.control("POST", "/_emulator/clock", {"advance_ms": 11 * 60 * 1000})
        self.assertEqual(self.exchange(code).error(), (100, 36007))

    def test_long_lived_exchange_and_debug_token(self):
        code = self.emu.login(redirect_uri=REDIRECT)["code"]
        short = self.exchange(code).json()["access_token"]
        r = self.emu.graph("GET", "/oauth/access_token",
                           params={"grant_type": "fb_exchange_token", "client_id": APP_ID,
                                   "client_secret": APP_SECRET, "fb_exchange_token": short})
        self.assertEqual(r.status, 200, r)
        long_tok = r.json()["access_token"]
        self.assertEqual(r.json()["expires_in"], 5183944)
        d = self.emu.graph("GET", "/debug_token",
                           params={"input_token": long_tok},
                           token="%s|%s" % (APP_ID, APP_SECRET)).json()["data"]
        self.assertTrue(d["is_valid"])
        self.assertEqual(d["type"], "USER")
        self.assertEqual(d["app_id"], APP_ID)
        self.assertEqual(d["user_id"], "10160000000000001")
        self.assertIn("pages_messaging", d["scopes"])
        now = time.time()
        self.assertAlmostEqual(d["expires_at"], now + 5183944, delta=120)
        gs = {g["scope"]: g["target_ids"] for g in d["granular_scopes"]}
        self.assertEqual(sorted(gs["pages_messaging"]), sorted([PAGE_ID, PAGE2_ID]))
        self.assertEqual(gs["instagram_basic"], [IG_ID])

    def test_debug_token_reports_invalid_tokens(self):
        app = "%s|%s" % (APP_ID, APP_SECRET)
        d = self.emu.graph("GET", "/debug_token", params={"input_token": "EAAnope"},
                           token=app).json()["data"]
        self.assertFalse(d["is_valid"])
        self.assertEqual(d["error"]["code"], 190)
        tok = self.emu.user_token(long_lived=False)
        self.emu.control("POST", "/_emulator/clock", {"advance_ms": 3 * 3600 * 1000})
        d = self.emu.graph("GET", "/debug_token", params={"input_token": tok},
                           token=app).json()["data"]
        self.assertFalse(d["is_valid"])
        self.assertEqual(d["error"]["subcode"], 463)


class TestAccounts(EmulatorTestCase):
    def setUp(self):
        self.emu = self.start_emulator()
        self.user = self.emu.user_token()

    def test_field_expansion_gives_page_tokens_and_ig_accounts(self):
        r = self.emu.graph("GET", "/me/accounts", token=self.user, params={
            "fields": "id,name,access_token,tasks,"
                      "instagram_business_account{id,username,profile_picture_url}"})
        self.assertEqual(r.status, 200, r)
        pages = {p["id"]: p for p in r.json()["data"]}
        self.assertEqual(set(pages), {PAGE_ID, PAGE2_ID})
        p = pages[PAGE_ID]
        self.assertEqual(p["name"], "Northwind Coffee")
        self.assertIn("MESSAGING", p["tasks"])
        self.assertTrue(p["access_token"].startswith("EAA"))
        iba = p["instagram_business_account"]
        self.assertEqual((iba["id"], iba["username"]), (IG_ID, "northwind.coffee"))
        self.assertIn("profile_picture_url", iba)
        self.assertNotIn("instagram_business_account", pages[PAGE2_ID])  # omitted, not null
        self.assertNotIn("category", p)  # only what was asked for

    def test_default_fields(self):
        r = self.emu.graph("GET", "/me/accounts", token=self.user)
        item = r.json()["data"][0]
        self.assertEqual(set(item), {"access_token", "category", "category_list", "name", "id",
                                     "tasks"})

    def test_paging_follows_next_until_absent(self):
        seen, url = [], None
        r = self.emu.graph("GET", "/me/accounts", token=self.user,
                           params={"fields": "id", "limit": "1"})
        for _ in range(5):
            self.assertEqual(r.status, 200, r)
            body = r.json()
            seen += [p["id"] for p in body["data"]]
            url = body.get("paging", {}).get("next")
            if not url:
                break
            u = urllib.parse.urlparse(url)
            self.assertIn("/10160000000000001/accounts", u.path)  # me resolved to the user
            r = self.emu.graph("GET", u.path + "?" + u.query, version=None)
        self.assertEqual(seen, [PAGE_ID, PAGE2_ID])
        self.assertIsNone(url)
        bad = self.emu.graph("GET", "/me/accounts", token=self.user,
                             params={"after": "not-a-cursor"})
        self.assertEqual(bad.error()[0], 100)

    def test_page_token_never_expires_when_from_long_lived_user_token(self):
        page = self.emu.page_token(user_token=self.user)
        d = self.emu.graph("GET", "/debug_token", params={"input_token": page},
                           token="%s|%s" % (APP_ID, APP_SECRET)).json()["data"]
        self.assertEqual((d["type"], d["expires_at"], d["profile_id"]), ("PAGE", 0, PAGE_ID))
        self.assertEqual(self.emu.page_token(user_token=self.user), page)  # stable
        short_user = self.emu.user_token(long_lived=False)
        short_page = self.emu.page_token(user_token=short_user)
        d = self.emu.graph("GET", "/debug_token", params={"input_token": short_page},
                           token="%s|%s" % (APP_ID, APP_SECRET)).json()["data"]
        self.assertGreater(d["expires_at"], 0)

    def test_accounts_with_page_token_is_nonexisting_field(self):
        page = self.emu.page_token(user_token=self.user)
        r = self.emu.graph("GET", "/me/accounts", token=page)
        self.assertEqual(r.error(), (100, None))
        self.assertIn("nonexisting field (accounts)", r.json()["error"]["message"])
        me = self.emu.graph("GET", "/me", token=page).json()
        self.assertEqual(me, {"id": PAGE_ID, "name": "Northwind Coffee"})

    def test_subscribed_apps(self):
        page = self.emu.page_token(user_token=self.user)
        path = "/%s/subscribed_apps" % PAGE_ID
        self.assertEqual(self.emu.graph("GET", path, token=page).json(), {"data": []})
        r = self.emu.graph("POST", path, token=self.user,
                           params={"subscribed_fields": "messages"})
        self.assertEqual(r.error(), (210, None))  # a Page token is required
        r = self.emu.graph("POST", path, token=page, params={"subscribed_fields": "messages,bogus"})
        self.assertEqual(r.error(), (100, None))
        self.assertIn('"bogus"', r.json()["error"]["message"])
        fields = "messages,messaging_postbacks,message_reactions,message_echoes,messaging_seen"
        r = self.emu.graph("POST", path, token=page, params={"subscribed_fields": fields})
        self.assertEqual(r.json(), {"success": True})
        got = self.emu.graph("GET", path, token=page).json()["data"]
        self.assertEqual(got[0]["id"], APP_ID)
        self.assertEqual(got[0]["subscribed_fields"], fields.split(","))
        r = self.emu.graph("POST", path, token=page,
                           json_body={"subscribed_fields": ["messages", "standby"]})
        self.assertEqual(r.json(), {"success": True})
        self.assertEqual(self.emu.graph("DELETE", path, token=page).json(), {"success": True})
        self.assertEqual(self.emu.graph("GET", path, token=page).json(), {"data": []})
        r = self.emu.graph("POST", "/%s/subscribed_apps" % IG_ID, token=page,
                           params={"subscribed_fields": "messages"})
        self.assertEqual(r.error()[0], 100)


class TestTokenChecks(EmulatorTestCase):
    def test_token_errors(self):
        emu = self.start_emulator()
        r = emu.graph("GET", "/me")
        self.assertEqual(r.error(), (104, None))
        r = emu.graph("GET", "/me", token="EAAgarbage")
        self.assertEqual(r.error(), (190, None))
        self.assertIn("www-authenticate", r.headers)
        user = emu.user_token()
        r = emu.graph("GET", "/me", headers={"Authorization": "Bearer " + user})
        self.assertEqual(r.json()["name"], "Dana Admin")
        self.assertEqual(emu.graph("GET", "/me", token=user, version="v19.0").status, 200)
        emu.control("POST", "/_emulator/clock", {"advance_ms": 61 * 24 * 3600 * 1000})
        self.assertEqual(emu.graph("GET", "/me", token=user).error(), (190, 463))

    def test_appsecret_proof(self):
        emu = self.start_emulator(args=["--require-proof"])
        user = emu.user_token()  # the token exchange carries client_secret: no proof needed
        self.assertEqual(emu.graph("GET", "/me", token=user).error(), (100, None))
        ok = emu.graph("GET", "/me", token=user, params={"appsecret_proof": proof(user)})
        self.assertEqual(ok.status, 200, ok)
        bad = emu.graph("GET", "/me", token=user, params={"appsecret_proof": proof(user, "x")})
        self.assertEqual(bad.error(), (100, None))
        self.assertIn("appsecret_proof", bad.json()["error"]["message"])
        now = int(time.time())
        timed = emu.graph("GET", "/me", token=user, params={
            "appsecret_proof": proof(user, at=now), "appsecret_time": str(now)})
        self.assertEqual(timed.status, 200, timed)
        stale = emu.graph("GET", "/me", token=user, params={
            "appsecret_proof": proof(user, at=now - 600), "appsecret_time": str(now - 600)})
        self.assertEqual(stale.error(), (100, None))

    def test_rate_limit_headers_and_codes(self):
        emu = self.start_emulator(args=["--rate-limit", "5"])
        user = emu.user_token()
        codes = []
        for i in range(6):
            r = emu.graph("GET", "/me", token=user)
            usage = r.headers.get("x-app-usage")
            self.assertIsNotNone(usage, r.headers)
            codes.append(r.error())
        self.assertEqual(codes[:5], [None] * 5)
        self.assertEqual(codes[5], (17, None))  # user token
        app = emu.graph("GET", "/debug_token", token="%s|%s" % (APP_ID, APP_SECRET),
                        params={"input_token": user})
        self.assertEqual(app.status, 200)
        page_emu = self.start_emulator(args=["--rate-limit", "3"])
        page = page_emu.page_token()
        for _ in range(3):
            r = page_emu.graph("GET", "/%s/subscribed_apps" % PAGE_ID, token=page)
        self.assertIn(PAGE_ID, r.headers.get("x-business-use-case-usage", ""))
        r = page_emu.graph("GET", "/%s/subscribed_apps" % PAGE_ID, token=page)
        self.assertEqual(r.error(), (80001, None))
        self.assertIn('"estimated_time_to_regain_access":', r.headers["x-business-use-case-usage"])

    def test_deauthorized_user_tokens_die(self):
        emu = self.start_emulator()
        user = emu.user_token()
        page = emu.page_token(user_token=user)
        r = emu.control("POST", "/_emulator/users/10160000000000001/deauthorize")
        self.assertIn(r.status, (200, 409), r)  # 409: no callback URL configured
        self.assertEqual(emu.graph("GET", "/me", token=user).error(), (190, 458))
        self.assertEqual(emu.graph("GET", "/me", token=page).error(), (190, 458))


class TestUnknownPaths(EmulatorTestCase):
    def test_unknown_path_is_a_graph_error(self):
        emu = self.start_emulator()
        r = emu.graph("GET", "/nothing/here/at/all")
        self.assertEqual(r.error(), (2500, None))
        self.assertIn("fbtrace_id", r.json()["error"])
