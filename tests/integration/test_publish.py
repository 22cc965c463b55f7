"""Publishing to Instagram end to end, against the local Meta (emu.py): `switchboard publish`
queues a post, the running server fits the image into its media store, checks the quota,
makes the container (the emulator fetches /media/{id}.jpg from the server, as Meta does),
polls it and publishes it. Checked on both sides: the emulator's posts (what Meta would show)
and the post's row and `posts show --json` (what Switchboard believes).

Covered: JPEG and PNG from a file and from a URL, keep / pad / crop, a carousel, a schedule,
the caption rules refused at once, the quota used up (by us and by someone else) and the
deferral shown, every container status (ERROR with its subcode, EXPIRED, a fetch failure, a
500 retried), and kill -9 in the middle of a publish: published once."""

import http.server
import json
import os
import struct
import subprocess
import threading
import time
import zlib

import jpegs
from emu import APP_ID, APP_SECRET, Emulator, EmulatorTestCase
from harness import HOST, base_env, binary_path, deadline_loop, http_request

IG_ID = "17841400000000001"


def png(width, height, alpha=False):
    """A real PNG (a gradient), written with zlib."""
    channels = 4 if alpha else 3
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            px = [(x * 255) // max(1, width - 1), (y * 255) // max(1, height - 1), 90]
            if alpha:
                px.append(200)
            rows.extend(px)

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(rows), 1))
            + chunk(b"IEND", b""))


def jpeg_size(data):
    """(width, height) from a JPEG's SOF marker."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            raise AssertionError("not a JPEG segment at %d" % i)
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    raise AssertionError("no SOF in the JPEG")


class Files:
    """A local image server for --image URL."""

    def __init__(self):
        self.files = {}
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body, status = srv.files.get(self.path, (b"not found", 404))
                self.send_response(status)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, 0), H)
        self.server.daemon_threads = True
        self.base = "http://%s:%d" % (HOST, self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def put(self, path, body, status=200):
        self.files[path] = (body, status)
        return self.base + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class PublishCase(EmulatorTestCase):
    EMU_ARGS = ()

    def setUp(self):
        self.emu = Emulator(args=list(self.EMU_ARGS))
        self.addCleanup(self.emu.stop)
        self.emu.start()
        self.server = self.start_server(secret=APP_SECRET, env=self.server_env())
        rc, _, err = self.run_sb("accounts", "connect", "--user-token", "-",
                                 stdin=self.emu.user_token() + "\n")
        self.assertEqual(rc, 0, err)
        self.account = self.server.scalar(
            "SELECT id FROM accounts WHERE platform = 'instagram' AND external_id = ?", (IG_ID,))
        self.assertIsNotNone(self.account)
        self.tmp = self.server.data_dir + "-inputs"
        os.makedirs(self.tmp, exist_ok=True)
        self.page = self.emu.page_token(user_token=self.emu.user_token())

    def server_env(self):
        return {"SB_META_APP_ID": APP_ID, "SB_META_GRAPH_URL": self.emu.base,
                "SB_META_GRAPH_VERSION": "v24.0"}

    def run_sb(self, *args, stdin=None):
        env = base_env()
        env.update({"SB_DATA_DIR": self.server.data_dir, "SB_META_GRAPH_URL": self.emu.base,
                    "SB_META_GRAPH_VERSION": "v24.0", "SB_META_APP_ID": APP_ID,
                    "SB_META_APP_SECRET": APP_SECRET})
        r = subprocess.run([binary_path()] + list(args), input=(stdin or "").encode(), env=env,
                           capture_output=True, timeout=60)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def image_file(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def publish(self, *images, caption="Autumn blend is back #coffee", fit=None, at=None,
                expect_rc=0):
        args = ["publish", "--account", str(self.account), "--caption", caption]
        for img in images:
            args += ["--image", img]
        if fit:
            args += ["--fit", fit]
        if at:
            args += ["--at", at]
        rc, out, err = self.run_sb(*args)
        self.assertEqual(rc, expect_rc, err)
        if expect_rc:
            self.assertEqual(out, "")
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            return err
        return int(out.strip())

    def show(self, post_id):
        rc, out, err = self.run_sb("posts", "show", str(post_id), "--json")
        self.assertEqual(rc, 0, err)
        return json.loads(out)

    def wait_state(self, post_id, states, timeout=30):
        got = None
        for _ in deadline_loop(timeout, 0.1):
            got = self.server.scalar("SELECT state FROM posts WHERE id = ?", (post_id,))
            if got in states:
                break
        return got

    def wait_published(self, post_id, timeout=30):
        state = self.wait_state(post_id, ("published", "failed"), timeout)
        post = self.show(post_id)
        self.assertEqual(state, "published", "%r\nserver log tail:\n%s" % (
            post, self.server.stderr(-1)[-4000:]))
        return post

    def emu_posts(self, fields="id,caption,media_url,permalink"):
        r = self.emu.graph("GET", "/%s/media" % IG_ID, token=self.page,
                           params={"fields": fields, "limit": 50})
        self.assertEqual(r.status, 200, r)
        return r.json()["data"]

    def mine(self, caption):
        return [m for m in self.emu_posts() if m.get("caption") == caption]

    def fetch_emu_image(self, media):
        path = media["media_url"].split(str(self.emu.port), 1)[1]
        r = http_request(self.emu.port, "GET", path)
        self.assertEqual(r.status, 200)
        return r.body


class TestPublishing(PublishCase):
    def test_jpeg_file_published_with_permalink_and_decision(self):
        post_id = self.publish(self.image_file("a.jpg", jpegs.solid_jpeg(1200, 1500)),
                               caption="A cup \u2615 #coffee @northwind.coffee")
        self.assertGreater(post_id, 0)
        post = self.wait_published(post_id)
        self.assertEqual(post["reason"], None)
        self.assertTrue(post["permalink"].startswith("https://www.instagram.com/p/"), post)
        self.assertTrue(post["media_id"])
        fit = post["items"][0]["fit"]
        self.assertEqual((fit["format"], fit["action"], fit["width"], fit["height"]),
                         ("jpeg", "keep", 1080, 1350))
        self.assertEqual(fit["metadata"], "stripped")
        self.assertLessEqual(fit["bytes"], 8000000)
        self.assertEqual(fit["quality"], 100)
        live = self.mine("A cup \u2615 #coffee @northwind.coffee")
        self.assertEqual(len(live), 1)
        self.assertEqual(live[0]["id"], post["media_id"])
        self.assertEqual(live[0]["permalink"], post["permalink"])
        self.assertEqual(jpeg_size(self.fetch_emu_image(live[0])), (1080, 1350))
        # Once published, no post needs the image: its row and file are gone.
        self.assertEqual(self.server.scalar("SELECT count(*) FROM media"), 0)
        self.assertEqual([f for f in os.listdir(os.path.join(self.server.data_dir, "media"))
                          if f.endswith(".jpg")], [])
        rc, out, _ = self.run_sb("posts", "list")
        self.assertEqual(rc, 0)
        self.assertIn("published", out)
        rc, out, _ = self.run_sb("posts", "list", "--json")
        rows = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([(r["id"], r["state"]) for r in rows], [(post_id, "published")])

    def test_png_url_cropped_and_padded(self):
        files = Files()
        self.addCleanup(files.close)
        url = files.put("/wide.png", png(1000, 400))  # 2.5:1, beyond 1.91:1
        crop = self.publish(url, fit="crop", caption="wide crop")
        pad = self.publish(self.image_file("tall.png", png(300, 600, alpha=True)), fit="pad",
                           caption="tall pad")  # 1:2, beyond 4:5
        c, p = self.wait_published(crop), self.wait_published(pad)
        self.assertEqual(c["items"][0]["source"], url)
        self.assertEqual(p["items"][0]["source"], "upload")
        fc, fp = c["items"][0]["fit"], p["items"][0]["fit"]
        self.assertEqual((fc["format"], fc["action"], fc["width"], fc["height"]),
                         ("png", "crop", 1080, 566))
        self.assertEqual((fp["format"], fp["action"], fp["width"], fp["height"]),
                         ("png", "pad", 1080, 1350))
        self.assertEqual(jpeg_size(self.fetch_emu_image(self.mine("wide crop")[0])), (1080, 566))

    def test_carousel(self):
        imgs = [self.image_file("c%d.jpg" % i, jpegs.solid_jpeg(1000 + 100 * i, 1000))
                for i in range(3)]
        post_id = self.publish(*imgs, caption="three of a kind")
        post = self.wait_published(post_id)
        self.assertEqual(post["kind"], "carousel")
        self.assertEqual(len(post["items"]), 3)
        self.assertTrue(all(it["container_id"] for it in post["items"]))
        self.assertEqual(len({it["container_id"] for it in post["items"]}), 3)
        # every item takes the first one's ratio (1:1), as Instagram crops a carousel
        self.assertEqual([(it["fit"]["width"], it["fit"]["height"]) for it in post["items"]],
                         [(1080, 1080)] * 3)
        self.assertEqual(len(self.mine("three of a kind")), 1)

    def test_scheduled(self):
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3))
        post_id = self.publish(self.image_file("s.jpg", jpegs.solid_jpeg(1080, 1080)), at=at,
                               caption="later")
        self.assertEqual(self.show(post_id)["state"], "scheduled")
        self.assertEqual(self.mine("later"), [])
        post = self.wait_published(post_id, timeout=40)
        self.assertGreaterEqual(post["published_at"], at.replace("Z", ""))

    def test_refused_at_once(self):
        img = self.image_file("r.jpg", jpegs.solid_jpeg(800, 800))
        cases = [
            (dict(caption=" ".join("#t%d" % i for i in range(31))), "31 hashtags"),
            (dict(caption=" ".join("@u%d" % i for i in range(21))), "21 accounts"),
            (dict(caption="\u00e9" * 2201), "2201 characters"),
        ]
        for kw, words in cases:
            err = self.publish(img, expect_rc=2, **kw)
            self.assertIn(words, err)
        err = self.publish(self.image_file("t.txt", b"not an image"), expect_rc=2)
        self.assertIn("not an image", err)
        err = self.publish(self.image_file("g.gif", jpegs.gif_header(10, 10)), expect_rc=2)
        self.assertIn("not an image", err)
        self.assertIn("--fit", self.publish(img, fit="stretch", expect_rc=2))
        self.assertIn("--at", self.publish(img, at="tomorrow", expect_rc=2))
        rc, _, err = self.run_sb("publish", "--account", "999", "--image", img, "--caption", "x")
        self.assertEqual(rc, 2, err)
        self.assertEqual(self.server.scalar("SELECT count(*) FROM posts"), 0)


class TestQuota(PublishCase):
    EMU_ARGS = ("--quota", "2")

    def test_quota_used_up_defers_and_says_when(self):
        img = self.image_file("q.jpg", jpegs.solid_jpeg(1080, 1080))
        first = [self.publish(img, caption="quota %d" % i) for i in range(2)]
        for p in first:
            self.wait_published(p)
        third = self.publish(img, caption="quota 2")
        self.assertEqual(self.wait_state(third, ("deferred", "published", "failed")), "deferred")
        post = self.show(third)
        self.assertIn("quota is used up (2 of 2", post["reason"])
        published = [self.show(p)["published_at"] for p in first]
        # the slot frees when the older of our two publishes is 24 hours old
        oldest = min(published)
        until = post["deferred_until"]
        t0 = time.mktime(time.strptime(oldest[:19], "%Y-%m-%dT%H:%M:%S"))
        t1 = time.mktime(time.strptime(until[:19], "%Y-%m-%dT%H:%M:%S"))
        self.assertAlmostEqual(t1 - t0, 24 * 3600, delta=2)
        self.assertEqual(self.mine("quota 2"), [])
        rc, out, _ = self.run_sb("posts", "list")
        self.assertIn("deferred", out)
        q = self.server.query("SELECT quota_usage, quota_total FROM accounts WHERE id = ?",
                              (self.account,))
        self.assertEqual(q, [(2, 2)])

    def test_quota_used_by_someone_else(self):
        # Two posts published past Switchboard (another tool): Meta counts them, we do not.
        img = self.image_file("o.jpg", jpegs.solid_jpeg(1080, 1080))
        files = Files()
        self.addCleanup(files.close)
        url = files.put("/x.jpg", jpegs.solid_jpeg(1080, 1080))
        for i in range(2):
            cid = self.emu.graph("POST", "/%s/media" % IG_ID, token=self.page,
                                 form={"image_url": url}).json()["id"]
            r = self.emu.graph("POST", "/%s/media_publish" % IG_ID, token=self.page,
                               params={"creation_id": cid})
            self.assertEqual(r.status, 200, r)
        post_id = self.publish(img, caption="after others")
        self.assertEqual(self.wait_state(post_id, ("deferred", "published", "failed")),
                         "deferred")
        post = self.show(post_id)
        self.assertIn("2 of 2", post["reason"])
        self.assertTrue(post["deferred_until"])


class TestContainerStatuses(PublishCase):
    EMU_ARGS = ("--container-ready-ms", "600000")  # stays IN_PROGRESS until moved

    def container_of(self, post_id, timeout=30):
        cid = None
        for _ in deadline_loop(timeout, 0.1):
            cid = self.server.scalar("SELECT container_id FROM posts WHERE id = ?", (post_id,))
            if cid:
                break
        self.assertTrue(cid, self.show(post_id))
        return cid

    def move(self, cid, status, subcode=None):
        body = {"status_code": status}
        if subcode:
            body["error_subcode"] = subcode
        r = self.emu.control("POST", "/_emulator/containers/%s" % cid, body)
        self.assertEqual(r.status, 200, r)

    def test_error_fails_with_metas_words(self):
        post_id = self.publish(self.image_file("e.jpg", jpegs.solid_jpeg(900, 900)))
        cid = self.container_of(post_id)
        time.sleep(0.5)
        self.assertEqual(self.show(post_id)["step"], "poll")
        self.move(cid, "ERROR", 2207053)
        self.assertEqual(self.wait_state(post_id, ("failed", "published")), "failed")
        post = self.show(post_id)
        self.assertIn("ERROR", post["reason"])
        self.assertIn("2207053", post["reason"])
        self.assertEqual(self.mine("Autumn blend is back #coffee"), [])

    def test_expired_fails(self):
        post_id = self.publish(self.image_file("x.jpg", jpegs.solid_jpeg(900, 900)))
        self.move(self.container_of(post_id), "EXPIRED")
        self.assertEqual(self.wait_state(post_id, ("failed", "published")), "failed")
        self.assertIn("expired", self.show(post_id)["reason"])

    def test_in_progress_then_finished(self):
        post_id = self.publish(self.image_file("f.jpg", jpegs.solid_jpeg(900, 900)),
                               caption="slowly")
        cid = self.container_of(post_id)
        time.sleep(2.5)  # a few polls, with backoff
        polls = self.server.scalar("SELECT polls FROM posts WHERE id = ?", (post_id,))
        self.assertGreaterEqual(polls, 1)
        self.move(cid, "FINISHED")
        self.wait_published(post_id)
        self.assertEqual(len(self.mine("slowly")), 1)


class TestContainerErrors(PublishCase):
    def test_media_not_fetchable(self):
        # SB_PUBLIC_URL points where nothing listens: Meta cannot fetch the image (9004).
        self.server.stop()
        self.server.extra_env["SB_PUBLIC_URL"] = "http://127.0.0.1:9"
        self.server.restart()
        post_id = self.publish(self.image_file("n.jpg", jpegs.solid_jpeg(900, 900)))
        self.assertEqual(self.wait_state(post_id, ("failed", "published")), "failed")
        post = self.show(post_id)
        self.assertEqual((post["error_code"], post["error_subcode"]), (9004, 2207052))
        self.assertIn("could not be fetched", post["reason"])

    def test_server_error_retried_then_published_once(self):
        r = self.emu.control("POST", "/_emulator/faults", {
            "kind": "http_500", "path": "/media", "method": "POST", "count": 1})
        self.assertEqual(r.status, 200, r)
        post_id = self.publish(self.image_file("r.jpg", jpegs.solid_jpeg(900, 900)),
                               caption="after a 500")
        self.wait_published(post_id, timeout=40)
        self.assertEqual(len(self.mine("after a 500")), 1)


class TestCrash(PublishCase):
    def test_kill9_while_media_publish_is_in_flight_publishes_once(self):
        # media_publish is slow: the server is killed after sending it, before the answer.
        r = self.emu.control("POST", "/_emulator/faults", {
            "kind": "slow", "path": "/media_publish", "method": "POST", "count": 1,
            "delay_ms": 3000})
        self.assertEqual(r.status, 200, r)
        post_id = self.publish(self.image_file("k.jpg", jpegs.solid_jpeg(900, 900)),
                               caption="exactly once")
        sent = None
        for _ in deadline_loop(30, 0.05):
            sent = self.server.scalar("SELECT publish_sent_at FROM posts WHERE id = ?",
                                      (post_id,))
            if sent:
                break
        self.assertTrue(sent)
        time.sleep(0.3)  # the request is on the wire
        self.server.kill9()
        for _ in deadline_loop(10, 0.1):  # Meta finishes it meanwhile
            if self.mine("exactly once"):
                break
        self.assertEqual(len(self.mine("exactly once")), 1)
        self.server.restart()
        post = self.wait_published(post_id, timeout=60)
        live = self.mine("exactly once")
        self.assertEqual(len(live), 1)
        self.assertEqual(post["media_id"], live[0]["id"])
        self.assertEqual(post["permalink"], live[0]["permalink"])

    def test_kill9_before_media_publish_publishes_once(self):
        r = self.emu.control("POST", "/_emulator/faults", {
            "kind": "slow", "path": "/media", "method": "POST", "count": 1, "delay_ms": 2000})
        self.assertEqual(r.status, 200, r)
        post_id = self.publish(self.image_file("b.jpg", jpegs.solid_jpeg(900, 900)),
                               caption="once more")
        self.assertEqual(self.wait_state(post_id, ("publishing",)), "publishing")
        for _ in deadline_loop(20, 0.05):
            if self.server.scalar("SELECT step FROM posts WHERE id = ?", (post_id,)) == \
                    "container":
                break
        time.sleep(0.5)
        self.server.kill9()
        time.sleep(2)
        self.server.restart()
        self.wait_published(post_id, timeout=60)
        self.assertEqual(len(self.mine("once more")), 1)
