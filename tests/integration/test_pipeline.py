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
