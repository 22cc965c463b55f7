"""The emulator's own API (/_emulator/..., docs/emulator.md) and the customer simulator page:
the world as JSON, customer acts, threads, faults, the clock, config, the delivery log, the
deauthorize and data-deletion callbacks (signed_request checked as Meta specifies), images."""

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
import urllib.parse

from emu import APP_ID, APP_SECRET, IG_ID, PAGE2_ID, PAGE_ID, EmulatorTestCase
from harness import HOST, check_log_lines, http_request
from jpegs import solid_jpeg

ADMIN_ASID = "10160000000000001"


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def parse_signed_request(sr, secret):
    """Meta's parse_signed_request: split at the first '.', HMAC-SHA256 the encoded payload
    exactly as received, compare with the decoded signature. Returns the payload or None."""
    sig_b64, _, payload_b64 = sr.partition(".")
    want = hmac.new(secret.encode(), payload_b64.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(want, b64url_decode(sig_b64)):
        return None
    return json.loads(b64url_decode(payload_b64))


class Callback:
    """An app's callback endpoint: records each request and answers (status, content type,
    body)."""

    def __init__(self, status=200, ctype="application/json", body=b"{}"):
        self.requests = []
        self.answer = (status, ctype, body)
        cb = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                cb.requests.append({"path": self.path, "headers": dict(self.headers),
                                    "body": self.rfile.read(n)})
                status, ctype, body = cb.answer
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST  # also serves a file (the image a test publishes)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, 0), H)
        self.url = "http://%s:%d/meta/callback" % (HOST, self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ControlTestCase(EmulatorTestCase):

    def setUp(self):
        self.emu = self.start_emulator()

    def ctl(self, method, path, body=None, status=200):
        r = self.emu.control(method, path, body)
        self.assertEqual(r.status, status, r)
        return r.json()

    def callback(self, **kw):
        cb = Callback(**kw)
        self.addCleanup(cb.close)
        return cb

    def finish(self):
        rc = self.emu.stop()
        log = self.emu.stderr()
        self.assertEqual(rc, 0, log[-3000:])
        self.assertEqual(check_log_lines(log, [APP_SECRET]), [])


class StateTests(ControlTestCase):

    def test_the_seeded_world(self):
        before = int(time.time() * 1000)
        st = self.ctl("GET", "/_emulator/state")
        self.assertEqual(set(st), {"app", "users", "pages", "customers", "threads", "media",
                                   "webhook_url", "clock_offset_ms", "now_ms", "quota_total"})
        self.assertEqual(st["app"], {"id": APP_ID})
        self.assertEqual(st["users"], [{"asid": ADMIN_ASID, "name": "Dana Admin", "has_app": True}])
        p0, p1 = st["pages"]
        self.assertEqual((p0["index"], p0["id"], p0["name"], p0["ig_id"], p0["ig_username"]),
                         (0, PAGE_ID, "Northwind Coffee", IG_ID, "northwind.coffee"))
        self.assertEqual((p1["id"], p1["ig_id"], p1["subscribed_fields"]), (PAGE2_ID, None, []))
        names = [c["name"] for c in st["customers"]]
        self.assertEqual(names, ["Maya Lopez", "Sam Chen", "Priya Nair", "Jonas Berg"])
        for i, c in enumerate(st["customers"]):
            self.assertEqual(c["index"], i)
            self.assertEqual(set(c["psid"]), {PAGE_ID, PAGE2_ID})
            self.assertNotEqual(c["psid"][PAGE_ID], c["psid"][PAGE2_ID])  # Page-scoped
            self.assertTrue(c["igsid"] and c["asid"] and c["ig_username"])
            self.assertFalse(c["unavailable"])
        self.assertEqual(len({c["igsid"] for c in st["customers"]}), 4)
        self.assertEqual(st["threads"], [])
        [post] = st["media"]
        self.assertEqual((post["comments"], post["has_image"]), (0, False))
        self.assertTrue(post["caption"])
        self.assertIsNone(st["webhook_url"])
        self.assertEqual(st["clock_offset_ms"], 0)
        self.assertLessEqual(before - 5000, st["now_ms"])
        self.assertLessEqual(st["now_ms"], int(time.time() * 1000) + 5000)
        self.assertEqual(st["quota_total"], 100)
        self.finish()

    def test_quota_flag_shows(self):
        emu = self.start_emulator(args=["--quota", "25"])
        self.assertEqual(emu.state()["quota_total"], 25)


class CustomerTests(ControlTestCase):

    def test_message_makes_a_thread_with_both_directions_listed(self):
        sent = self.ctl("POST", "/_emulator/customers/1/messages",
                        {"channel": "instagram", "text": "Hi! Any vegan pastries?"})
        att = {"type": "image", "payload": {"url": "https://cdn.example/a.jpg"}}
        again = self.ctl("POST", "/_emulator/customers/1/messages",
                         {"channel": "instagram", "attachment": att})
        self.assertEqual(sent["thread"], again["thread"])
        st = self.ctl("GET", "/_emulator/state")
        [t] = st["threads"]
        self.assertEqual((t["id"], t["page"], t["customer"], t["channel"], t["messages"]),
                         (sent["thread"], 0, 1, "instagram", 2))
        self.assertGreater(t["last_inbound_ms"], 0)
        got = self.ctl("GET", "/_emulator/threads/" + urllib.parse.quote(sent["thread"]))
        self.assertEqual(got["thread"]["id"], sent["thread"])
        m1, m2 = got["messages"]
        self.assertEqual((m1["mid"], m1["direction"], m1["text"], m1["attachment"]),
                         (sent["mid"], "in", "Hi! Any vegan pastries?", None))
        self.assertEqual((m2["mid"], m2["text"], m2["attachment"]), (again["mid"], None, att))
        self.assertLessEqual(m1["ts_ms"], m2["ts_ms"])
        for k in ("messaging_type", "tag", "metadata"):
            self.assertIn(k, m1)
        fb = self.ctl("POST", "/_emulator/customers/1/messages",
                      {"channel": "messenger", "page": 1, "text": "hello outlet"})
        self.assertNotEqual(fb["thread"], sent["thread"])
        threads = self.ctl("GET", "/_emulator/state")["threads"]
        self.assertIn({"page": 1, "customer": 1, "channel": "messenger"},
                      [{k: t[k] for k in ("page", "customer", "channel")} for t in threads])
        self.finish()

    def test_window_reopens_on_message_reaction_postback_not_on_read(self):
        def last_inbound():
            return self.ctl("GET", "/_emulator/state")["threads"][0]["last_inbound_ms"]

        def advance():
            self.ctl("POST", "/_emulator/clock", {"advance_ms": 60000})

        mid = self.ctl("POST", "/_emulator/customers/0/messages",
                       {"channel": "messenger", "text": "hi"})["mid"]
        t0 = last_inbound()
        advance()
        self.ctl("POST", "/_emulator/customers/0/messages",
                 {"channel": "messenger", "kind": "read", "mid": mid})
        self.assertEqual(last_inbound(), t0)
        self.ctl("POST", "/_emulator/customers/0/messages",
                 {"channel": "messenger", "kind": "reaction", "mid": mid, "reaction": "like"})
        t1 = last_inbound()
        self.assertGreaterEqual(t1, t0 + 60000)
        advance()
        pb = self.ctl("POST", "/_emulator/customers/0/messages",
                      {"channel": "messenger", "kind": "postback", "title": "Menu",
                       "payload": "MENU"})
        self.assertGreaterEqual(last_inbound(), t1 + 60000)
        self.assertTrue(pb["mid"].startswith("m_"))
        self.finish()

    def test_bad_requests(self):
        mid = self.ctl("POST", "/_emulator/customers/0/messages",
                       {"channel": "instagram", "text": "x"})["mid"]
        cases = [
            ("/_emulator/customers/9/messages", {"channel": "instagram", "text": "x"}, 404),
            ("/_emulator/customers/x/messages", {"channel": "instagram", "text": "x"}, 404),
            ("/_emulator/customers/0/messages", {"channel": "sms", "text": "x"}, 400),
            ("/_emulator/customers/0/messages", {"text": "x"}, 400),
            ("/_emulator/customers/0/messages", {"channel": "instagram"}, 400),
            ("/_emulator/customers/0/messages", {"channel": "instagram", "text": 7}, 400),
            ("/_emulator/customers/0/messages",
             {"channel": "instagram", "page": 1, "text": "x"}, 400),
            ("/_emulator/customers/0/messages", {"channel": "messenger", "page": 7, "text": "x"},
             404),
            ("/_emulator/customers/0/messages", {"channel": "instagram", "kind": "wave"}, 400),
            ("/_emulator/customers/0/messages", {"channel": "instagram", "kind": "reaction"}, 400),
            ("/_emulator/customers/0/messages",
             {"channel": "instagram", "kind": "reaction", "mid": "nope"}, 404),
            ("/_emulator/customers/1/messages",  # a mid of another thread
             {"channel": "instagram", "kind": "reaction", "mid": mid}, 404),
            ("/_emulator/customers/0/messages", {"channel": "instagram", "kind": "read"}, 400),
            ("/_emulator/customers/0/comments", {"media_id": "123", "text": "x"}, 404),
            ("/_emulator/customers/0/comments", {"media_id": "17900000000000001"}, 400),
            ("/_emulator/customers/0/comments",
             {"media_id": "17900000000000001", "text": "x", "parent_id": "999"}, 404),
            ("/_emulator/clock", {"advance_ms": -5}, 400),
            ("/_emulator/clock", {"advance_ms": "5"}, 400),
            ("/_emulator/clock", {}, 400),
            ("/_emulator/config", {"webhook_url": 5}, 400),
            ("/_emulator/faults", {"kind": "meteor"}, 400),
            ("/_emulator/faults", {"kind": "http_500", "method": "PATCH"}, 400),
            ("/_emulator/faults", {"kind": "http_500", "count": 0}, 400),
            ("/_emulator/faults", {"kind": "http_500", "path": 3}, 400),
        ]
        for path, body, status in cases:
            with self.subTest(path=path, body=body):
                r = self.emu.control("POST", path, body)
                self.assertEqual(r.status, status, r)
                self.assertIsInstance(r.json().get("error"), str)
        r = http_request(self.emu.port, "POST", "/_emulator/clock", body=b"{not json",
                         headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.emu.control("GET", "/_emulator/threads/t_nope").status, 404)
        self.finish()

    def test_comments_are_counted_on_the_post(self):
        media_id = self.ctl("GET", "/_emulator/state")["media"][0]["id"]
        c = self.ctl("POST", "/_emulator/customers/3/comments",
                     {"media_id": media_id, "text": "Beautiful cup"})
        self.ctl("POST", "/_emulator/customers/2/comments",
                 {"media_id": media_id, "text": "Agreed", "parent_id": c["id"]})
        [post] = self.ctl("GET", "/_emulator/state")["media"]
        self.assertEqual(post["comments"], 2)
        self.finish()


class FaultClockConfigTests(ControlTestCase):

    def test_faults_crud_and_effect(self):
        self.assertEqual(self.ctl("GET", "/_emulator/faults"), {"faults": []})
        self.ctl("POST", "/_emulator/faults",
                 {"kind": "rate_limit", "path": "/messages", "method": "POST", "count": 3,
                  "code": 613})
        got = self.ctl("POST", "/_emulator/faults",
                       {"kind": "http_500", "path": "/me", "method": "get"})
        self.assertEqual(got["faults"], [
            {"kind": "rate_limit", "path": "/messages", "method": "POST", "count": 3,
             "code": 613, "delay_ms": 0},
            {"kind": "http_500", "path": "/me", "method": "GET", "count": 1, "code": 0,
             "delay_ms": 0}])
        self.assertEqual(self.ctl("GET", "/_emulator/faults"), got)
        r = self.emu.graph("GET", "/me", token="anything")
        self.assertEqual((r.status, r.error()), (500, (2, None)), r)
        self.assertEqual(len(self.ctl("GET", "/_emulator/faults")["faults"]), 1)  # used up
        self.assertEqual(self.ctl("DELETE", "/_emulator/faults"), {"faults": []})
        r = self.emu.graph("POST", "/%s/messages" % PAGE_ID, token="anything")
        self.assertNotEqual(r.error(), (613, None), r)  # cleared
        self.finish()

    def test_clock_advances_emulator_time(self):
        st = self.ctl("GET", "/_emulator/state")
        got = self.ctl("POST", "/_emulator/clock", {"advance_ms": 25 * 3600 * 1000})
        self.assertGreaterEqual(got["now_ms"], st["now_ms"] + 25 * 3600 * 1000)
        self.ctl("POST", "/_emulator/clock", {"advance_ms": 0})
        st2 = self.ctl("GET", "/_emulator/state")
        self.assertEqual(st2["clock_offset_ms"], 25 * 3600 * 1000)
        self.assertGreaterEqual(st2["now_ms"], got["now_ms"])
        self.finish()

    def test_config_sets_and_clears_urls(self):
        got = self.ctl("POST", "/_emulator/config",
                       {"webhook_url": "http://127.0.0.1:1/hook",
                        "deletion_url": "http://127.0.0.1:1/del"})
        self.assertEqual(got, {"webhook_url": "http://127.0.0.1:1/hook", "deauthorize_url": None,
                               "deletion_url": "http://127.0.0.1:1/del"})
        self.assertEqual(self.ctl("GET", "/_emulator/state")["webhook_url"],
                         "http://127.0.0.1:1/hook")
        got = self.ctl("POST", "/_emulator/config", {"webhook_url": ""})
        self.assertEqual(got["webhook_url"], None)
        self.assertEqual(got["deletion_url"], "http://127.0.0.1:1/del")  # untouched
        self.assertIsNone(self.ctl("GET", "/_emulator/state")["webhook_url"])
        self.finish()

    def test_delivery_log_starts_empty(self):
        self.assertEqual(self.ctl("GET", "/_emulator/deliveries"),
                         {"deliveries": [], "pending": 0, "total": 0})
        self.finish()


class CallbackTests(ControlTestCase):

    def check_signed_request(self, req, asid):
        self.assertEqual(req["headers"].get("Content-Type"), "application/x-www-form-urlencoded")
        form = urllib.parse.parse_qs(req["body"].decode("ascii"), strict_parsing=True)
        self.assertEqual(list(form), ["signed_request"])
        [sr] = form["signed_request"]
        self.assertNotIn("=", sr)  # unpadded base64url, as Facebook sends it
        payload = parse_signed_request(sr, APP_SECRET)
        self.assertIsNotNone(payload, "signed_request HMAC does not verify")
        self.assertIsNone(parse_signed_request(sr, "wrong-secret"))
        tampered = sr[:-2] + ("A" if sr[-2] != "A" else "B") + sr[-1]
        self.assertIsNone(parse_signed_request(tampered, APP_SECRET))
        self.assertEqual(payload["algorithm"], "HMAC-SHA256")
        self.assertEqual(payload["user_id"], asid)
        now = time.time()
        self.assertLessEqual(abs(payload["issued_at"] - now), 300)
        self.assertGreater(payload["expires"], payload["issued_at"])
        return payload

    def test_deauthorize_posts_signed_request_and_kills_the_user(self):
        user_token = self.emu.user_token()
        self.emu.subscribe(self.emu.page_token(user_token=user_token))
        cb = self.callback(status=200, ctype="text/plain", body=b"ok")
        self.ctl("POST", "/_emulator/config", {"deauthorize_url": cb.url})
        got = self.ctl("POST", "/_emulator/users/%s/deauthorize" % ADMIN_ASID)
        self.assertEqual(got, {"status": 200, "body": "ok"})
        [req] = cb.requests
        self.assertEqual(req["path"], "/meta/callback")
        self.check_signed_request(req, ADMIN_ASID)
        st = self.ctl("GET", "/_emulator/state")
        self.assertFalse(st["users"][0]["has_app"])
        self.assertEqual([p["subscribed_fields"] for p in st["pages"]], [[], []])
        r = self.emu.graph("GET", "/me", token=user_token)
        self.assertEqual(r.error(), (190, 458), r)
        self.finish()

    def test_delete_data_answers_with_the_apps_json(self):
        answer = {"url": "https://app.example/deletion?id=abc123", "confirmation_code": "abc123"}
        cb = self.callback(body=json.dumps(answer).encode())
        self.ctl("POST", "/_emulator/config", {"deletion_url": cb.url})
        asid = self.ctl("GET", "/_emulator/state")["customers"][2]["asid"]
        got = self.ctl("POST", "/_emulator/users/%s/delete-data" % asid)
        self.assertEqual(got, {"status": 200, "body": answer})
        self.check_signed_request(cb.requests[0], asid)
        cb.answer = (500, "application/json", b'{"error":"down"}')
        got = self.ctl("POST", "/_emulator/users/%s/delete-data" % ADMIN_ASID)
        self.assertEqual(got, {"status": 500, "body": {"error": "down"}})
        self.assertTrue(self.ctl("GET", "/_emulator/state")["users"][0]["has_app"])
        self.finish()

    def test_callback_errors(self):
        r = self.emu.control("POST", "/_emulator/users/%s/delete-data" % ADMIN_ASID)
        self.assertEqual(r.status, 409, r)  # no URL configured
        r = self.emu.control("POST", "/_emulator/users/%s/deauthorize" % ADMIN_ASID)
        self.assertEqual(r.status, 409, r)  # no URL to tell, but the app is removed all the same
        self.assertFalse(self.ctl("GET", "/_emulator/state")["users"][0]["has_app"])
        cb = self.callback()
        self.ctl("POST", "/_emulator/config", {"deauthorize_url": cb.url, "deletion_url": cb.url})
        self.assertEqual(self.emu.control("POST", "/_emulator/users/999/delete-data").status, 404)
        self.assertEqual(self.emu.control("POST", "/_emulator/users/999/deauthorize").status, 404)
        r = self.emu.control("POST", "/_emulator/users/%s/explode" % ADMIN_ASID)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(cb.requests, [])
        self.finish()


class PageAndImageTests(ControlTestCase):

    def test_a_published_image_is_served_as_published(self):
        jpg = solid_jpeg(1080, 1350, rgb=(150, 95, 60))
        img = self.callback(body=jpg, ctype="image/jpeg")
        tok = self.emu.page_token()
        r = self.emu.graph("POST", "/%s/media" % IG_ID, token=tok,
                           params={"image_url": img.url, "caption": "Winter spice latte"})
        self.assertEqual(r.status, 200, r)
        r = self.emu.graph("POST", "/%s/media_publish" % IG_ID, token=tok,
                           params={"creation_id": r.json()["id"]})
        self.assertEqual(r.status, 200, r)
        media_id = r.json()["id"]
        got = http_request(self.emu.port, "GET", "/_emulator/media/%s.jpg" % media_id)
        self.assertEqual((got.status, got.headers.get("content-type")), (200, "image/jpeg"))
        self.assertEqual(got.body, jpg)
        [post] = [m for m in self.ctl("GET", "/_emulator/state")["media"] if m["id"] == media_id]
        self.assertEqual((post["has_image"], post["caption"]), (True, "Winter spice latte"))
        self.finish()

    def test_images_404_without_bytes(self):
        for path in ("/_emulator/media/17900000000000001.jpg", "/_emulator/media/123.jpg",
                     "/_emulator/media/17900000000000001.png", "/_emulator/media/.jpg"):
            with self.subTest(path=path):
                self.assertEqual(self.emu.control("GET", path).status, 404)
        self.finish()

    def test_simulator_page_is_one_self_contained_document(self):
        r = http_request(self.emu.port, "GET", "/")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["content-type"].startswith("text/html"), r.headers)
        html = r.body.decode("utf-8")
        for want in ('<label for="message-text"', 'id="message-text"', 'role="log"',
                     '>Send</button>', 'role="tab"', ">Posts<", 'name="channel"',
                     'value="instagram"', 'value="messenger"', 'role="status"',
                     "<style>", '<script type="module">', "/_emulator/state",
                     "/_emulator/customers/", "/comments", ".chat-head"):
            self.assertIn(want, html)
        self.assertNotIn('src="simulator.js"', html)  # inlined: "/" is the only route
        self.assertNotIn('href="simulator.css"', html)
        self.assertEqual(html.count("</script>"), 1)
        self.finish()
