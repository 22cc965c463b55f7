"""The messaging pipeline against the local Meta, for what issue 5 asks beyond a plain reply:
echoes that beat the Send API's answer, answers lost after Meta accepted the message, pacing
and Meta's throttling per account, and each of Meta's error classes. Each test sets the
emulator's faults (docs/emulator.md) to force the order it is about."""

import time

from emu import PAGE2_ID, PAGE_ID
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
