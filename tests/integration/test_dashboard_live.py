"""The dashboard's REST API and WebSocket gateway, end to end: customers write through the
local Meta, the store writes bus events with each change, /ws delivers them live and resumes
by event id with no gap; pages by cursor stay right while messages arrive; take over, reply
(RESPONSE inside 24 h, HUMAN_AGENT after 3 days, refused after 7) and hand back, each in the
audit log; settings are validated; sign-in is throttled; the upgrade needs a session and our
Origin."""

import json
import os
import subprocess
import time
import urllib.parse

from emu import APP_ID, APP_SECRET, PAGE_ID, Emulator, EmulatorTestCase
from harness import base_env, binary_path, deadline_loop
from test_dashboard_auth import PASSWORD, Client, add_user
from wsclient import WS, Refused

DAY_MS = 24 * 3600 * 1000
KB_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                       "examples", "kb"))


class LiveCase(EmulatorTestCase):
    emu_args = ()
    server_env = {}

    def setUp(self):
        self.emu = Emulator(args=["--webhook-retry-ms", "100"] + list(self.emu_args))
        self.addCleanup(self.emu.stop)
        self.emu.start()
        env = {"SB_META_APP_ID": APP_ID, "SB_META_GRAPH_URL": self.emu.base,
               "SB_TURN_BURST_MS": "100", "SB_WS_PING_MS": "400", "SB_BUS_POLL_MS": "50"}
        env.update(self.server_env)
        self.server = self.start_server(secret=APP_SECRET, env=env)
        self.origin = "http://127.0.0.1:%d" % self.server.port
        r = self.emu.control("POST", "/_emulator/config", {
            "webhook_url": "http://127.0.0.1:%d/webhooks/meta" % self.server.port})
        self.assertEqual(r.status // 100, 2, r)
        e = base_env()
        e.update({"SB_DATA_DIR": self.server.data_dir, "SB_META_GRAPH_URL": self.emu.base,
                  "SB_META_APP_ID": APP_ID, "SB_META_APP_SECRET": APP_SECRET})
        c = subprocess.run([binary_path(), "accounts", "connect", "--user-token", "-"],
                           input=(self.emu.user_token() + "\n").encode(), env=e,
                           capture_output=True, timeout=60)
        self.assertEqual(c.returncode, 0, c.stderr)
        self.assertEqual(add_user(self.server, "ana@shop.example").returncode, 0)
        self.client = Client(self.server)
        self.assertEqual(self.client.login("ana@shop.example").status, 200)

    def say(self, text, customer=0, channel="messenger"):
        r = self.emu.control("POST", "/_emulator/customers/%d/messages" % customer,
                             {"channel": channel, "text": text})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def api(self, method, path, body=None):
        r = self.client.request(method, path, body)
        return r.status, (json.loads(r.body) if r.body else None)

    def ws(self, after=None, **kw):
        path = "/ws" + ("?after=%d" % after if after is not None else "")
        return WS(self.server.port, path, cookie=self.client.cookie, origin=self.origin, **kw)

    def conversation_id(self, customer=0):
        psid = self.emu.state()["customers"][customer]["psid"][PAGE_ID]
        for _ in deadline_loop(10):
            rows = self.server.query("SELECT v.id FROM conversations v JOIN contacts c"
                                     " ON c.id = v.contact_id WHERE c.scoped_id = ?", (psid,))
            if rows:
                return rows[0][0]
        self.fail("no conversation")

    def wait_messages(self, conv, n, timeout=15):
        for _ in deadline_loop(timeout):
            if self.server.scalar("SELECT count(*) FROM messages WHERE conversation_id = ?",
                                  (conv,)) >= n:
                return
        self.fail("fewer than %d messages" % n)


class TestGateway(LiveCase):
    def test_upgrade_needs_session_and_origin(self):
        with self.assertRaises(Refused) as no_session:
            WS(self.server.port, "/ws", origin=self.origin)
        self.assertEqual(no_session.exception.status, 401)
        with self.assertRaises(Refused) as evil:
            WS(self.server.port, "/ws", cookie=self.client.cookie, origin="https://evil.example")
        self.assertEqual(evil.exception.status, 403)
        with self.assertRaises(Refused) as none:
            WS(self.server.port, "/ws", cookie=self.client.cookie)
        self.assertEqual(none.exception.status, 403)
        with self.assertRaises(Refused) as old:
            WS(self.server.port, "/ws", cookie=self.client.cookie, origin=self.origin,
               headers={"Sec-WebSocket-Version": "8"})
        self.assertEqual(old.exception.status, 426)
        # every /api route answers 401 without a session, known or not
        for path in ("/api/conversations", "/api/settings", "/api/kb", "/api/nothing-here"):
            r = Client(self.server).request("GET", path)
            self.assertEqual(r.status, 401, path)
        w = self.ws()
        hello = w.recv()
        self.assertEqual(hello["type"], "ready")
        w.close()

    def test_live_events_and_resume_without_gap(self):
        w = self.ws()
        self.assertEqual(w.recv()["type"], "ready")
        self.say("Hello, is anyone there? (first)")
        m, seen = w.recv_until(lambda m: m.get("event") == "message.created"
                               and m["message"]["author"] == "customer")
        self.assertIsNotNone(m, seen)
        self.assertEqual(m["message"]["text"], "Hello, is anyone there? (first)")
        self.assertEqual(m["message"]["direction"], "in")
        conv = m["conversation_id"]
        c, _ = w.recv_until(lambda m: m.get("event") == "conversation.updated")
        self.assertEqual(c["conversation"]["id"], conv)
        self.assertEqual(c["conversation"]["window"]["state"], "open")
        last = max(x["id"] for x in seen + [c] if x.get("type") == "event")
        w.close()
        # while nobody listens: more messages, and an operator takes it over
        for i in range(3):
            self.say("while away %d" % i)
        self.wait_messages(conv, 4)
        self.assertEqual(self.api("POST", "/api/conversations/%d/takeover" % conv)[0], 200)
        w = self.ws(after=last)
        got = []
        for _ in deadline_loop(10):
            m = w.recv(1)
            if m and m.get("type") == "event":
                got.append(m)
            if m and m.get("type") == "ready":
                break
        want = [r[0] for r in self.server.query("SELECT id FROM bus_events WHERE id > ?"
                                                " ORDER BY id", (last,))]
        self.assertEqual([m["id"] for m in got], want[:len(got)])
        self.assertGreaterEqual(len(got), 5)
        texts = [m["message"]["text"] for m in got if m.get("event") == "message.created"]
        for i in range(3):
            self.assertIn("while away %d" % i, texts)
        self.assertTrue(any(m.get("event") == "conversation.updated"
                            and m["conversation"]["mode"] == "human" for m in got))
        w.close()
        # an id this database never gave (or long pruned): reload
        w = self.ws(after=10 ** 9)
        self.assertEqual(w.recv()["type"], "resync")
        w.close()

    def test_heartbeats_and_silent_clients_are_dropped(self):
        w = self.ws()
        self.assertEqual(w.recv()["type"], "ready")
        silent = self.ws(answer_pings=False)
        # w keeps reading (and so answers the pings) for a few ping intervals
        beats = 0
        for _ in deadline_loop(3, 0.01):
            m = w.recv(0.2)
            beats += bool(m and m.get("type") == "heartbeat")
        self.assertGreaterEqual(beats, 3)
        self.assertTrue(silent.wait_closed(timeout=1), "a client that never answers stays")
        self.assertIsNone(w.closed)
        # signing out ends the live connection too
        self.assertEqual(self.client.request("POST", "/api/logout").status, 200)
        self.assertTrue(w.wait_closed(timeout=8))
        self.assertEqual(w.closed[0] if isinstance(w.closed, tuple) else w.closed, 4001)


class TestInboxApi(LiveCase):
    server_env = {"SB_KB_DIR": KB_DIR}

    def test_message_pages_by_cursor_while_messages_arrive(self):
        self.say("message 0")
        conv = self.conversation_id()
        self.assertEqual(self.api("POST", "/api/conversations/%d/takeover" % conv)[0], 200)
        for i in range(1, 60):
            self.say("message %d" % i)
        self.wait_messages(conv, 60)
        st, page = self.api("GET", "/api/conversations/%d/messages?limit=25" % conv)
        self.assertEqual(st, 200, page)
        seen = page["messages"]
        self.assertIn("message 59", [m["text"] for m in seen])
        # new messages arrive while the operator scrolls back
        for i in range(60, 65):
            self.say("message %d" % i)
        self.wait_messages(conv, 65)
        cursor = page["before"]
        while cursor:
            st, older = self.api("GET", "/api/conversations/%d/messages?limit=25&before=%s"
                                 % (conv, urllib.parse.quote(cursor)))
            self.assertEqual(st, 200, older)
            seen = older["messages"] + seen
            cursor = older["before"]
        ids = [m["id"] for m in seen]
        self.assertEqual(ids, sorted(set(ids)))  # every row once, in order, across the pages
        self.assertEqual(ids, [r[0] for r in self.server.query(
            "SELECT id FROM messages WHERE conversation_id = ? AND id <= ? ORDER BY id",
            (conv, ids[-1]))])
        texts = sorted((m["text"] for m in seen if m["direction"] == "in"),
                       key=lambda t: int(t.split()[1]))
        self.assertEqual(texts, ["message %d" % i for i in range(60)])
        st, newer = self.api("GET", "/api/conversations/%d/messages?after=%s"
                             % (conv, urllib.parse.quote(page["after"])))
        self.assertEqual(sorted((m["text"] for m in newer["messages"] if m["direction"] == "in"),
                                key=lambda t: int(t.split()[1])),
                         ["message %d" % i for i in range(60, 65)])
        self.assertEqual(self.api("GET", "/api/conversations/%d/messages?before=bogus" % conv)[0],
                         400)

    def test_inbox_filters_counts_and_read(self):
        self.assertEqual(self.server.wait_scalar("SELECT count(*) FROM kb_documents", 4), 4)
        self.say("Do you ship to Canada?", 0)
        self.say("I want to talk to a human please", 1)
        c0, c1 = self.conversation_id(0), self.conversation_id(1)
        for _ in deadline_loop(10):
            st, body = self.api("GET", "/api/conversations?filter=needs_human")
            if [c["id"] for c in body["conversations"]] == [c1]:
                break
        self.assertEqual([c["id"] for c in body["conversations"]], [c1])
        self.assertEqual(body["counts"]["needs_human"]["total"], 1)
        st, body = self.api("GET", "/api/conversations?filter=ai")
        self.assertEqual([c["id"] for c in body["conversations"]], [c0])
        item = body["conversations"][0]
        psid = self.emu.state()["customers"][0]["psid"][PAGE_ID]
        self.assertEqual(item["customer"]["scoped_id"], psid)  # no profile fetched: the id
        self.assertTrue(item["customer"]["display"].endswith(psid[-4:]), item["customer"])
        self.assertIsNotNone(item["last_message"])
        self.assertGreaterEqual(item["unread"], 1)
        self.assertEqual(self.api("POST", "/api/conversations/%d/read" % c0)[1]["conversation"]
                         ["unread"], 0)
        st, body = self.api("GET", "/api/conversations?limit=1")
        self.assertEqual(len(body["conversations"]), 1)
        st, rest = self.api("GET", "/api/conversations?limit=1&before=%s"
                            % urllib.parse.quote(body["before"]))
        self.assertEqual(len(rest["conversations"]), 1)
        self.assertNotEqual(rest["conversations"][0]["id"], body["conversations"][0]["id"])
        self.assertEqual(self.api("GET", "/api/conversations?filter=nope")[0], 400)

    def test_take_over_reply_hand_back_and_audit(self):
        self.say("Do you sell gift cards?")
        conv = self.conversation_id()
        st, r = self.api("POST", "/api/conversations/%d/takeover" % conv)
        self.assertEqual((st, r["conversation"]["mode"]), (200, "human"))
        self.assertEqual(r["conversation"]["window"]["human_reply"], "RESPONSE")
        st, r = self.api("POST", "/api/conversations/%d/reply" % conv,
                         {"text": "Yes, from 10 to 100 dollars."})
        self.assertEqual(st, 200, r)
        self.assertEqual((r["messaging_type"], r["tag"]), ("RESPONSE", None))
        thread = self.say("Great, thanks!")["thread"]
        for _ in deadline_loop(10):
            out = [m for m in self.emu.control("GET", "/_emulator/threads/%s" % thread).json()
                   ["messages"] if m["direction"] == "out"]
            if any(m.get("text") == "Yes, from 10 to 100 dollars." for m in out):
                break
        self.assertTrue(any(m.get("text") == "Yes, from 10 to 100 dollars." for m in out), out)
        row = self.server.query("SELECT author, operator_id, messaging_type, tag FROM messages"
                                " WHERE text = 'Yes, from 10 to 100 dollars.'")[0]
        self.assertEqual(row[0], "human")
        self.assertIsNotNone(row[1])
        self.assertEqual(self.api("POST", "/api/conversations/%d/reply" % conv,
                                  {"text": "  "})[0], 400)
        st, r = self.api("POST", "/api/conversations/%d/handback" % conv)
        self.assertEqual((st, r["conversation"]["mode"]), (200, "ai"))
        actions = [a for (a,) in self.server.query("SELECT action FROM audit_log ORDER BY id")]
        self.assertEqual([a for a in actions if a != "login"], ["takeover", "reply", "hand_back"])
        details = self.server.query("SELECT detail FROM audit_log WHERE action = 'reply'")
        self.assertNotIn("10 to 100", details[0][0])  # never the text
        # an agent can work the inbox but not change settings
        self.assertEqual(add_user(self.server, "bo@shop.example", "agent").returncode, 0)
        bo = Client(self.server)
        bo.login("bo@shop.example")
        self.assertEqual(bo.request("PUT", "/api/settings", {"agent.tone": "x"}).status, 403)
        st, audit = self.api("GET", "/api/audit")
        self.assertEqual(st, 200)
        mine = [e for e in audit["entries"] if e["action"] == "takeover"]
        self.assertEqual(mine[0]["operator"], "ana@shop.example")
        self.assertEqual(mine[0]["target"], "conversation:%d" % conv)

    def test_settings_are_validated(self):
        st, body = self.api("GET", "/api/settings")
        keys = {s["key"]: s for s in body["settings"]}
        for k in ("agent.persona", "agent.tone", "agent.handoff_keywords",
                  "agent.sentiment_threshold", "agent.history_turns", "agent.handoff_cooldown_s",
                  "inbox.pause_on_business_reply", "comments.mode", "comments.hide_offensive"):
            self.assertIn(k, keys)
        self.assertEqual(keys["agent.history_turns"]["value"], "12")
        for bad in ({"agent.history_turns": "30"}, {"agent.sentiment_threshold": "2"},
                    {"comments.mode": "shout"}, {"nope": "1"}, {"agent.tone": 5},
                    {"agent.history_turns": "15", "comments.hide_offensive": "maybe"}):
            st, err = self.api("PUT", "/api/settings", bad)
            self.assertEqual(st, 400, bad)
        self.assertEqual(self.server.scalar("SELECT count(*) FROM settings WHERE key LIKE"
                                            " 'agent.%' OR key LIKE 'comments.%'"), 0)
        st, body = self.api("PUT", "/api/settings", {"agent.history_turns": "15",
                                                     "comments.mode": "leave",
                                                     "agent.handoff_keywords": "refund\nmanager"})
        self.assertEqual(st, 200, body)
        self.assertEqual(self.server.scalar("SELECT value FROM settings WHERE key ="
                                            " 'agent.history_turns'"), "15")
        self.assertEqual(self.server.scalar("SELECT count(*) FROM audit_log WHERE action ="
                                            " 'settings'"), 1)

    def test_knowledge_base_add_search_delete(self):
        st, r = self.api("POST", "/api/kb", {"title": "Gift cards",
                                             "text": "Gift cards come in 10 to 100 dollars and "
                                                     "never expire."})
        self.assertEqual(st, 200, r)
        st, docs = self.api("GET", "/api/kb")
        doc = [d for d in docs["documents"] if d["title"] == "Gift cards"][0]
        st, res = self.api("GET", "/api/kb/search?q=" + urllib.parse.quote("do gift cards expire"))
        self.assertEqual(st, 200)
        self.assertIn("never expire", res["hits"][0]["text"])
        self.assertEqual(self.api("DELETE", "/api/kb/%d" % doc["id"])[0], 200)
        st, res = self.api("GET", "/api/kb/search?q=" + urllib.parse.quote("gift cards expire"))
        self.assertFalse(any("never expire" in h["text"] for h in res["hits"]))


class TestOldConversations(LiveCase):
    """The customer wrote 3 days ago (the local Meta's clock starts in the past and its own
    webhook timestamps say so), and 8 days ago."""
    emu_args = ("--start-days-ago", "8")

    def test_human_agent_after_three_days_refused_after_seven(self):
        self.say("Are you open on Sunday?", 0)   # 8 days ago
        self.emu.control("POST", "/_emulator/clock", {"advance_ms": 5 * DAY_MS})
        self.say("My order never came", 1)       # 3 days ago
        self.emu.control("POST", "/_emulator/clock", {"advance_ms": 3 * DAY_MS})  # now
        old, mid = self.conversation_id(0), self.conversation_id(1)
        self.wait_messages(mid, 1)
        st, c = self.api("GET", "/api/conversations/%d" % mid)
        self.assertEqual(c["conversation"]["window"]["state"], "human_only")
        self.assertEqual(c["conversation"]["window"]["human_reply"], "HUMAN_AGENT")
        st, r = self.api("POST", "/api/conversations/%d/reply" % mid,
                         {"text": "Sorry about that, I am looking into it now."})
        self.assertEqual(st, 200, r)
        self.assertEqual((r["messaging_type"], r["tag"]), ("MESSAGE_TAG", "HUMAN_AGENT"))
        for _ in deadline_loop(10):
            status = self.server.scalar("SELECT status FROM messages WHERE author = 'human'")
            if status in ("sent", "failed"):
                break
        self.assertEqual(status, "sent")  # Meta (the emulator) accepted the tag at 3 days
        st, c = self.api("GET", "/api/conversations/%d" % old)
        self.assertEqual(c["conversation"]["window"]["state"], "closed")
        st, r = self.api("POST", "/api/conversations/%d/reply" % old, {"text": "Hello?"})
        self.assertEqual(st, 409)
        self.assertEqual(r["error"]["code"], "window_closed")
        self.assertEqual(self.server.scalar("SELECT count(*) FROM messages WHERE text ="
                                            " 'Hello?'"), 0)


class TestSignIn(LiveCase):
    def test_throttled_after_five_failures(self):
        c = Client(self.server)
        for _ in range(5):
            self.assertEqual(c.login("ana@shop.example", "wrong password here").status, 401)
        r = c.login("ana@shop.example")  # the right password, but locked
        self.assertEqual(r.status, 429)
        self.assertGreater(int(r.headers["retry-after"]), 0)
        self.assertIn("Try again", json.loads(r.body)["error"]["message"])
        self.assertEqual(Client(self.server).login("ANA@shop.example").status, 429)
        self.assertEqual(add_user(self.server, "bo@shop.example").returncode, 0)
        self.assertEqual(Client(self.server).login("bo@shop.example").status, 200)

    def test_cookie_strict_and_callback_continues_same_origin(self):
        r = Client(self.server).login("ana@shop.example")
        self.assertIn("SameSite=Strict", r.headers["set-cookie"])
        # Facebook's redirect back carries no Strict cookie: a page of ours continues
        r = Client(self.server).request("GET", "/oauth/callback?code=abc&state=xyz")
        self.assertEqual(r.status, 200)
        self.assertIn(b"/oauth/finish?code=abc&amp;state=xyz", r.body)
        # there, with the cookie, the state is checked as before
        r = self.client.request("GET", "/oauth/finish?code=abc&state=xyz")
        self.assertIn(b"expired or was already used", r.body)
        r = Client(self.server).request("GET", "/oauth/finish?code=abc&state=xyz")
        self.assertEqual(r.status, 401)
