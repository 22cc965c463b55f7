"""The messaging pipeline against the local Meta, for what issue 5 asks beyond a plain reply:
echoes that beat the Send API's answer, answers lost after Meta accepted the message, pacing
and Meta's throttling per account, and each of Meta's error classes. Each test sets the
emulator's faults (docs/emulator.md) to force the order it is about."""

import time

from emu import PAGE_ID
from harness import deadline_loop
from replies_base import ReplyTestCase

QUESTION = "do you ship to canada?"


class TestEchoes(ReplyTestCase):
    def test_an_echo_before_the_send_answer_is_one_message(self):
        # Meta stores the reply and sends its echo, then answers the Send API call 3 s later:
        # the echo is in while the sender still waits.
        self.fault("slow_answer", delay_ms=3000)
        thread = self.customer_says(QUESTION)["thread"]
        got = self.wait_replies(thread, 1)
        self.assertEqual(len(got), 1, got)
        mid = got[0]["mid"]
        # The echo settled our row (by the correlation sent as metadata: no mid known yet).
        self.assertEqual(self.server.wait_scalar(
            "SELECT count(*) FROM messages WHERE direction = 'out' AND author = 'ai'"
            " AND status = 'sent' AND mid = ?", 1, args=(mid,)), 1)
        self.assertEqual(self.log_count("send.sent"), 0)  # the Send API has not answered yet
        for _ in deadline_loop(10, 0.05):
            if self.log_count("send.sent"):
                break
        self.assertEqual(self.log_count("send.sent"), 1)
        time.sleep(0.5)
        rows = self.out_rows()
        self.assertEqual([r[:3] for r in rows], [("ai", "sent", mid)], rows)
        self.assertEqual(self.mode(), ("ai", None))  # our own echo never pauses the AI
        self.assertEqual(len(self.replies(thread)), 1)
        self.stop_and_check(self.server)

    def test_a_lost_answer_is_settled_by_the_echo(self):
        self.fault("lost_answer")  # sent, but the answer is cut off: ambiguous
        thread = self.customer_says(QUESTION)["thread"]
        got = self.wait_replies(thread, 1)
        self.assertEqual(len(got), 1, got)
        self.assertEqual(self.server.wait_scalar(
            "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'"
            " AND mid = ?", 1, args=(got[0]["mid"],)), 1)
        # the sender looks again after its recheck delay and finds the row settled
        for _ in deadline_loop(10, 0.1):
            if self.server.pending_jobs() == 0:
                break
        self.assertEqual(self.server.pending_jobs(), 0)
        self.assertEqual(len(self.replies(thread)), 1)
        self.assertEqual(len(self.out_rows()), 1)
        self.stop_and_check(self.server)


class TestThrottling(ReplyTestCase):
    def account_id(self, external_id):
        return self.server.scalar("SELECT id FROM accounts WHERE external_id = ?", (external_id,))

    def test_a_rate_limit_pauses_that_account_only(self):
        # 613 with X-Business-Use-Case-Usage at 100 % and 5 minutes to regain access.
        self.fault("rate_limit", count=3, path="/%s/messages" % PAGE_ID, code=613)
        first = self.customer_says(QUESTION, customer=0)["thread"]
        acct = self.account_id(PAGE_ID)
        paused = self.server.wait_scalar(
            "SELECT send_paused_until > ? FROM accounts WHERE id = ?", 1,
            args=(int(time.time() * 1000) + 4 * 60 * 1000, acct))
        self.assertEqual(paused, 1)
        # Another conversation of the same Page waits without calling Meta; another Page's
        # conversation is answered meanwhile.
        second = self.customer_says(QUESTION, customer=1)["thread"]
        other = self.customer_says(QUESTION, customer=2, page=1)["thread"]
        self.assertEqual(len(self.wait_replies(other, 1)), 1)
        conv = self.conversation_of(1)
        for _ in deadline_loop(10, 0.05):
            n = self.server.scalar("SELECT count(*) FROM messages WHERE conversation_id = ?"
                                   " AND direction = 'out'", (conv,))
            if n:
                break
        job = None
        for _ in deadline_loop(10, 0.05):
            job = self.server.query(
                "SELECT state, attempts, run_at > ? FROM jobs WHERE kind = 'send' AND dedupe ="
                " (SELECT 'send:' || max(id) FROM messages WHERE conversation_id = ?)",
                (int(time.time() * 1000) + 60 * 1000, conv))
            if job and job[0][0] == "ready" and job[0][2] == 1:
                break
        self.assertEqual(job, [("ready", 0, 1)])  # deferred to the pause's end, no attempt
        self.assertEqual(self.faults_left(), 0)
        self.assertEqual(self.replies(first), [])
        self.assertEqual(self.replies(second), [])
        self.assertGreaterEqual(self.log_count("send.account_paused"), 1)
        self.stop_and_check(self.server)


class TestPacing(ReplyTestCase):
    server_env = {"SB_SEND_RATE": "3"}  # one reply (mark_seen, typing_on, message) a second

    def test_replies_of_one_account_are_paced(self):
        threads = [self.customer_says(QUESTION, customer=i)["thread"] for i in range(4)]
        times = []
        for t in threads:
            got = self.wait_replies(t, 1, timeout=20)
            self.assertEqual(len(got), 1, got)
            times.append(got[0]["ts_ms"])
        times.sort()
        gaps = [b - a for a, b in zip(times, times[1:])]
        # a lower bound only: a loaded machine makes the gaps longer, never shorter
        self.assertTrue(all(g >= 800 for g in gaps), gaps)
        self.stop_and_check(self.server)


class TestErrorClasses(ReplyTestCase):
    def test_each_class_settles_as_meta_means_it(self):
        cases = [
            # fault, the row's error, the conversation's mode and reason, the account's status
            ("user_unavailable", "the customer cannot be reached",
             ("human", "the customer cannot be reached"), "active"),
            ("token_expired", "account needs reconnect",
             ("human", "account needs reconnect"), "needs_reconnect"),
        ]
        for i, (kind, error, mode, status) in enumerate(cases):
            with self.subTest(kind=kind):
                self.emu.control("DELETE", "/_emulator/faults")
                self.fault(kind, count=3)
                self.customer_says(QUESTION, customer=i)
                conv = self.conversation_of(i)
                got = None
                for _ in deadline_loop(10, 0.05):
                    got = self.server.query("SELECT status, error_message FROM messages"
                                            " WHERE conversation_id = ? AND direction = 'out'",
                                            (conv,))
                    if got and got[0][0] == "failed":
                        break
                self.assertEqual(got, [("failed", error)])
                self.assertEqual(self.mode(i), mode)
                self.assertEqual(self.server.scalar(
                    "SELECT status FROM accounts WHERE external_id = ?", (PAGE_ID,)), status)
        self.stop_and_check(self.server)


class TestGapFiller(ReplyTestCase):
    server_env = {"SB_GAPFILL_INTERVAL_S": "1"}

    def test_a_lost_webhook_is_found_and_answered_once(self):
        self.fault("drop_webhook", path="messages", method=None)  # Meta loses this one
        said = self.customer_says(QUESTION)
        got = self.wait_replies(said["thread"], 1, timeout=20)
        self.assertEqual(len(got), 1, got)
        self.assertEqual(self.faults_left(), 0)
        self.assertEqual(self.server.scalar(
            "SELECT count(*) FROM messages WHERE direction = 'in' AND mid = ?",
            (said["mid"],)), 1)
        self.assertEqual(self.server.scalar("SELECT count(*) FROM events WHERE mid = ?",
                                            (said["mid"],)), 0)  # no webhook ever came
        self.assertGreaterEqual(self.log_count("gapfill.found"), 1)
        time.sleep(2.5)  # two more rounds find nothing new
        self.assertEqual(self.log_count("gapfill.found"), 1)
        self.assertEqual(len(self.replies(said["thread"])), 1)
        self.assertEqual(self.server.metrics().get("switchboard_gapfill_messages_total"), 1)
        self.stop_and_check(self.server)


class TestKill9DuringSending(ReplyTestCase):
    def restart(self):
        self.server.kill9()
        self.server.restart()
        self.point_webhook()

    def test_killed_while_meta_answers_is_answered_once(self):
        # Meta stores the reply, its echo is lost, and its answer takes 5 s: the process dies
        # in between, so nothing of ours knows the reply went out.
        self.fault("drop_echo", path="", method=None)
        self.fault("slow_answer", delay_ms=5000)
        thread = self.customer_says(QUESTION)["thread"]
        self.assertEqual(len(self.wait_replies(thread, 1)), 1)
        self.assertEqual(self.out_rows()[0][1], "queued")  # we have no answer yet
        self.restart()
        for _ in deadline_loop(15, 0.1):
            if self.server.scalar("SELECT count(*) FROM messages WHERE direction = 'out'"
                                  " AND status = 'sent'"):
                break
        rows = self.out_rows()
        got = self.replies(thread)
        self.assertEqual(len(got), 1, got)  # never sent a second time
        self.assertEqual(rows[0][1:3], ("sent", got[0]["mid"]))  # found in Meta's copy
        self.assertEqual(self.log_count("send.reconciled"), 1)
        self.stop_and_check(self.server)

    def test_killed_during_many_sends_each_answered_once(self):
        n = 4
        self.fault("drop_echo", count=n, path="", method=None)
        self.fault("slow_answer", count=n, delay_ms=4000)
        threads = [self.customer_says(QUESTION, customer=i)["thread"] for i in range(n)]
        for _ in deadline_loop(15, 0.05):
            if sum(len(self.replies(t)) for t in threads) >= 2:
                break
        self.restart()
        for _ in deadline_loop(30, 0.1):
            if self.server.scalar("SELECT count(*) FROM messages WHERE direction = 'out'"
                                  " AND status = 'sent'") == n:
                break
        time.sleep(1.0)
        for t in threads:
            self.assertEqual(len(self.replies(t)), 1, self.thread(t))
        self.assertEqual([r[1] for r in self.out_rows()], ["sent"] * n)
        self.assertEqual(self.server.scalar("SELECT count(*) FROM messages WHERE direction ="
                                            " 'in'"), n)
        self.stop_and_check(self.server)


# ---- with an operator signed in (the dashboard's API) ----

from test_dashboard_live import DAY_MS, KB_DIR, LiveCase  # noqa: E402

MIN_MS = 60 * 1000


class TestWindowEdges(LiveCase):
    emu_args = ("--start-days-ago", "9")
    server_env = {"SB_KB_DIR": KB_DIR, "SB_TURN_BURST_MS": "300"}

    def advance(self, ms):
        r = self.emu.control("POST", "/_emulator/clock", {"advance_ms": ms})
        self.assertEqual(r.status // 100, 2, r)

    def window(self, conv):
        st, c = self.api("GET", "/api/conversations/%d" % conv)
        self.assertEqual(st, 200, c)
        return c["conversation"]["window"]

    def reply(self, conv, text):
        return self.api("POST", "/api/conversations/%d/reply" % conv, {"text": text})

    def sent_row(self, conv, author):
        for _ in deadline_loop(10):
            rows = self.server.query(
                "SELECT status, messaging_type, tag FROM messages WHERE conversation_id = ?"
                " AND author = ?", (conv, author))
            if rows and rows[-1][0] in ("sent", "failed"):
                return rows[-1]
        return None

    def test_23_59_24_01_6_days_8_days(self):
        # The emulator's clock starts 9 days back: each customer writes at the age given,
        # then the clock comes forward to now, where the replies are made.
        ages = [8 * DAY_MS, 6 * DAY_MS, DAY_MS + MIN_MS, DAY_MS - MIN_MS]  # customers 0..3
        behind = 9 * DAY_MS
        for i, age in enumerate(ages):
            self.advance(behind - age)
            behind = age
            self.say("do you ship to canada?", i)
        self.advance(behind)  # now
        convs = [self.conversation_id(i) for i in range(4)]
        # 23:59: the AI answers, RESPONSE
        self.assertEqual(self.sent_row(convs[3], "ai"), ("sent", "RESPONSE", None))
        # 24:01 and later: the AI stays silent; a person may use HUMAN_AGENT up to 7 days
        time.sleep(1.0)
        self.assertEqual(self.server.scalar(
            "SELECT count(*) FROM messages WHERE author = 'ai' AND conversation_id IN (?, ?, ?)",
            tuple(convs[:3])), 0)
        self.assertEqual([self.window(c)["state"] for c in convs],
                         ["closed", "human_only", "human_only", "open"])
        for conv in (convs[2], convs[1]):  # 24:01, 6 days
            st, r = self.reply(conv, "Sorry for the wait: yes, we ship to Canada.")
            self.assertEqual(st, 200, r)
            self.assertEqual((r["messaging_type"], r["tag"]), ("MESSAGE_TAG", "HUMAN_AGENT"))
            self.assertEqual(self.sent_row(conv, "human"), ("sent", "MESSAGE_TAG", "HUMAN_AGENT"))
        st, r = self.reply(convs[0], "Hello?")  # 8 days: nobody may reply
        self.assertEqual(st, 409, r)
        self.assertEqual(r["error"]["code"], "window_closed")


class TestComments(LiveCase):
    server_env = {"SB_KB_DIR": KB_DIR}

    def setUp(self):
        super().setUp()
        self.media = [m for m in self.emu.state()["media"]][0]["id"]
        self.token = self.emu.page_token()

    def comment(self, text, customer=0):
        r = self.emu.control("POST", "/_emulator/customers/%d/comments" % customer,
                             {"media_id": self.media, "text": text})
        self.assertEqual(r.status, 200, r)
        return r.json()["id"]

    def settled(self, comment_id):
        for _ in deadline_loop(15):
            rows = self.server.query("SELECT status, action, reply_id, is_hidden, error"
                                     " FROM comments WHERE comment_id = ?", (comment_id,))
            if rows and rows[0][0] != "new":
                return rows[0]
        return None

    def set(self, **kv):
        st, r = self.api("PUT", "/api/settings",
                         {k.replace("__", "."): v for k, v in kv.items()})
        self.assertEqual(st, 200, r)

    def replies_of(self, comment_id):
        r = self.emu.graph("GET", "/%s/replies" % comment_id, token=self.token)
        self.assertEqual(r.status, 200, r)
        return r.json()["data"]

    def test_left_by_default(self):
        cid = self.comment("do you ship to canada?")
        self.assertEqual(self.settled(cid)[:2], ("done", "left"))
        self.assertEqual(self.replies_of(cid), [])

    def test_public_reply(self):
        self.set(comments__mode="reply_public")
        cid = self.comment("do you ship to canada?")
        row = self.settled(cid)
        self.assertEqual(row[:2], ("done", "public"), row)
        got = self.replies_of(cid)
        self.assertEqual([g["id"] for g in got], [row[2]])
        self.assertIn("Canada", got[0]["text"])

    def test_one_private_reply_per_comment(self):
        self.set(comments__mode="reply_private")
        cid = self.comment("do you ship to canada?", customer=1)
        row = self.settled(cid)
        self.assertEqual(row[:2], ("done", "private"), row)
        thread = [t for t in self.emu.state()["threads"]
                  if t["customer"] == 1 and t["channel"] == "instagram"][0]
        msgs = self.emu.control("GET", "/_emulator/threads/%s" % thread["id"]).json()["messages"]
        self.assertEqual([m["mid"] for m in msgs if m["direction"] == "out"], [row[2]])
        # the echo of the private reply pauses nothing and warns of nothing
        time.sleep(0.5)
        self.assertEqual(sum(1 for e in self.server.log_events()
                             if e.get("event") == "echo.unmatched"), 0)

    def test_offensive_comment_hidden_and_not_answered(self):
        self.set(comments__mode="reply_public", comments__hide_offensive="true")
        cid = self.comment("you are all idiots")
        row = self.settled(cid)
        self.assertEqual(row[:2], ("done", "hidden"), row)
        self.assertEqual(row[3], 1)
        r = self.emu.graph("GET", "/%s" % cid, token=self.token, params={"fields": "hidden"})
        self.assertEqual(r.json().get("hidden"), True, r)
        self.assertEqual(self.replies_of(cid), [])


class TestSilentAccounts(LiveCase):
    server_env = {"SB_SILENT_FLOOR_S": "4"}

    def test_alert_raised_and_cleared(self):
        # Nothing has come for any account since it was connected: after the floor each is
        # flagged, once.
        for _ in deadline_loop(20, 0.2):
            if self.server.metrics().get("switchboard_accounts_silent") == 3:
                break
        self.assertEqual(self.server.metrics().get("switchboard_accounts_silent"), 3)
        st, r = self.api("GET", "/api/accounts")
        self.assertEqual([a["silent"] for a in r["accounts"]], [True, True, True])
        self.assertEqual(sum(1 for e in self.server.log_events()
                             if e.get("event") == "account.silent"), 3)
        # A message clears the Page's alert at once.
        self.say("hello", 0)
        for _ in deadline_loop(3, 0.05):
            st, r = self.api("GET", "/api/accounts")
            page = [a for a in r["accounts"] if a["external_id"] == PAGE_ID][0]
            if not page["silent"]:
                break
        self.assertFalse(page["silent"], page)
        self.assertIsNotNone(page["last_event_at"])
