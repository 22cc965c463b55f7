"""The emulator's webhook sender (src/emulator/deliver.c) against a real receiver (emu.Sink):
Meta's signatures and escaping, the envelope and event shapes, batching, the subscription
filter, retries, dropping, and the delivery log."""

import concurrent.futures
import hashlib
import hmac
import json
import re

from emu import APP_SECRET, IG_ID, PAGE2_ID, PAGE_ID, EmulatorTestCase, Sink
from harness import HOST, check_log_lines, deadline_loop, free_port

ALL_FIELDS = ("messages,message_echoes,messaging_postbacks,message_reactions,messaging_seen,"
              "message_reads")


def raw_entries(delivery):
    return json.loads(delivery["body"])["entry"]


class WebhookTestCase(EmulatorTestCase):
    """Starts an emulator delivering to self.sink with Page 0 subscribed."""

    def subscribed(self, args=(), statuses=(), fields=ALL_FIELDS):
        emu = self.start_emulator(args=args, webhook=True, sink_statuses=statuses)
        emu.subscribe(emu.page_token(), fields=fields)
        self.emu = emu
        return emu

    def say(self, text, customer=0, channel="instagram", **extra):
        body = dict(extra, channel=channel, text=text)
        r = self.emu.control("POST", "/_emulator/customers/%d/messages" % customer, body)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def act(self, customer=0, **body):
        r = self.emu.control("POST", "/_emulator/customers/%d/messages" % customer, body)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def wait_events(self, n, timeout=10):
        for _ in deadline_loop(timeout, 0.02):
            if len(self.sink.events()) >= n:
                break
        events = self.sink.events()
        self.assertGreaterEqual(len(events), n, "deliveries: %r" % self.sink.received)
        return events

    def deliveries(self):
        r = self.emu.control("GET", "/_emulator/deliveries")
        self.assertEqual(r.status, 200, r)
        return r.json()

    def wait_log(self, pred, timeout=10):
        """The delivery log once pred(log) holds (fails the test otherwise)."""
        d = None
        for _ in deadline_loop(timeout, 0.02):
            d = self.deliveries()
            if pred(d):
                return d
        self.fail("delivery log never matched: %r" % d)

    def finish(self):
        """Stops the emulator: exit 0 (no sanitizer report), JSON log lines, no secret."""
        rc = self.emu.stop()
        log = self.emu.stderr()
        self.assertEqual(rc, 0, log[-3000:])
        self.assertEqual(check_log_lines(log, [APP_SECRET]), [])


class SignatureAndEscapingTests(WebhookTestCase):

    def test_both_signatures_are_meta_hmacs_of_the_raw_body(self):
        self.subscribed()
        self.say("Do you have oat milk?")
        d = self.sink.wait(1)[0]
        body, h = d["body"], d["headers"]
        self.assertTrue(d["signature_ok"], h)
        want256 = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        want1 = "sha1=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha1).hexdigest()
        self.assertEqual(h.get("X-Hub-Signature-256"), want256)
        self.assertEqual(h.get("X-Hub-Signature"), want1)
        other = "sha256=" + hmac.new(b"another-secret", body, hashlib.sha256).hexdigest()
        self.assertNotEqual(h.get("X-Hub-Signature-256"), other)
        self.assertTrue(h.get("Content-Type", "").startswith("application/json"), h)
        self.assertEqual(h.get("User-Agent"), "facebookexternalua")
        self.finish()

    def test_non_ascii_is_escaped_lower_case_and_slashes_too(self):
        self.subscribed()
        text = "Caf\u00e9 \u2615 \U0001F600 see https://northwind.example/menu"
        self.say(text)
        body = self.sink.wait(1)[0]["body"]
        body.decode("ascii")  # every byte is ASCII
        for want in (b"Caf\\u00e9", b"\\u2615", b"\\ud83d\\ude00",
                     b"https:\\/\\/northwind.example\\/menu"):
            self.assertIn(want, body)
        self.assertEqual(re.findall(rb"\\u[0-9a-fA-F]{4}", body),
                         re.findall(rb"\\u[0-9a-f]{4}", body), "upper-case hex in escapes")
        self.assertNotIn(b": ", body)  # compact, as Meta sends it
        ev = raw_entries(self.sink.received[0])[0]["messaging"][0]
        self.assertEqual(ev["message"]["text"], text)
        self.finish()


class ShapeTests(WebhookTestCase):

    def test_instagram_message_envelope(self):
        emu = self.subscribed()
        customer = emu.state()["customers"][1]
        sent = self.say("Is the caf\u00e9 open on Sunday?", customer=1)
        d = self.sink.wait(1)[0]
        doc = json.loads(d["body"])
        self.assertEqual(doc["object"], "instagram")
        [entry] = doc["entry"]
        self.assertEqual(entry["id"], IG_ID)
        self.assertGreater(entry["time"], 10 ** 12)  # milliseconds for messaging
        [ev] = entry["messaging"]
        self.assertEqual(ev["sender"], {"id": customer["igsid"]})
        self.assertEqual(ev["recipient"], {"id": IG_ID})
        self.assertGreater(ev["timestamp"], 10 ** 12)
        self.assertEqual(ev["message"], {"mid": sent["mid"], "text": "Is the caf\u00e9 open on Sunday?"})
        self.assertTrue(sent["mid"].startswith("aWdf"), sent)
        self.finish()

    def test_messenger_message_with_attachment(self):
        emu = self.subscribed()
        psid = emu.state()["customers"][2]["psid"][PAGE_ID]
        att = {"type": "image", "payload": {"url": "https://cdn.example/p.jpg"}}
        sent = self.act(customer=2, channel="messenger", attachment=att)
        [(obj, entry_id, key, ev)] = self.wait_events(1)
        self.assertEqual((obj, entry_id, key), ("page", PAGE_ID, "messaging"))
        self.assertEqual(ev["sender"], {"id": psid})
        self.assertEqual(ev["recipient"], {"id": PAGE_ID})
        self.assertEqual(ev["message"], {"mid": sent["mid"], "attachments": [att]})
        self.assertTrue(sent["mid"].startswith("m_"), sent)
        self.finish()

    def test_reaction_postback_and_reads_in_each_channel(self):
        emu = self.subscribed()
        ig_mid = self.say("first")["mid"]
        fb_mid = self.say("first", channel="messenger")["mid"]
        self.act(channel="instagram", kind="reaction", mid=ig_mid, reaction="love")
        self.act(channel="messenger", kind="postback", title="Opening hours", payload="HOURS")
        self.act(channel="instagram", kind="read", mid=ig_mid)
        self.act(channel="messenger", kind="read", mid=fb_mid)
        events = self.wait_events(6)
        by_kind = {}
        for obj, _, _, ev in events:
            for k in ("message", "reaction", "postback", "read"):
                if k in ev:
                    by_kind.setdefault((obj, k), []).append(ev)
        reaction = by_kind[("instagram", "reaction")][0]["reaction"]
        self.assertEqual(reaction, {"mid": ig_mid, "action": "react", "reaction": "love",
                                    "emoji": "\u2764\ufe0f"})
        postback = by_kind[("page", "postback")][0]["postback"]
        self.assertEqual((postback["title"], postback["payload"]), ("Opening hours", "HOURS"))
        self.assertTrue(postback["mid"].startswith("m_"))
        self.assertEqual(by_kind[("instagram", "read")][0]["read"], {"mid": ig_mid})
        fb_read = by_kind[("page", "read")][0]
        self.assertEqual(list(fb_read["read"]), ["watermark"])
        self.assertGreaterEqual(fb_read["read"]["watermark"], fb_read["timestamp"] - 1)
        raw = b"".join(d["body"] for d in self.sink.received)
        self.assertIn(b'"emoji":"\\u2764\\ufe0f"', raw)
        self.finish()

    def test_comment_is_a_changes_entry_with_seconds(self):
        emu = self.subscribed()
        st = emu.state()
        media_id = st["media"][0]["id"]
        customer = st["customers"][0]
        r = emu.control("POST", "/_emulator/customers/0/comments",
                        {"media_id": media_id, "text": "Love this blend!"})
        self.assertEqual(r.status, 200, r)
        top = r.json()["id"]
        r = emu.control("POST", "/_emulator/customers/0/comments",
                        {"media_id": media_id, "text": "Is it decaf?", "parent_id": top})
        self.assertEqual(r.status, 200, r)
        reply = r.json()["id"]
        events = self.wait_events(2)
        self.assertEqual([(o, i, k) for o, i, k, _ in events], [("instagram", IG_ID, "changes")] * 2)
        self.assertEqual(events[0][3], {
            "field": "comments",
            "value": {"from": {"id": customer["igsid"], "username": customer["ig_username"]},
                      "media": {"id": media_id, "media_product_type": "FEED"},
                      "id": top, "text": "Love this blend!"}})
        self.assertEqual(events[1][3]["value"]["parent_id"], top)
        self.assertEqual(events[1][3]["value"]["id"], reply)
        for d in self.sink.received:
            for entry in raw_entries(d):
                self.assertLess(entry["time"], 10 ** 12)  # seconds for changes
        self.finish()


class BatchingAndFilterTests(WebhookTestCase):

    def test_a_burst_leaves_in_shared_bodies(self):
        self.subscribed()
        texts = ["burst %d" % i for i in range(12)]
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            sent = list(pool.map(lambda t: self.say(t, customer=texts.index(t) % 4), texts))
        events = self.wait_events(len(texts))
        mids = sorted(ev["message"]["mid"] for _, _, _, ev in events)
        self.assertEqual(mids, sorted(s["mid"] for s in sent))  # each once
        sizes = [sum(len(en["messaging"]) for en in raw_entries(d)) for d in self.sink.received]
        self.assertLess(len(self.sink.received), len(texts), sizes)
        self.assertGreater(max(sizes), 1, sizes)
        for d in self.sink.received:
            self.assertTrue(d["signature_ok"])
            ids = [(en["id"], tuple(sorted(en))) for en in raw_entries(d)]
            self.assertEqual(len(ids), len(set(ids)), "one entry per id and key: %r" % ids)
        log = self.deliveries()
        self.assertEqual(sum(x["events"] for x in log["deliveries"]), len(texts))
        self.finish()

    def test_nothing_flows_for_an_unsubscribed_page(self):
        emu = self.start_emulator(webhook=True)
        self.emu = emu
        self.say("before anything is subscribed")                      # IG, app not installed
        self.say("hello page", channel="messenger")
        self.assertEqual(self.deliveries(), {"deliveries": [], "pending": 0, "total": 0})
        emu.subscribe(emu.page_token(), fields="messages")
        self.say("Page 1 has no subscription", channel="messenger", page=1)
        self.act(channel="messenger", kind="postback", title="Menu")    # field not subscribed
        self.say("marker", channel="messenger")
        [(obj, entry_id, _, ev)] = self.wait_events(1)
        self.assertEqual((obj, entry_id, ev["message"]["text"]), ("page", PAGE_ID, "marker"))
        self.assertEqual(len(self.sink.received), 1)
        self.assertNotIn(PAGE2_ID.encode(), self.sink.received[0]["body"])
        self.finish()

    def test_instagram_needs_only_the_app_installed_on_the_linked_page(self):
        emu = self.subscribed(fields="messages")
        mid = self.say("hi")["mid"]
        self.act(channel="instagram", kind="reaction", mid=mid)  # not among the Page's fields: IG is app-level
        events = self.wait_events(2)
        self.assertEqual([e[0] for e in events], ["instagram", "instagram"])
        self.assertIn("reaction", events[1][3])
        r = emu.graph("DELETE", "/%s/subscribed_apps" % PAGE_ID, token=emu.page_token())
        self.assertEqual(r.status, 200, r)
        self.say("after the app was removed")
        self.assertEqual(self.deliveries()["pending"], 0)
        self.assertEqual(sum(x["events"] for x in self.deliveries()["deliveries"]), 2)
        self.finish()


class RetryTests(WebhookTestCase):

    def test_retried_with_the_same_body_until_200(self):
        self.subscribed(args=["--webhook-retry-ms", "50"], statuses=[500, 500])
        mid = self.say("retry me")["mid"]
        got = self.sink.wait(3)
        self.assertEqual([d["status"] for d in got], [500, 500, 200])
        self.assertEqual(len({d["body"] for d in got}), 1, "the same bytes every attempt")
        self.assertTrue(all(d["signature_ok"] for d in got))
        self.assertIn(mid.encode(), got[0]["body"])
        log = self.wait_log(lambda d: d["deliveries"] and d["deliveries"][0]["delivered"])
        [entry] = log["deliveries"]
        self.assertEqual({k: entry[k] for k in ("id", "attempts", "last_status", "events",
                                                  "delivered", "dropped")},
                         {"id": 0, "attempts": 3, "last_status": 200, "events": 1,
                          "delivered": True, "dropped": False})
        self.assertLessEqual(entry["first_ms"], entry["last_ms"])
        self.assertEqual(log["pending"], 0)
        self.finish()

    def test_dropped_after_max_attempts(self):
        self.subscribed(args=["--webhook-retry-ms", "20", "--webhook-max-attempts", "3"],
                        statuses=[500, 503, 500])
        self.say("doomed")
        self.assertEqual(len(self.sink.wait(3)), 3)
        log = self.wait_log(lambda d: d["deliveries"] and d["deliveries"][0]["dropped"])
        first = log["deliveries"][0]
        self.assertEqual((first["attempts"], first["last_status"], first["delivered"]),
                         (3, 500, False))
        self.assertEqual(log["pending"], 0)
        later = self.say("after the drop")["mid"]
        got = self.sink.wait(4)
        self.assertEqual(len(got), 4, "the dropped body is not sent again")
        self.assertIn(later.encode(), got[3]["body"])
        self.assertNotIn(b"doomed", got[3]["body"])
        self.finish()

    def test_newer_batches_go_out_while_one_waits_for_its_retry(self):
        self.subscribed(args=["--webhook-retry-ms", "600000"], statuses=[500, 500])
        self.say("stuck")
        self.assertEqual(len(self.sink.wait(2)), 2)  # the first attempt and the immediate retry
        self.wait_log(lambda d: d["deliveries"] and d["deliveries"][0]["attempts"] == 2)
        self.say("goes ahead")
        [(_, _, _, ev)] = self.wait_events(1)
        self.assertEqual(ev["message"]["text"], "goes ahead")
        log = self.wait_log(lambda d: len(d["deliveries"]) == 2 and d["deliveries"][1]["delivered"])
        stuck = log["deliveries"][0]
        self.assertEqual((stuck["attempts"], stuck["delivered"], stuck["dropped"]), (2, False, False))
        self.assertEqual(log["pending"], 1)
        self.finish()  # stops promptly: the pending retry is not waited for

    def test_connection_failure_is_status_0(self):
        emu = self.subscribed(args=["--webhook-retry-ms", "20", "--webhook-max-attempts", "2"])
        dead = "http://%s:%d/nobody-listens" % (HOST, free_port())
        self.assertEqual(emu.control("POST", "/_emulator/config", {"webhook_url": dead}).status, 200)
        self.say("into the void")
        log = self.wait_log(lambda d: d["deliveries"] and d["deliveries"][0]["dropped"])
        self.assertEqual((log["deliveries"][0]["attempts"], log["deliveries"][0]["last_status"]),
                         (2, 0))
        self.finish()

    def test_events_wait_for_a_webhook_url(self):
        emu = self.start_emulator()  # no --webhook
        self.emu = emu
        emu.subscribe(emu.page_token())
        self.say("anyone there?")
        self.assertEqual(self.deliveries()["pending"], 1)
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        r = emu.control("POST", "/_emulator/config", {"webhook_url": self.sink.url})
        self.assertEqual(r.status, 200, r)
        [(_, _, _, ev)] = self.wait_events(1)
        self.assertEqual(ev["message"]["text"], "anyone there?")
        self.wait_log(lambda d: d["pending"] == 0 and d["deliveries"][0]["delivered"])
        self.finish()

