"""The emulator's Conversations API, nodes and comments (src/emulator/convo.c, node.c,
comments.c) against meta-platform.md §6 and §7: conversation lists with platform, user_id,
fields and cursor paging; conversation and message nodes with the 20-most-recent rule;
Page and Instagram-account nodes; comments, replies, hiding and deleting.
"""

import re
import unittest
import urllib.parse

from emu import IG_ID, PAGE2_ID, PAGE_ID, EmulatorTestCase, Reply
from harness import http_request

MEDIA_ID = "17900000000000001"  # the post seeded on @northwind.coffee
META_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")


class ConvoCase(EmulatorTestCase):
    def setUp(self):
        self.emu = self.start_emulator()
        self.user_token = self.emu.user_token()
        self.pt = self.emu.page_token(user_token=self.user_token)
        self.customers = self.emu.state()["customers"]

    def psid(self, n):
        return self.customers[n]["psid"][PAGE_ID]

    def igsid(self, n):
        return self.customers[n]["igsid"]

    def write(self, n, channel, text="hello"):
        r = self.emu.control("POST", "/_emulator/customers/%d/messages" % n,
                             {"channel": channel, "text": text})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def advance(self, ms):
        r = self.emu.control("POST", "/_emulator/clock", {"advance_ms": ms})
        self.assertEqual(r.status, 200, r)

    def reply(self, n, channel, text):
        rid = self.psid(n) if channel == "messenger" else self.igsid(n)
        body = {"recipient": {"id": rid}, "messaging_type": "RESPONSE", "message": {"text": text}}
        r = self.emu.graph("POST", "/%s/messages" % PAGE_ID, token=self.pt, json_body=body)
        self.assertEqual(r.status, 200, r)
        return r.json()["message_id"]

    def get(self, path, token=None, **params):
        return self.emu.graph("GET", path, token=token or self.pt, params=params)

    def ok(self, r):
        self.assertEqual(r.status, 200, r)
        return r.json()

    def assertError(self, r, code, subcode=None):
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.error(), (code, subcode), r)
        return r.json()["error"]

    def follow(self, url):
        """GETs a paging URL (it must point at this emulator)."""
        u = urllib.parse.urlparse(url)
        self.assertEqual(u.netloc, "127.0.0.1:%d" % self.emu.port, url)
        return Reply(http_request(self.emu.port, "GET", u.path + "?" + u.query))


class TestConversations(ConvoCase):
    def test_default_shape_and_platforms(self):
        self.assertEqual(self.ok(self.get("/%s/conversations" % PAGE_ID)), {"data": []})
        m = self.write(0, "messenger")
        i = self.write(1, "instagram")
        for platform, thread in ((None, m["thread"]), ("messenger", m["thread"]),
                                 ("instagram", i["thread"]), ("INSTAGRAM", i["thread"])):
            with self.subTest(platform=platform):
                params = {"platform": platform} if platform else {}
                data = self.ok(self.get("/%s/conversations" % PAGE_ID, **params))["data"]
                self.assertEqual(len(data), 1, data)
                self.assertEqual(set(data[0]), {"id", "updated_time"})
                self.assertEqual(data[0]["id"], thread)
                self.assertRegex(data[0]["updated_time"], META_TIME)

    def test_me_conversations(self):
        self.write(0, "messenger")
        self.assertEqual(len(self.ok(self.get("/me/conversations"))["data"]), 1)

    def test_newest_first_and_cursor_paging(self):
        threads = []
        for n in range(4):
            threads.append(self.write(n, "messenger")["thread"])
            self.advance(1000)
        self.write(1, "messenger", "one more")  # customer 1's thread is now the newest
        want = [threads[1], threads[3], threads[2], threads[0]]
        first = self.ok(self.get("/%s/conversations" % PAGE_ID))
        self.assertEqual([c["id"] for c in first["data"]], want)
        self.assertNotIn("next", first.get("paging", {}))

        r = self.get("/%s/conversations" % PAGE_ID, limit="1")
        seen, pages = [], 0
        while True:
            body = self.ok(r)
            pages += 1
            self.assertLessEqual(pages, 10, "paging does not end")
            self.assertEqual(len(body["data"]), 1, body)
            self.assertIn("cursors", body["paging"])
            seen += [c["id"] for c in body["data"]]
            if "next" not in body["paging"]:
                break
            r = self.follow(body["paging"]["next"])
        self.assertEqual(seen, want)

    def test_user_id_filter(self):
        for n in range(3):
            self.write(n, "messenger")
            self.write(n, "instagram")
        cases = [
            ("messenger", self.psid(2), 1),
            ("instagram", self.igsid(1), 1),
            ("messenger", self.igsid(1), 0),  # an IGSID is not a PSID
            ("messenger", "1234", 0),
        ]
        for platform, user, n in cases:
            with self.subTest(platform=platform, user_id=user):
                r = self.get("/%s/conversations" % PAGE_ID, platform=platform, user_id=user,
                             fields="participants")
                data = self.ok(r)["data"]
                self.assertEqual(len(data), n, data)
                if n:
                    ids = [p["id"] for p in data[0]["participants"]["data"]]
                    self.assertIn(user, ids)

    def test_fields(self):
        self.write(0, "messenger", "first")
        self.write(0, "messenger", "second")
        r = self.get("/%s/conversations" % PAGE_ID,
                     fields="participants,message_count,unread_count,snippet,updated_time")
        c = self.ok(r)["data"][0]
        self.assertEqual(c["participants"]["data"], [
            {"name": "Maya Lopez", "email": self.psid(0) + "@facebook.com", "id": self.psid(0)},
            {"name": "Northwind Coffee", "email": PAGE_ID + "@facebook.com", "id": PAGE_ID}])
        self.assertEqual((c["message_count"], c["unread_count"], c["snippet"]), (2, 2, "second"))
        self.reply(0, "messenger", "answer")
        r = self.get("/%s/conversations" % PAGE_ID, fields="message_count,unread_count")
        c = self.ok(r)["data"][0]
        self.assertEqual((c["message_count"], c["unread_count"]), (3, 0))

        self.write(1, "instagram", "hey")
        r = self.get("/%s/conversations" % PAGE_ID, platform="instagram", fields="participants")
        self.assertEqual(self.ok(r)["data"][0]["participants"]["data"], [
            {"username": "samchen.eats", "id": self.igsid(1)},
            {"username": "northwind.coffee", "id": IG_ID}])

    def test_nested_messages_newest_first(self):
        mid_in = self.write(0, "instagram", "is it open?")["mid"]
        mid_out = self.reply(0, "instagram", "yes")
        r = self.get("/%s/conversations" % PAGE_ID, platform="instagram",
                     fields="messages{id,created_time,from,to,message}")
        msgs = self.ok(r)["data"][0]["messages"]["data"]
        self.assertEqual([m["id"] for m in msgs], [mid_out, mid_in])
        self.assertEqual(msgs[0]["from"], {"username": "northwind.coffee", "id": IG_ID})
        self.assertEqual(msgs[0]["to"], {"data": [{"username": "maya.lopez",
                                                   "id": self.igsid(0)}]})
        self.assertEqual(msgs[1]["message"], "is it open?")
        self.assertRegex(msgs[1]["created_time"], META_TIME)
        r = self.get("/%s/conversations" % PAGE_ID, platform="instagram", fields="messages")
        self.assertEqual(set(self.ok(r)["data"][0]["messages"]["data"][0]),
                         {"id", "created_time"})

    def test_errors(self):
        self.write(0, "messenger")
        pt2 = self.emu.page_token(PAGE2_ID, user_token=self.user_token)
        cases = [
            ("bad platform", "/%s/conversations" % PAGE_ID, self.pt, {"platform": "whatsapp"},
             (100, None)),
            ("unknown field", "/%s/conversations" % PAGE_ID, self.pt, {"fields": "id,colour"},
             (100, None)),
            ("unknown message field", "/%s/conversations" % PAGE_ID, self.pt,
             {"fields": "messages{id,colour}"}, (100, None)),
            ("bad fields syntax", "/%s/conversations" % PAGE_ID, self.pt,
             {"fields": "messages{id"}, (100, None)),
            ("bad cursor", "/%s/conversations" % PAGE_ID, self.pt, {"after": "nonsense"},
             (100, None)),
            ("another Page's token", "/%s/conversations" % PAGE_ID, pt2, {}, (200, None)),
            ("unknown page", "/123/conversations", self.pt, {}, (100, 33)),
        ]
        for name, path, tok, params, want in cases:
            with self.subTest(name):
                self.assertError(self.get(path, token=tok, **params), *want)
        r = self.get("/%s/conversations" % PAGE_ID, token=self.user_token)
        self.assertEqual((r.status, r.error()[0]), (400, 210), r)


class TestConversationAndMessageNodes(ConvoCase):
    def test_only_the_20_newest_messages_can_be_read(self):
        first = self.write(0, "messenger", "hello?")["mid"]
        sent = [self.reply(0, "messenger", "reply %d" % i) for i in range(21)]
        newest20 = list(reversed(sent))[:20]
        fields = "id,created_time,from,to,message"
        for mid in (first, sent[0]):  # the 22nd and the 21st newest
            with self.subTest(mid=mid):
                err = self.assertError(self.get("/" + mid, fields=fields), 100)
                self.assertIn("deleted", err["message"])
        for mid in (sent[1], sent[-1]):  # the 20th newest and the newest
            with self.subTest(mid=mid):
                m = self.ok(self.get("/" + mid, fields=fields))
                self.assertEqual(m["id"], mid)
                self.assertEqual(m["from"]["id"], PAGE_ID)
                self.assertEqual(m["to"]["data"][0]["id"], self.psid(0))
        thread = self.ok(self.get("/%s/conversations" % PAGE_ID))["data"][0]["id"]
        node = self.ok(self.get("/" + thread, fields="messages{id,message}"))
        self.assertEqual([m["id"] for m in node["messages"]["data"]], newest20)
        self.assertEqual(node["messages"]["data"][0]["message"], "reply 20")

    def test_message_node(self):
        mid = self.write(2, "instagram", "Do you roast on site?")["mid"]
        m = self.ok(self.get("/" + mid, fields="id,created_time,from,to,message"))
        self.assertEqual(m["from"], {"username": "priya.nair", "id": self.igsid(2)})
        self.assertEqual(m["to"], {"data": [{"username": "northwind.coffee", "id": IG_ID}]})
        self.assertEqual(m["message"], "Do you roast on site?")
        self.assertRegex(m["created_time"], META_TIME)
        self.assertEqual(set(self.ok(self.get("/" + mid))), {"id", "created_time"})
        self.assertError(self.get("/" + mid, fields="id,colour"), 100)

    def test_message_node_attachments(self):
        self.write(0, "messenger")
        url = "https://cdn.example.com/latte.jpg"
        body = {"recipient": {"id": self.psid(0)}, "messaging_type": "RESPONSE",
                "message": {"attachment": {"type": "image", "payload": {"url": url}}}}
        r = self.emu.graph("POST", "/%s/messages" % PAGE_ID, token=self.pt, json_body=body)
        mid = self.ok(r)["message_id"]
        m = self.ok(self.get("/" + mid, fields="message,attachments"))
        self.assertEqual(m["message"], "")
        att = m["attachments"]["data"][0]
        self.assertEqual(att["image_data"]["url"], url)
        self.assertTrue(att["id"])

    def test_conversation_node(self):
        t = self.write(3, "messenger", "hi")["thread"]
        node = self.ok(self.get("/" + t))
        self.assertEqual(set(node), {"id", "updated_time"})
        node = self.ok(self.get("/" + t, fields="participants,message_count,messages.limit(1)"))
        self.assertEqual(node["message_count"], 1)
        self.assertEqual(len(node["messages"]["data"]), 1)
        self.assertEqual(node["participants"]["data"][0]["id"], self.customers[3]["psid"][PAGE_ID])

    def test_nested_limit_pages_the_messages(self):
        self.write(0, "messenger", "one")
        self.reply(0, "messenger", "two")
        self.reply(0, "messenger", "three")
        t = self.ok(self.get("/%s/conversations" % PAGE_ID))["data"][0]["id"]
        node = self.ok(self.get("/" + t, fields="messages.limit(2){message}"))
        edge = node["messages"]
        self.assertEqual([m["message"] for m in edge["data"]], ["three", "two"])
        self.assertIn("next", edge["paging"])
        self.assertIn("/%s/messages?" % t, edge["paging"]["next"])
        node = self.ok(self.get("/" + t, fields="messages.limit(3){message}"))
        self.assertNotIn("next", node["messages"]["paging"])

    def test_post_and_delete_on_messages_are_unsupported(self):
        mid = self.write(0, "messenger")["mid"]
        for method in ("POST", "DELETE"):
            with self.subTest(method=method):
                r = self.emu.graph(method, "/" + mid, token=self.pt)
                err = self.assertError(r, 100, 33)
                self.assertTrue(err["message"].startswith("Unsupported %s request" %
                                                          method.lower()), err)


class TestPageAndAccountNodes(ConvoCase):
    def test_page_node(self):
        self.assertEqual(self.ok(self.get("/" + PAGE_ID)),
                         {"id": PAGE_ID, "name": "Northwind Coffee"})
        p = self.ok(self.get("/" + PAGE_ID,
                             fields="id,category,instagram_business_account{id,username}"))
        self.assertEqual(p["instagram_business_account"],
                         {"id": IG_ID, "username": "northwind.coffee"})
        p = self.ok(self.get("/" + PAGE_ID, fields="instagram_business_account"))
        self.assertEqual(p["instagram_business_account"], {"id": IG_ID})
        p2 = self.ok(self.get("/" + PAGE2_ID, fields="id,instagram_business_account"))
        self.assertEqual(p2, {"id": PAGE2_ID})

    def test_page_access_token_with_a_user_token(self):
        p = self.ok(self.get("/" + PAGE_ID, token=self.user_token, fields="id,access_token"))
        tok = p["access_token"]
        self.write(0, "messenger")
        body = {"recipient": {"id": self.psid(0)}, "messaging_type": "RESPONSE",
                "message": {"text": "sent with the node's token"}}
        r = self.emu.graph("POST", "/%s/messages" % PAGE_ID, token=tok, json_body=body)
        self.ok(r)
        p = self.ok(self.get("/" + PAGE_ID, fields="id,access_token"))  # with a Page token
        self.assertNotIn("access_token", p)

    def test_instagram_account_node(self):
        a = self.ok(self.get("/" + IG_ID, fields="id,username,name,profile_picture_url,"
                                                "followers_count,media_count"))
        self.assertEqual((a["id"], a["username"], a["name"]),
                         (IG_ID, "northwind.coffee", "Northwind Coffee"))
        self.assertEqual(a["media_count"], 1)
        self.assertIsInstance(a["followers_count"], int)
        self.assertTrue(a["profile_picture_url"].startswith("http"))
        self.assertEqual(self.ok(self.get("/" + IG_ID)), {"id": IG_ID})

    def test_unknown_ids_and_fields(self):
        err = self.assertError(self.get("/17999999999999999"), 100, 33)
        self.assertTrue(err["message"].startswith(
            "Unsupported get request. Object with ID '17999999999999999' does not exist"), err)
        for path, fields in (("/" + PAGE_ID, "id,colour"), ("/" + IG_ID, "id,colour"),
                             ("/" + PAGE_ID, "instagram_business_account{colour}")):
            with self.subTest(path=path, fields=fields):
                err = self.assertError(self.get(path, fields=fields), 100)
                self.assertIn("nonexisting field (colour)", err["message"])


class TestComments(ConvoCase):
    def customer_comment(self, n, text, parent=None):
        body = {"media_id": MEDIA_ID, "text": text}
        if parent:
            body["parent_id"] = parent
        r = self.emu.control("POST", "/_emulator/customers/%d/comments" % n, body)
        self.assertEqual(r.status, 200, r)
        return r.json()["id"]

    def test_list_reply_hide_delete(self):
        c1 = self.customer_comment(0, "Is this decaf?")
        c2 = self.customer_comment(1, "Love it")
        data = self.ok(self.get("/%s/comments" % MEDIA_ID))["data"]
        self.assertEqual([c["id"] for c in data], [c1, c2])
        self.assertEqual(set(data[0]), {"id", "text", "timestamp"})
        self.assertEqual(data[0]["text"], "Is this decaf?")
        self.assertRegex(data[0]["timestamp"], META_TIME)

        r = self.emu.graph("POST", "/%s/replies" % c1, token=self.pt,
                           params={"message": "Not this one, but ask us!"})
        reply = self.ok(r)["id"]
        self.assertEqual(set(self.ok(r)), {"id"})
        replies = self.ok(self.get("/%s/replies" % c1))["data"]
        self.assertEqual([(c["id"], c["text"]) for c in replies],
                         [(reply, "Not this one, but ask us!")])
        node = self.ok(self.get("/" + reply, fields="id,parent_id,username,from"))
        self.assertEqual(node["parent_id"], c1)
        self.assertEqual(node["from"], {"id": IG_ID, "username": "northwind.coffee"})
        top = self.ok(self.get("/%s/comments" % MEDIA_ID, fields="id,username,replies"))["data"]
        self.assertEqual(top[0]["username"], "maya.lopez")
        self.assertEqual([c["id"] for c in top[0]["replies"]["data"]], [reply])
        self.assertEqual(len(top), 2)  # replies are not top-level comments

        for value, hidden in (("true", True), ("false", False)):
            r = self.emu.graph("POST", "/" + c2, token=self.pt, params={"hide": value})
            self.assertEqual(self.ok(r), {"success": True})
            self.assertIs(self.ok(self.get("/" + c2, fields="hidden"))["hidden"], hidden)

        r = self.emu.graph("DELETE", "/" + c1, token=self.pt)
        self.assertEqual(self.ok(r), {"success": True})
        self.assertError(self.get("/" + c1), 100, 33)
        self.assertError(self.get("/" + reply), 100, 33)  # its replies went with it
        self.assertEqual([c["id"] for c in self.ok(self.get("/%s/comments" % MEDIA_ID))["data"]],
                         [c2])

    def test_business_comment_and_paging(self):
        r = self.emu.graph("POST", "/%s/comments" % MEDIA_ID, token=self.pt,
                           params={"message": "First!"})
        own = self.ok(r)["id"]
        ids = [own] + [self.customer_comment(n, "comment %d" % n) for n in range(3)]
        r, seen = self.get("/%s/comments" % MEDIA_ID, limit="1"), []
        for _ in range(10):
            body = self.ok(r)
            seen += [c["id"] for c in body["data"]]
            if "next" not in body.get("paging", {}):
                break
            r = self.follow(body["paging"]["next"])
        self.assertEqual(seen, ids)

    def test_reply_to_a_reply_joins_the_top_comment(self):
        c1 = self.customer_comment(0, "top")
        r1 = self.ok(self.emu.graph("POST", "/%s/replies" % c1, token=self.pt,
                                    params={"message": "first reply"}))["id"]
        r2 = self.ok(self.emu.graph("POST", "/%s/replies" % r1, token=self.pt,
                                    params={"message": "second reply"}))["id"]
        self.assertEqual(self.ok(self.get("/" + r2, fields="parent_id"))["parent_id"], c1)

    def test_comment_errors(self):
        c1 = self.customer_comment(0, "hello")
        pt2 = self.emu.page_token(PAGE2_ID, user_token=self.user_token)
        cases = [
            ("no message", "POST", "/%s/comments" % MEDIA_ID, self.pt, {}, (100, None)),
            ("empty reply", "POST", "/%s/replies" % c1, self.pt, {"message": ""}, (100, None)),
            ("too long", "POST", "/%s/comments" % MEDIA_ID, self.pt, {"message": "x" * 2201},
             (100, None)),
            ("hide=maybe", "POST", "/" + c1, self.pt, {"hide": "maybe"}, (100, None)),
            ("no hide", "POST", "/" + c1, self.pt, {}, (100, None)),
            ("another Page's token", "GET", "/%s/comments" % MEDIA_ID, pt2, {}, (200, None)),
            ("another Page's token hides", "POST", "/" + c1, pt2, {"hide": "true"}, (200, None)),
            ("another Page's token deletes", "DELETE", "/" + c1, pt2, {}, (200, None)),
            ("unknown media", "GET", "/17999999999999999/comments", self.pt, {}, (100, 33)),
            ("unknown comment", "POST", "/17999999999999999/replies", self.pt,
             {"message": "x"}, (100, 33)),
            ("unknown field", "GET", "/%s/comments" % MEDIA_ID, self.pt, {"fields": "colour"},
             (100, None)),
        ]
        for name, method, path, tok, params, want in cases:
            with self.subTest(name):
                self.assertError(self.emu.graph(method, path, token=tok, params=params), *want)
        self.assertEqual(self.ok(self.get("/" + c1))["text"], "hello")  # still there


if __name__ == "__main__":
    unittest.main()
