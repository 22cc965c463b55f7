"""Instagram content publishing on the emulator (meta-platform.md §5): POST /{ig-user-id}/media
downloads image_url from a local image server and makes a container, GET /{container-id} moves
IN_PROGRESS -> FINISHED -> EXPIRED with emulator time, media_publish respects the rolling
24-hour quota, and the post reads back through GET /{media-id} and GET /{ig-user-id}/media.

Images come from tests/integration/jpegs.py (real baseline JPEGs of any size, other formats'
headers) served by an http.server thread on 127.0.0.1."""

import http.server
import re
import threading
import time
import urllib.parse

import jpegs
from emu import APP_ID, APP_SECRET, IG_ID, PAGE2_ID, EmulatorTestCase
from harness import HOST, deadline_loop, free_port, http_request

MIB = 1024 * 1024
DAY_MS = 24 * 3600 * 1000
FEED = jpegs.solid_jpeg(1080, 1350)


class ImageServer:
    """Serves registered paths: put(path, body, status, delay_s) returns the URL."""

    def __init__(self):
        self.files = {}
        self.requests = []
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                srv.requests.append({"path": self.path, "headers": dict(self.headers)})
                body, status, delay = srv.files.get(self.path, (b"not found", 404, 0))
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the emulator gave up (a timeout or an over-size image)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, 0), H)
        self.server.daemon_threads = True
        self.base = "http://%s:%d" % (HOST, self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def put(self, path, body, status=200, delay=0):
        self.files[path] = (body, status, delay)
        return self.base + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class PublishCase(EmulatorTestCase):
    ARGS = ()

    def setUp(self):
        self.emu = self.start_emulator(args=self.ARGS)
        self.addCleanup(self.stop_clean)
        self.images = ImageServer()
        self.addCleanup(self.images.close)
        self.user = self.emu.user_token()
        self.page = self.emu.page_token(user_token=self.user)

    def stop_clean(self):
        """The emulator stops with exit code 0 and no sanitizer report (leaks included)."""
        rc = self.emu.stop()
        log = self.emu.stderr()
        self.assertEqual(rc, 0, log[-3000:])
        self.assertNotIn("Sanitizer", log)
        self.assertNotIn("runtime error", log)

    # -- helpers

    def create(self, body=FEED, token=None, path=None, **params):
        """POST /{ig}/media; body (bytes) is served and becomes image_url unless given."""
        if "image_url" not in params and body is not None:
            path = path or "/img/%d.jpg" % len(self.images.files)
            params["image_url"] = self.images.put(path, body)
        return self.emu.graph("POST", "/%s/media" % IG_ID, token=token or self.page,
                              form=params)

    def container(self, body=FEED, **params):
        r = self.create(body, **params)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json()), {"id"})
        return r.json()["id"]

    def publish(self, creation_id, token=None):
        return self.emu.graph("POST", "/%s/media_publish" % IG_ID, token=token or self.page,
                              params={"creation_id": creation_id})

    def node(self, id_, fields=None, token=None):
        params = {"fields": fields} if fields is not None else None
        return self.emu.graph("GET", "/%s" % id_, token=token or self.page, params=params)

    def status(self, cid):
        r = self.node(cid, "status_code,status")
        self.assertEqual(r.status, 200, r)
        return r.json()

    def limit(self, fields="quota_usage,config", **params):
        if fields is not None:
            params["fields"] = fields
        return self.emu.graph("GET", "/%s/content_publishing_limit" % IG_ID, token=self.page,
                              params=params)

    def advance(self, ms):
        r = self.emu.control("POST", "/_emulator/clock", {"advance_ms": ms})
        self.assertEqual(r.status, 200, r)

    def assertMetaError(self, r, code, subcode, text=None, status=400):
        self.assertEqual(r.status, status, r)
        err = r.json()["error"]
        self.assertEqual((err["code"], err.get("error_subcode")), (code, subcode), r)
        self.assertIn("fbtrace_id", err)
        if text is not None:
            self.assertIn(text, err["message"] + " " + err.get("error_user_msg", ""))
        return err


class ContainerAndPublishTests(PublishCase):
    def test_create_finish_publish_and_read_back(self):
        caption = "Autumn blend is back \u2615 #coffee @northwind.coffee"
        cid = self.container(caption=caption, alt_text="A cup of coffee")
        self.assertEqual(self.status(cid), {
            "id": cid, "status_code": "FINISHED",
            "status": "Finished: Media has been uploaded and it is ready to be published."})
        r = self.publish(cid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json()), {"id"})
        mid = r.json()["id"]
        self.assertNotEqual(mid, cid)
        self.assertEqual(self.status(cid)["status_code"], "PUBLISHED")
        fields = ("id,caption,media_type,media_product_type,media_url,permalink,shortcode,"
                  "timestamp,username,like_count,comments_count,owner")
        m = self.node(mid, fields).json()
        self.assertEqual(m["id"], mid)
        self.assertEqual(m["caption"], caption)
        self.assertEqual((m["media_type"], m["media_product_type"]), ("IMAGE", "FEED"))
        self.assertEqual(m["username"], "northwind.coffee")
        self.assertEqual((m["like_count"], m["comments_count"]), (0, 0))
        self.assertEqual(m["owner"], {"id": IG_ID})
        self.assertRegex(m["permalink"], r"^https://www\.instagram\.com/p/[A-Za-z0-9_-]+/$")
        self.assertEqual(m["permalink"], "https://www.instagram.com/p/%s/" % m["shortcode"])
        self.assertRegex(m["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")
        url = urllib.parse.urlparse(m["media_url"])
        self.assertEqual(url.path, "/_emulator/media/%s.jpg" % mid)
        img = http_request(self.emu.port, "GET", url.path)
        self.assertEqual((img.status, img.body), (200, FEED))  # the very bytes fetched
        # Meta's fetcher: a plain GET, no credentials
        self.assertNotIn("Authorization", self.images.requests[0]["headers"])

    def test_fields_default_to_id_and_unknown_fields_fail(self):
        cid = self.container()
        self.assertEqual(self.node(cid).json(), {"id": cid})
        mid = self.publish(cid).json()["id"]
        self.assertEqual(self.node(mid).json(), {"id": mid})
        self.assertMetaError(self.node(mid, "id,video_title"), 100, None, "video_title")
        self.assertMetaError(self.node(cid, "status_code,caption"), 100, None, "caption")

    def test_media_edge_lists_posts_newest_first(self):
        first = self.publish(self.container(caption="one")).json()["id"]
        second = self.publish(self.container(caption="two")).json()["id"]
        r = self.emu.graph("GET", "/%s/media" % IG_ID, token=self.page,
                           params={"fields": "id,caption,media_type,permalink,timestamp"})
        self.assertEqual(r.status, 200, r)
        data = r.json()["data"]
        self.assertEqual([d["id"] for d in data[:2]], [second, first])
        self.assertEqual(data[0]["caption"], "two")
        self.assertEqual(len(data), 3)  # and the seeded post, oldest
        r = self.emu.graph("GET", "/%s/media" % IG_ID, token=self.page, params={"limit": "1"})
        page1 = r.json()
        self.assertEqual(page1["data"], [{"id": second}])
        nxt = urllib.parse.urlparse(page1["paging"]["next"])
        r = http_request(self.emu.port, "GET", nxt.path + "?" + nxt.query)
        self.assertEqual(r.status, 200, r)

    def test_the_page_owners_user_token_may_publish(self):
        cid = self.container(token=self.user)
        r = self.publish(cid, token=self.user)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.node(r.json()["id"], "caption", token=self.user).json(),
                         {"id": r.json()["id"]})  # no caption: none given

    def test_publishing_twice_is_an_error_and_makes_one_post(self):
        cid = self.container()
        self.assertEqual(self.publish(cid).status, 200)
        self.assertMetaError(self.publish(cid), 100, None, "already been published")
        self.assertEqual(self.limit().json()["data"][0]["quota_usage"], 1)

    def test_publish_errors(self):
        self.assertMetaError(self.emu.graph("POST", "/%s/media_publish" % IG_ID,
                                            token=self.page), 100, None, "creation_id")
        self.assertMetaError(self.publish("17999999999999999"), 24, 2207006)
        self.assertMetaError(self.publish(IG_ID), 24, 2207006)


class ImageRuleTests(PublishCase):
    def test_formats(self):
        cases = [
            ("png", jpegs.png_header(1080, 1080), 36001, 2207005),
            ("gif", jpegs.gif_header(1080, 1080), 36001, 2207005),
            ("webp", jpegs.webp_header(1080, 1080), 36001, 2207005),
            ("mpo", jpegs.mpo_jpeg(1080, 1080), 36001, 2207005),
            ("lossless", jpegs.solid_jpeg(1080, 1080, sof=0xC3), 36001, 2207005),
            ("html", b"<html>blocked by a WAF</html>", 36001, 2207005),
            ("empty", b"", 36001, 2207005),
        ]
        for name, body, code, sub in cases:
            with self.subTest(name):
                err = self.assertMetaError(self.create(body), code, sub,
                                           "The image format is not supported.")
                self.assertEqual(err["type"], "OAuthException")
        for name, body in [("progressive", jpegs.solid_jpeg(1080, 1080, sof=0xC2)),
                           ("gray", jpegs.solid_jpeg(1080, 1080, gray=True))]:
            with self.subTest(name):
                self.assertEqual(self.create(body).status, 200)

    def test_aspect_ratio_limits_are_inclusive(self):
        cases = [((1080, 1350), True), ((1080, 1080), True), ((1910, 1000), True),
                 ((4, 5), True), ((1911, 1000), False), ((2000, 800), False),
                 ((1080, 1351), False), ((1080, 1920), False)]
        for (w, h), ok in cases:
            with self.subTest(size=(w, h)):
                r = self.create(jpegs.solid_jpeg(w, h))
                if ok:
                    self.assertEqual(r.status, 200, r)
                else:
                    self.assertMetaError(r, 36003, 2207009, "('%d/%d',)" % (w, h))

    def test_story_images_skip_the_ratio_rule(self):
        tall = jpegs.solid_jpeg(1080, 1920)
        self.assertEqual(self.create(tall, media_type="STORIES").status, 200)
        self.assertMetaError(self.create(tall), 36003, 2207009)
        self.assertMetaError(self.create(jpegs.png_header(1080, 1920), media_type="STORIES"),
                             36001, 2207005)

    def test_size_cap_is_8_mib(self):
        exact = jpegs.solid_jpeg(100, 100, pad_to=8 * MIB)
        self.assertEqual(self.create(exact).status, 200)
        over = jpegs.solid_jpeg(100, 100, pad_to=8 * MIB + 1)
        self.assertMetaError(self.create(over), 36000, 2207004,
                             "The image is too large to download. It should be less than 8 MiB.")

    def test_unreachable_urls(self):
        dead = "http://%s:%d/gone.jpg" % (HOST, free_port())
        cases = [
            ("404", self.images.put("/missing.jpg", b"nope", status=404)),
            ("500", self.images.put("/broken.jpg", FEED, status=500)),
            ("redirect", self.images.put("/moved.jpg", b"", status=302)),
            ("refused", dead),
            ("not http", "file:///etc/passwd"),
            ("not a url", "coffee.jpg"),
        ]
        for name, url in cases:
            with self.subTest(name):
                err = self.assertMetaError(self.create(None, image_url=url), 9004, 2207052)
                self.assertEqual(err["message"],
                                 "The media could not be fetched from this uri: " + url)

    def test_slow_image_times_out_without_blocking_the_emulator(self):
        url = self.images.put("/slow.jpg", FEED, delay=12)
        got = {}
        t0 = time.monotonic()
        th = threading.Thread(target=lambda: got.update(r=self.create(None, image_url=url)))
        th.start()
        for _ in deadline_loop(5, 0.02):
            if self.images.requests:
                break
        self.assertTrue(self.images.requests, "the emulator never fetched the image")
        t1 = time.monotonic()
        self.assertEqual(self.limit().status, 200)  # the world is not locked during a fetch
        self.assertLess(time.monotonic() - t1, 3)
        th.join(20)
        self.assertMetaError(got["r"], -2, 2207003, "It takes too long to download the media.")
        self.assertLess(time.monotonic() - t0, 12)

    def test_image_url_may_be_the_emulators_own(self):
        mid = self.publish(self.container()).json()["id"]
        url = self.node(mid, "media_url").json()["media_url"]
        cid = self.container(None, image_url=url)  # a fetch from itself: no lock held
        self.assertEqual(self.publish(cid).status, 200)

    def test_request_parameters(self):
        self.assertMetaError(self.emu.graph("POST", "/%s/media" % IG_ID, token=self.page,
                                            form={"caption": "no image"}), 100, None, "image_url")
        for mt in ("VIDEO", "REELS", "PANORAMA"):
            with self.subTest(mt):
                self.assertMetaError(self.create(media_type=mt), 100, 2207023, mt)
        self.assertMetaError(self.create(alt_text="x" * 1001), 100, None)
        self.assertEqual(self.create(alt_text="\u00e9" * 1000).status, 200)
        tags = '[{"username":"maya.lopez","x":0.5,"y":0.8}]'
        self.assertEqual(self.create(user_tags=tags).status, 200)
        self.assertMetaError(self.create(user_tags='[{"username":"a","x":2,"y":0}]'), 100, None)
        self.assertMetaError(self.create(user_tags="maya.lopez"), 100, None)
        many = "[" + ",".join('{"username":"u%d","x":0,"y":0}' % i for i in range(21)) + "]"
        self.assertMetaError(self.create(user_tags=many), 100, 2207040)

    def test_json_body_is_accepted(self):
        url = self.images.put("/json.jpg", FEED)
        r = self.emu.graph("POST", "/%s/media" % IG_ID, token=self.page,
                           json_body={"image_url": url, "caption": "via JSON"})
        self.assertEqual(r.status, 200, r)
        mid = self.publish(r.json()["id"]).json()["id"]
        self.assertEqual(self.node(mid, "caption").json()["caption"], "via JSON")


class CaptionTests(PublishCase):
    def test_length_counts_characters_not_bytes(self):
        self.assertEqual(self.create(caption="\u00e9" * 2200).status, 200)  # 4400 bytes
        self.assertEqual(self.create(caption="\U0001F600" * 2200).status, 200)
        err = self.assertMetaError(self.create(caption="a" * 2201), 36004, 2207010)
        self.assertIn("2201 characters", err["message"])

    def test_hashtags_and_mentions(self):
        tags = lambda n: " ".join("#tag%d" % i for i in range(n))
        mentions = lambda n: " ".join("@user%d" % i for i in range(n))
        self.assertEqual(self.create(caption=tags(30)).status, 200)
        self.assertMetaError(self.create(caption=tags(31)), 100, None, "hashtags")
        self.assertEqual(self.create(caption=mentions(20)).status, 200)
        self.assertMetaError(self.create(caption=mentions(21)), 100, 2207040)
        # an e-mail address and a lone sign are not tags
        text = mentions(20) + " mail dana@example.com or # or @ " + tags(30) + " #"
        self.assertEqual(self.create(caption=text).status, 200)

    def test_no_caption_on_carousel_items(self):
        cid = self.container(caption="ignored", is_carousel_item="true")
        other = self.container(is_carousel_item="true")
        parent = self.container(None, media_type="CAROUSEL", children=cid + "," + other,
                                caption="the album")
        mid = self.publish(parent).json()["id"]
        self.assertEqual(self.node(mid, "caption").json()["caption"], "the album")


class CarouselTests(PublishCase):
    def test_children_count_and_publish(self):
        kids = [self.container(is_carousel_item="true") for _ in range(11)]
        for n in (0, 1, 11):
            with self.subTest(children=n):
                r = self.create(None, media_type="CAROUSEL", children=",".join(kids[:n]))
                self.assertMetaError(r, 100, 2207028)
        parent = self.container(None, media_type="CAROUSEL", children=",".join(kids[:10]))
        self.assertEqual(self.status(parent)["status_code"], "FINISHED")
        r = self.publish(parent)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.limit().json()["data"][0]["quota_usage"], 1)  # one post

    def test_children_must_exist_on_this_account(self):
        kid = self.container(is_carousel_item="true")
        r = self.create(None, media_type="CAROUSEL", children=kid + ",17999999999999999")
        self.assertMetaError(r, 24, 2207006)


class AccessTests(PublishCase):
    def test_who_may_publish(self):
        outlet = self.emu.page_token(page_id=PAGE2_ID, user_token=self.user)
        cid = self.container()
        for name, tok in [("other Page's token", outlet), ("app token", APP_ID + "|" + APP_SECRET)]:
            with self.subTest(name):
                self.assertEqual(self.create(token=tok).status, 400)
                self.assertEqual(self.publish(cid, token=tok).status, 400)
        r = self.create(token=outlet)
        self.assertMetaError(r, 100, 33, "does not exist")
        self.assertEqual(r.json()["error"]["type"], "GraphMethodException")
        r = self.emu.graph("POST", "/%s/media" % PAGE2_ID, token=outlet, form={"image_url": "x"})
        self.assertMetaError(r, 100, 33)
        self.assertEqual(self.node(cid, "status_code", token=outlet).status, 400)
        r = self.emu.graph("POST", "/%s/media" % IG_ID, form={"image_url": "x"})
        self.assertEqual(r.status, 400)

    def test_instagram_content_publish_is_required(self):
        redirect = "http://127.0.0.1:1/oauth/callback"
        code = self.emu.login(redirect_uri=redirect,
                              scope="pages_show_list,instagram_basic")["code"]
        r = self.emu.graph("GET", "/oauth/access_token",
                           params={"client_id": APP_ID, "client_secret": APP_SECRET,
                                   "redirect_uri": redirect, "code": code})
        tok = self.emu.page_token(user_token=r.json()["access_token"])
        self.assertMetaError(self.create(token=tok), 10, None, "permission")
        self.assertMetaError(self.publish(self.container(), token=tok), 10, None)
        r = self.emu.graph("GET", "/%s/media" % IG_ID, token=tok)  # reading needs only basic
        self.assertEqual(r.status, 200, r)


class ReadinessTests(PublishCase):
    ARGS = ("--container-ready-ms", "1500")  # long enough to look twice on a slow build

    def test_in_progress_then_finished(self):
        cid = self.container()
        self.assertEqual(self.status(cid), {
            "id": cid, "status_code": "IN_PROGRESS",
            "status": "In Progress: Media is still being processed."})
        err = self.assertMetaError(self.publish(cid), 9007, 2207027)
        self.assertEqual(err["message"], "Media ID is not available")  # as the real response
        self.assertEqual(err["error_user_msg"],
                         "The media is not ready for publishing, please wait for a moment")
        for _ in deadline_loop(10, 0.05):
            if self.status(cid)["status_code"] == "FINISHED":
                break
        self.assertEqual(self.status(cid)["status_code"], "FINISHED")
        self.assertEqual(self.publish(cid).status, 200)

    def test_carousel_children_must_be_finished(self):
        a, b = self.container(), self.container()
        r = self.create(None, media_type="CAROUSEL", children=a + "," + b)
        self.assertMetaError(r, 9007, 2207027)


class ExpiryTests(PublishCase):
    def test_unpublished_container_expires_after_24_hours(self):
        cid = self.container()
        self.advance(DAY_MS - 1000)
        self.assertEqual(self.status(cid)["status_code"], "FINISHED")
        self.advance(1000)
        st = self.status(cid)
        self.assertEqual(st["status_code"], "EXPIRED")
        self.assertTrue(st["status"].startswith("Expired"), st)
        self.assertMetaError(self.publish(cid), -2, 2207020)

    def test_published_container_stays_published(self):
        cid = self.container()
        self.assertEqual(self.publish(cid).status, 200)
        self.advance(25 * 3600 * 1000)
        self.assertEqual(self.status(cid)["status_code"], "PUBLISHED")


class QuotaTests(PublishCase):
    ARGS = ("--quota", "2")

    def test_quota_and_the_rolling_day(self):
        self.assertEqual(self.limit(None).json(), {"data": [{"quota_usage": 0}]})
        self.assertEqual(self.publish(self.container()).status, 200)
        self.advance(12 * 3600 * 1000)
        self.assertEqual(self.publish(self.container()).status, 200)
        third = self.container()
        r = self.publish(third)
        self.assertMetaError(r, 9, 2207042, "You reached maximum number of posts that is "
                             "allowed to be published by Content Publishing API.")
        self.assertEqual(self.status(third)["status_code"], "FINISHED")  # still publishable
        self.assertEqual(self.limit().json(), {"data": [{"quota_usage": 2, "config": {
            "quota_total": 2, "quota_duration": 86400}}]})
        self.advance(12 * 3600 * 1000)  # the first post leaves the window
        self.assertEqual(self.limit("quota_usage").json()["data"][0]["quota_usage"], 1)
        self.assertEqual(self.publish(third).status, 200)
        self.assertMetaError(self.publish(self.container()), 9, 2207042)
        self.advance(DAY_MS)
        self.assertEqual(self.limit().json()["data"][0]["quota_usage"], 0)
        self.assertEqual(self.publish(self.container()).status, 200)

    def test_limit_fields_and_since(self):
        self.assertEqual(self.publish(self.container()).status, 200)
        st = self.emu.state()
        now_s = int(st.get("now_ms", time.time() * 1000)) // 1000
        self.assertEqual(self.limit("config").json(), {"data": [{"config": {
            "quota_total": 2, "quota_duration": 86400}}]})
        self.assertEqual(self.limit(since=str(now_s - 60)).json()["data"][0]["quota_usage"], 1)
        self.assertEqual(self.limit(since=str(now_s + 60)).json()["data"][0]["quota_usage"], 0)
        for bad in (str(now_s - 2 * 86400), "yesterday", ""):
            with self.subTest(since=bad):
                self.assertMetaError(self.limit(since=bad), 100, None)
        self.assertMetaError(self.limit("quota_usage,quota_left"), 100, None, "quota_left")


if __name__ == "__main__":
    import unittest
    unittest.main()
