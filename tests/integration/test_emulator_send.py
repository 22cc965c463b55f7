"""The emulator's Send API (src/emulator/send.c, sendcheck.c) against meta-platform.md §2:
recipients, messaging_type and tags, the 24-hour and 7-day windows on both channels, text
limits (Messenger counts characters, Instagram bytes), attachments, sender actions, private
replies, and the echo webhooks.

Every test drives the real binary over HTTP: customers write through the control API, time
moves with POST /_emulator/clock, and the Page token comes from the real login flow.
"""

import json
import unittest

from emu import APP_ID, IG_ID, PAGE2_ID, PAGE_ID, EmulatorTestCase

MEDIA_ID = "17900000000000001"  # the post seeded on @northwind.coffee
MINUTE = 60 * 1000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WINDOW_MSG = "This message is sent outside of allowed window."


class SendCase(EmulatorTestCase):
    """An emulator, Dana's token for Page 0, and helpers for customers, time and sends."""

    webhook = False

    def setUp(self):
        self.emu = self.start_emulator(webhook=self.webhook)
        self.user_token = self.emu.user_token()
        self.pt = self.emu.page_token(user_token=self.user_token)
        self.customers = self.emu.state()["customers"]

    def psid(self, n, page=PAGE_ID):
        return self.customers[n]["psid"][page]

    def igsid(self, n):
        return self.customers[n]["igsid"]

    def write(self, n, channel, text="hello there"):
        r = self.emu.control("POST", "/_emulator/customers/%d/messages" % n,
                             {"channel": channel, "text": text})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def comment(self, n, text="Is this blend decaf?"):
        r = self.emu.control("POST", "/_emulator/customers/%d/comments" % n,
                             {"media_id": MEDIA_ID, "text": text})
        self.assertEqual(r.status, 200, r)
        return r.json()["id"]

    def advance(self, ms):
        r = self.emu.control("POST", "/_emulator/clock", {"advance_ms": ms})
        self.assertEqual(r.status, 200, r)

    def send(self, body, path=PAGE_ID, token=None):
        return self.emu.graph("POST", "/%s/messages" % path, token=token or self.pt,
                              json_body=body)

    def messenger(self, n=0, text="hi", **extra):
        body = {"recipient": {"id": self.psid(n)}, "messaging_type": "RESPONSE",
                "message": {"text": text}}
        body.update(extra)
        return body

    def instagram(self, n=0, text="hi", **extra):
        body = {"recipient": {"id": self.igsid(n)}, "message": {"text": text}}
        body.update(extra)
        return body

    def assertOk(self, r):
        self.assertEqual(r.status, 200, r)
        return r.json()

    def assertError(self, r, code, subcode=None):
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.error(), (code, subcode), r)
        return r.json()["error"]

    def thread_messages(self, thread_id):
        r = self.emu.control("GET", "/_emulator/threads/%s" % thread_id)
        self.assertEqual(r.status, 200, r)
        return r.json()["messages"]


class TestSendBasics(SendCase):
    def test_messenger_send_answers_recipient_and_mid(self):
        self.write(0, "messenger")
        body = self.assertOk(self.send(self.messenger(0, "Your order is ready")))
        self.assertEqual(set(body), {"recipient_id", "message_id"})
        self.assertEqual(body["recipient_id"], self.psid(0))
        self.assertTrue(body["message_id"].startswith("m_"), body)

    def test_instagram_by_ig_path_page_path_and_me(self):
        self.write(1, "instagram")
        mids = set()
        for path in (IG_ID, PAGE_ID, "me"):
            body = self.assertOk(self.send(self.instagram(1, "via " + path), path=path))
            self.assertEqual(body["recipient_id"], self.igsid(1))
            mids.add(body["message_id"])
        self.assertEqual(len(mids), 3)

    def test_me_messages_is_the_token_page(self):
        self.write(0, "messenger")
        body = self.assertOk(self.send(self.messenger(0), path="me"))
        self.assertEqual(body["recipient_id"], self.psid(0))

    def test_form_and_query_parameters_hold_json_strings(self):
        t = self.write(0, "messenger")["thread"]
        form = {"recipient": json.dumps({"id": self.psid(0)}), "messaging_type": "UPDATE",
                "message": json.dumps({"text": "caf\u00e9 au lait"})}
        r = self.emu.graph("POST", "/%s/messages" % PAGE_ID, token=self.pt, form=form)
        self.assertOk(r)
        r = self.emu.graph("POST", "/%s/messages" % PAGE_ID, token=self.pt, params=form)
        self.assertOk(r)
        texts = [m.get("text") for m in self.thread_messages(t)]
        self.assertEqual(texts.count("caf\u00e9 au lait"), 2, texts)

    def test_message_is_stored_in_the_thread_as_outbound(self):
        t = self.write(2, "messenger", "do you ship?")["thread"]
        mid = self.assertOk(self.send(self.messenger(2, "We do!")))["message_id"]
        msgs = self.thread_messages(t)
        self.assertEqual([m["mid"] for m in msgs][-1], mid)
        self.assertEqual(msgs[-1]["text"], "We do!")
        self.assertNotEqual(msgs[-1]["direction"], msgs[0]["direction"])


class TestRecipientAndPath(SendCase):
    def test_recipient_errors(self):
        self.write(0, "messenger")
        self.write(0, "instagram")
        cases = [
            # (name, path, body, code, subcode)
            ("unknown psid", PAGE_ID,
             {"recipient": {"id": "99999999999"}, "messaging_type": "RESPONSE",
              "message": {"text": "x"}}, 100, 2018001),
            ("the Page's own id", PAGE_ID,
             {"recipient": {"id": PAGE_ID}, "messaging_type": "RESPONSE",
              "message": {"text": "x"}}, 100, 2018001),
            ("an IG user id instead of an IGSID", PAGE_ID,
             {"recipient": {"id": IG_ID}, "message": {"text": "x"}}, 100, 2534014),
            ("an IG user id on the IG path", IG_ID,
             {"recipient": {"id": IG_ID}, "message": {"text": "x"}}, 100, 2534014),
            ("a PSID on the Instagram path", IG_ID,
             {"recipient": {"id": self.psid(0)}, "message": {"text": "x"}}, 100, 2018001),
            ("a PSID of the other Page", PAGE_ID,
             {"recipient": {"id": self.psid(0, PAGE2_ID)}, "messaging_type": "RESPONSE",
              "message": {"text": "x"}}, 100, 2018001),
            ("no recipient", PAGE_ID,
             {"messaging_type": "RESPONSE", "message": {"text": "x"}}, 100, None),
            ("recipient without id", PAGE_ID,
             {"recipient": {"name": "Maya"}, "messaging_type": "RESPONSE",
              "message": {"text": "x"}}, 100, None),
            ("unknown path id", "123456",
             {"recipient": {"id": self.psid(0)}, "messaging_type": "RESPONSE",
              "message": {"text": "x"}}, 100, 33),
        ]
        for name, path, body, code, sub in cases:
            with self.subTest(name):
                self.assertError(self.send(body, path=path), code, sub)

    def test_ig_errors_are_igapiexception(self):
        err = self.assertError(self.send({"recipient": {"id": IG_ID}, "message": {"text": "x"}}),
                               100, 2534014)
        self.assertEqual(err["type"], "IGApiException")

    def test_other_pages_token_is_a_permission_error(self):
        pt2 = self.emu.page_token(PAGE2_ID, user_token=self.user_token)
        self.write(0, "messenger")
        err = self.assertError(self.send(self.messenger(0), token=pt2), 200)
        self.assertTrue(err["message"].startswith("(#200)"), err)
        self.assertError(self.send(self.instagram(0), path=IG_ID, token=pt2), 200)

    def test_page_without_instagram_knows_no_igsid(self):
        pt2 = self.emu.page_token(PAGE2_ID, user_token=self.user_token)
        self.write(0, "instagram")
        self.assertError(self.send(self.instagram(0), path=PAGE2_ID, token=pt2), 100, 2018001)

    def test_user_token_is_refused(self):
        self.write(0, "messenger")
        r = self.send(self.messenger(0), token=self.user_token)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.error()[0], 210, r)

    def test_numeric_recipient_id_is_accepted(self):
        self.write(0, "messenger")
        body = self.messenger(0)
        body["recipient"]["id"] = int(self.psid(0))
        self.assertEqual(self.assertOk(self.send(body))["recipient_id"], self.psid(0))


class TestMessagingType(SendCase):
    def test_messaging_type_and_tags(self):
        self.write(0, "messenger")
        self.write(0, "instagram")
        M, I = "messenger", "instagram"
        cases = [
            # (channel, messaging_type or None, tag or None, expected code or None)
            (M, None, None, 100),
            (M, "PROMOTION", None, 100),
            (M, "response", None, 100),
            (M, "RESPONSE", None, None),
            (M, "UPDATE", None, None),
            (M, "UTILITY", None, None),
            (M, "MESSAGE_TAG", None, 100),
            (M, "MESSAGE_TAG", "HUMAN_AGENT", None),
            (M, "MESSAGE_TAG", "CUSTOMER_FEEDBACK", None),
            (M, "MESSAGE_TAG", "ACCOUNT_UPDATE", 100),
            (M, "MESSAGE_TAG", "CONFIRMED_EVENT_UPDATE", 100),
            (M, "MESSAGE_TAG", "POST_PURCHASE_UPDATE", 100),
            (M, "MESSAGE_TAG", "NOT_A_TAG", 100),
            (M, "RESPONSE", "HUMAN_AGENT", 100),
            (I, None, None, None),
            (I, "RESPONSE", None, None),
            (I, "BOGUS", None, 100),
            (I, "MESSAGE_TAG", "HUMAN_AGENT", None),
            (I, None, "HUMAN_AGENT", None),
            (I, "MESSAGE_TAG", "CUSTOMER_FEEDBACK", 100),
            (I, "MESSAGE_TAG", "POST_PURCHASE_UPDATE", 100),
        ]
        for ch, mtype, tag, code in cases:
            with self.subTest(channel=ch, messaging_type=mtype, tag=tag):
                body = self.messenger(0) if ch == M else self.instagram(0)
                body.pop("messaging_type", None)
                if mtype:
                    body["messaging_type"] = mtype
                if tag:
                    body["tag"] = tag
                r = self.send(body)
                if code is None:
                    self.assertOk(r)
                else:
                    self.assertError(r, code)

    def test_missing_messaging_type_is_named(self):
        self.write(0, "messenger")
        body = self.messenger(0)
        del body["messaging_type"]
        err = self.assertError(self.send(body), 100)
        self.assertIn("messaging_type", err["message"])


class TestWindow(SendCase):
    def check_window(self, channel, subcode, err_type):
        body = self.messenger if channel == "messenger" else self.instagram
        human = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        self.write(0, channel)
        steps = [
            # (advance to this age of the last inbound message, kind, allowed)
            (23 * HOUR + 59 * MINUTE, "RESPONSE", True),
            (24 * HOUR, "RESPONSE", False),
            (24 * HOUR, "UPDATE", False),
            (24 * HOUR, "HUMAN_AGENT", True),
            (6 * DAY, "HUMAN_AGENT", True),
            (6 * DAY, "RESPONSE", False),
            (7 * DAY, "HUMAN_AGENT", False),
            (9 * DAY, "HUMAN_AGENT", False),
        ]
        age = 0
        for at, kind, allowed in steps:
            self.advance(at - age)
            age = at
            with self.subTest(channel=channel, age_ms=at, kind=kind):
                if kind == "HUMAN_AGENT":
                    b = body(0, **human)
                else:
                    b = body(0)
                    b["messaging_type"] = kind
                r = self.send(b)
                if allowed:
                    self.assertOk(r)
                    continue
                err = self.assertError(r, 10, subcode)
                self.assertEqual(err["type"], err_type)
                if channel == "messenger":
                    self.assertTrue(err["message"].startswith("(#10) " + WINDOW_MSG), err)
                else:
                    self.assertEqual(err["message"], WINDOW_MSG)
        # The customer writes again: the window opens again.
        self.write(0, channel)
        self.assertOk(self.send(body(0)))

    def test_messenger_window(self):
        self.check_window("messenger", 2018278, "OAuthException")

    def test_instagram_window(self):
        self.check_window("instagram", 2534022, "IGApiException")

    def test_no_inbound_message_means_no_window(self):
        self.assertError(self.send(self.messenger(3)), 10, 2018278)
        self.assertError(self.send(self.instagram(3)), 10, 2534022)
        self.assertError(self.send(self.messenger(3, messaging_type="MESSAGE_TAG",
                                                  tag="HUMAN_AGENT")), 10, 2018278)

    def test_own_sends_do_not_move_the_window(self):
        self.write(0, "messenger")
        self.advance(20 * HOUR)
        self.assertOk(self.send(self.messenger(0)))
        self.advance(4 * HOUR)
        self.assertError(self.send(self.messenger(0)), 10, 2018278)

    def test_channels_have_separate_windows(self):
        self.write(0, "instagram")
        self.assertOk(self.send(self.instagram(0)))
        self.assertError(self.send(self.messenger(0)), 10, 2018278)


class TestTextLimits(SendCase):
    def test_text_limits(self):
        self.write(0, "messenger")
        self.write(0, "instagram")
        e_acute, euro, smile = "\u00e9", "\u20ac", "\U0001F600"  # 2, 3 and 4 bytes in UTF-8
        cases = [
            # (channel, text, ok): Messenger counts characters (< 2000), Instagram bytes (<= 1000)
            ("messenger", "a" * 1999, True),
            ("messenger", "a" * 2000, False),
            ("messenger", e_acute * 1999, True),
            ("messenger", e_acute * 2000, False),
            ("messenger", smile * 1999, True),
            ("messenger", smile * 2000, False),
            ("instagram", "a" * 1000, True),
            ("instagram", "a" * 1001, False),
            ("instagram", e_acute * 500, True),
            ("instagram", e_acute * 500 + "a", False),
            ("instagram", euro * 333 + "a", True),
            ("instagram", euro * 334, False),
            ("instagram", smile * 250, True),
            ("instagram", smile * 250 + "a", False),
            ("instagram", e_acute * 999, False),  # 999 characters, but 1998 bytes
        ]
        for ch, text, ok in cases:
            with self.subTest(channel=ch, chars=len(text), bytes=len(text.encode())):
                body = self.messenger(0, text) if ch == "messenger" else self.instagram(0, text)
                r = self.send(body)
                if ok:
                    self.assertOk(r)
                else:
                    err = self.assertError(r, 100)
                    self.assertIn("message[text]", err["message"])

    def test_messenger_limit_message(self):
        self.write(0, "messenger")
        err = self.assertError(self.send(self.messenger(0, "x" * 2000)), 100)
        self.assertEqual(err["message"],
                         "(#100) Length of param message[text] must be less than or equal to 2000")

    def test_raw_utf8_in_a_form_body_counts_the_same(self):
        self.write(0, "instagram")
        for text, ok in (("\u00e9" * 500, True), ("\u00e9" * 501, False)):
            form = {"recipient": json.dumps({"id": self.igsid(0)}),
                    "message": json.dumps({"text": text}, ensure_ascii=False)}
            r = self.emu.graph("POST", "/%s/messages" % IG_ID, token=self.pt, form=form)
            if ok:
                self.assertOk(r)
            else:
                self.assertError(r, 100)


class TestMessageShape(SendCase):
    def test_message_object(self):
        self.write(0, "messenger")
        self.write(0, "instagram")
        url = "https://cdn.example.com/menu.jpg"
        qr = {"content_type": "text", "title": "Yes", "payload": "YES"}
        M, I = "messenger", "instagram"
        cases = [
            # (name, channel, message, ok)
            ("empty", M, {}, False),
            ("empty text", M, {"text": ""}, False),
            ("text is a number", M, {"text": 5}, False),
            ("text and attachment", M,
             {"text": "x", "attachment": {"type": "image", "payload": {"url": url}}}, False),
            ("image by url", M, {"attachment": {"type": "image", "payload": {"url": url}}}, True),
            ("image by attachment_id", M,
             {"attachment": {"type": "image", "payload": {"attachment_id": "1857777774821032"}}},
             True),
            ("video", I, {"attachment": {"type": "video", "payload": {"url": url}}}, True),
            ("file", M, {"attachment": {"type": "file", "payload": {"url": url}}}, True),
            ("audio", I, {"attachment": {"type": "audio", "payload": {"url": url}}}, True),
            ("unknown type", M, {"attachment": {"type": "gif", "payload": {"url": url}}}, False),
            ("no payload", M, {"attachment": {"type": "image"}}, False),
            ("payload without url", M, {"attachment": {"type": "image", "payload": {}}}, False),
            ("not a url", M, {"attachment": {"type": "image", "payload": {"url": "menu.jpg"}}},
             False),
            ("template", M,
             {"attachment": {"type": "template",
                             "payload": {"template_type": "button", "text": "Pick",
                                         "buttons": []}}}, True),
            ("template without template_type", M,
             {"attachment": {"type": "template", "payload": {"text": "Pick"}}}, False),
            ("like_heart on Instagram", I, {"attachment": {"type": "like_heart"}}, True),
            ("like_heart on Messenger", M, {"attachment": {"type": "like_heart"}}, False),
            ("MEDIA_SHARE of the account's post", I,
             {"attachment": {"type": "MEDIA_SHARE", "payload": {"id": MEDIA_ID}}}, True),
            ("MEDIA_SHARE of someone else's post", I,
             {"attachment": {"type": "MEDIA_SHARE", "payload": {"id": "17999999999999999"}}},
             False),
            ("13 quick replies", M, {"text": "?", "quick_replies": [qr] * 13}, True),
            ("14 quick replies", M, {"text": "?", "quick_replies": [qr] * 14}, False),
            ("quick reply without title", M,
             {"text": "?", "quick_replies": [{"content_type": "text", "payload": "P"}]}, False),
            ("metadata of 999 characters", M, {"text": "x", "metadata": "m" * 999}, True),
            ("metadata of 1000 characters", M, {"text": "x", "metadata": "m" * 1000}, False),
        ]
        for name, ch, message, ok in cases:
            with self.subTest(name):
                body = self.messenger(0) if ch == M else self.instagram(0)
                body["message"] = message
                r = self.send(body)
                if ok:
                    self.assertOk(r)
                else:
                    self.assertError(r, 100)

    def test_message_that_is_not_json(self):
        self.write(0, "messenger")
        form = {"recipient": json.dumps({"id": self.psid(0)}), "messaging_type": "RESPONSE",
                "message": "hello"}
        r = self.emu.graph("POST", "/%s/messages" % PAGE_ID, token=self.pt, form=form)
        self.assertError(r, 100)

    def test_neither_message_nor_sender_action(self):
        self.write(0, "messenger")
        body = self.messenger(0)
        del body["message"]
        self.assertError(self.send(body), 100)

    def test_rejected_send_stores_nothing(self):
        t = self.write(0, "messenger")["thread"]
        self.assertError(self.send(self.messenger(0, "x" * 5000)), 100)
        self.assertEqual(len(self.thread_messages(t)), 1)


class TestSenderActions(SendCase):
    def test_actions_alone(self):
        t = self.write(0, "messenger")["thread"]
        self.write(0, "instagram")
        for ch in ("messenger", "instagram"):
            for action in ("mark_seen", "typing_on", "typing_off"):
                with self.subTest(channel=ch, action=action):
                    rid = self.psid(0) if ch == "messenger" else self.igsid(0)
                    r = self.send({"recipient": {"id": rid}, "sender_action": action})
                    self.assertEqual(self.assertOk(r), {"recipient_id": rid})
        self.assertEqual(len(self.thread_messages(t)), 1)  # no message was stored

    def test_action_with_anything_else_is_refused(self):
        self.write(0, "messenger")
        rid = {"id": self.psid(0)}
        cases = [
            ("with message", {"recipient": rid, "sender_action": "typing_on",
                              "message": {"text": "hi"}}),
            ("with messaging_type", {"recipient": rid, "sender_action": "typing_on",
                                     "messaging_type": "RESPONSE"}),
            ("with a tag", {"recipient": rid, "sender_action": "mark_seen", "tag": "HUMAN_AGENT"}),
            ("unknown action", {"recipient": rid, "sender_action": "typing"}),
            ("react on Messenger", {"recipient": rid, "sender_action": "react",
                                    "payload": {"message_id": "m_x", "reaction": "love"}}),
            ("payload with typing_on", {"recipient": rid, "sender_action": "typing_on",
                                        "payload": {}}),
        ]
        for name, body in cases:
            with self.subTest(name):
                self.assertError(self.send(body), 100)

    def test_instagram_react_and_unreact(self):
        mid = self.write(1, "instagram")["mid"]
        rid = {"id": self.igsid(1)}
        ok = [
            {"recipient": rid, "sender_action": "react",
             "payload": {"message_id": mid, "reaction": "love"}},
            {"recipient": rid, "sender_action": "unreact", "payload": {"message_id": mid}},
        ]
        for body in ok:
            self.assertEqual(self.assertOk(self.send(body, path=IG_ID)),
                             {"recipient_id": self.igsid(1)})
        other = self.write(2, "instagram")["mid"]  # a message of another conversation
        bad = [
            {"recipient": rid, "sender_action": "react", "payload": {"message_id": other,
                                                                      "reaction": "love"}},
            {"recipient": rid, "sender_action": "react", "payload": {"message_id": mid,
                                                                      "reaction": "angry"}},
            {"recipient": rid, "sender_action": "react",
             "payload": {"message_id": mid, "reaction": "love"}, "message": {"text": "x"}},
        ]
        for body in bad:
            with self.subTest(body=body):
                self.assertError(self.send(body, path=IG_ID), 100)

    def test_actions_only_inside_the_window(self):
        self.write(0, "messenger")
        mid = self.write(0, "instagram")["mid"]
        self.advance(24 * HOUR)
        self.assertError(self.send({"recipient": {"id": self.psid(0)},
                                    "sender_action": "typing_on"}), 10, 2018278)
        self.assertError(self.send({"recipient": {"id": self.igsid(0)},
                                    "sender_action": "mark_seen"}), 10, 2534022)
        self.assertError(self.send({"recipient": {"id": self.igsid(0)}, "sender_action": "react",
                                    "payload": {"message_id": mid, "reaction": "love"}}),
                         10, 2534022)


class TestPrivateReplies(SendCase):
    def reply(self, comment_id, path=PAGE_ID, text="Yes, we have a decaf!"):
        return self.send({"recipient": {"comment_id": comment_id}, "message": {"text": text}},
                         path=path)

    def test_one_private_reply_per_comment(self):
        cid = self.comment(1)
        body = self.assertOk(self.reply(cid))
        self.assertEqual(body["recipient_id"], self.igsid(1))
        self.assertTrue(body["message_id"])
        err = self.assertError(self.reply(cid, text="again"), 10900)
        self.assertIn("already replied", err["message"])
        self.assertError(self.reply(cid, path=IG_ID, text="and again"), 10900)

    def test_private_reply_lands_in_the_thread_and_opens_no_window(self):
        cid = self.comment(2)
        mid = self.assertOk(self.reply(cid, path=IG_ID))["message_id"]
        r = self.emu.graph("GET", "/%s/conversations" % PAGE_ID, token=self.pt,
                           params={"platform": "instagram", "user_id": self.igsid(2),
                                   "fields": "messages{id,message,from}"})
        data = self.assertOk(r)["data"]
        self.assertEqual(len(data), 1, data)
        msg = data[0]["messages"]["data"][0]
        self.assertEqual((msg["id"], msg["message"], msg["from"]["id"]),
                         (mid, "Yes, we have a decaf!", IG_ID))
        # The private reply did not open the window: only the customer's answer does.
        self.assertError(self.send(self.instagram(2)), 10, 2534022)
        self.write(2, "instagram")
        self.assertOk(self.send(self.instagram(2)))

    def test_private_reply_age_limit(self):
        old = self.comment(0, "first")
        self.advance(6 * DAY)
        recent = self.comment(1, "second")
        self.advance(1 * DAY + MINUTE)  # old is now 7 days and a minute old, recent 1 day
        self.assertError(self.reply(old), 10903)
        self.assertOk(self.reply(recent))

    def test_private_reply_errors(self):
        r = self.emu.graph("POST", "/%s/comments" % MEDIA_ID, token=self.pt,
                           params={"message": "Thanks for the love!"})
        own = self.assertOk(r)["id"]
        self.assertError(self.reply(own), 100)
        self.assertError(self.reply("17999999999999999"), 100)
        cid = self.comment(0)
        pt2 = self.emu.page_token(PAGE2_ID, user_token=self.user_token)
        self.assertError(self.send({"recipient": {"comment_id": cid}, "message": {"text": "x"}},
                                   path=PAGE2_ID, token=pt2), 100)
        self.assertError(self.send({"recipient": {"comment_id": cid},
                                    "sender_action": "typing_on"}), 100)
        self.assertError(self.send({"recipient": {"comment_id": cid}, "message": {}}), 100)
        self.assertOk(self.reply(cid))  # none of the failures above used the reply up


class TestEchoes(SendCase):
    webhook = True

    def echoes(self, n, timeout=10):
        out = []
        for _ in range(int(timeout / 0.1)):
            out = [(obj, entry, key, ev) for obj, entry, key, ev in self.sink.events()
                   if ev.get("message", {}).get("is_echo")]
            if len(out) >= n:
                break
            self.sink.wait(len(self.sink.received) + 1, timeout=0.1)
        return out

    def test_echoes_on_both_channels(self):
        self.emu.subscribe(self.pt)
        self.write(0, "messenger")
        self.write(1, "instagram")
        m = self.assertOk(self.send(self.messenger(0, "Table for two?",
                                                   message={"text": "Table for two?",
                                                            "metadata": "job-17"})))
        url = "https://cdn.example.com/latte.jpg"
        att = {"type": "image", "payload": {"url": url}}
        i = self.assertOk(self.send({"recipient": {"id": self.igsid(1)},
                                     "message": {"attachment": att}}, path=IG_ID))
        got = self.echoes(2)
        self.assertEqual(len(got), 2, self.sink.events())
        by_mid = {ev["message"]["mid"]: (obj, entry, key, ev) for obj, entry, key, ev in got}

        obj, entry, key, ev = by_mid[m["message_id"]]
        self.assertEqual((obj, entry, key), ("page", PAGE_ID, "messaging"))
        self.assertEqual(ev["sender"], {"id": PAGE_ID})
        self.assertEqual(ev["recipient"], {"id": self.psid(0)})
        self.assertIsInstance(ev["timestamp"], int)
        msg = ev["message"]
        self.assertEqual(msg["text"], "Table for two?")
        self.assertEqual(msg["metadata"], "job-17")
        self.assertEqual(msg["app_id"], int(APP_ID))  # a JSON number, as Meta sends it
        self.assertIs(msg["is_echo"], True)

        obj, entry, key, ev = by_mid[i["message_id"]]
        self.assertEqual((obj, entry, key), ("instagram", IG_ID, "messaging"))
        self.assertEqual(ev["sender"], {"id": IG_ID})
        self.assertEqual(ev["recipient"], {"id": self.igsid(1)})
        self.assertEqual(ev["message"]["attachments"], [att])
        self.assertNotIn("metadata", ev["message"])

    def test_private_reply_is_echoed(self):
        self.emu.subscribe(self.pt)
        cid = self.comment(3)
        r = self.send({"recipient": {"comment_id": cid}, "message": {"text": "DM'd you!"}})
        mid = self.assertOk(r)["message_id"]
        got = self.echoes(1)
        self.assertEqual([ev["message"]["mid"] for _, _, _, ev in got], [mid])
        self.assertEqual(got[0][3]["recipient"], {"id": self.igsid(3)})

    def test_failed_send_is_not_echoed(self):
        self.emu.subscribe(self.pt)
        self.write(0, "messenger")
        self.assertError(self.send(self.messenger(0, "x" * 2000)), 100)
        ok = self.assertOk(self.send(self.messenger(0, "short")))
        got = self.echoes(1)
        self.assertEqual([ev["message"]["mid"] for _, _, _, ev in got], [ok["message_id"]])


if __name__ == "__main__":
    unittest.main()
