"""Replies, end to end, without an LLM: a customer writes through the local Meta (emu.py), the
turn answers from the knowledge base (examples/kb) or hands off to a person, and the sender
calls the emulator's Send API. Checked on both sides: the emulator's thread holds what Meta
would have received, and the conversation's rows say what Switchboard believes (status, mid,
mode). Bursts are one turn; a replayed delivery is one reply; Meta's errors are handled by
class (window closed: failed, never retried; a 500: retried and sent once)."""

import json
import time

from emu import PAGE_ID
from replies_base import ReplyTestCase


class TestReplies(ReplyTestCase):
    def test_a_question_the_kb_answers_gets_one_reply(self):
        said = self.customer_says("do you ship to canada?")
        got = self.wait_replies(said["thread"], 1)
        self.assertEqual(len(got), 1, got)
        text = got[0]["text"]
        self.assertIn("Canada", text)
        self.assertTrue(text.startswith("I'm the AI assistant for Northwind Coffee."), text)
        self.assertEqual(got[0]["messaging_type"], "RESPONSE")
        self.assertIsNone(got[0]["tag"])
        self.assertEqual(self.server.wait_scalar(
            "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'"
            " AND mid = ?", 1, args=(got[0]["mid"],)), 1)
        rows = self.out_rows()
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0][:3], ("ai", "sent", got[0]["mid"]))
        self.assertEqual(got[0]["metadata"], rows[0][3])  # the echo's correlation
        self.assertEqual(self.mode(), ("ai", None))
        # The next answer carries no disclosure.
        said = self.customer_says("how much is shipping to canada?")
        got = self.wait_replies(said["thread"], 2)
        self.assertEqual(len(got), 2, got)
        self.assertNotIn("AI assistant", got[1]["text"])
        self.stop_and_check(self.server)

    def test_a_burst_is_one_turn(self):
        thread = None
        for text in ("hi", "do you ship", "to canada?"):
            thread = self.customer_says(text)["thread"]
        got = self.wait_replies(thread, 1)
        time.sleep(1.0)  # a second turn would answer now
        got = self.replies(thread)
        self.assertEqual(len(got), 1, got)
        self.assertIn("Canada", got[0]["text"])
        self.stop_and_check(self.server)

    def test_asking_for_a_human_hands_off(self):
        thread = self.customer_says("can I talk to a human")["thread"]
        got = self.wait_replies(thread, 1)
        self.assertEqual(len(got), 1, got)
        self.assertIn("I'm passing this to a member of our team", got[0]["text"])
        self.assertEqual(self.mode(), ("human", 'the customer asked for a person ("human")'))
        self.customer_says("do you ship to canada?")
        time.sleep(1.0)
        self.assertEqual(len(self.replies(thread)), 1)  # a person answers now, not the AI
        self.stop_and_check(self.server)

    def test_window_closed_fails_without_retry(self):
        self.fault("window_closed", 5)  # mark_seen, typing_on, the message: 3 calls
        thread = self.customer_says("do you ship to canada?")["thread"]
        self.assertEqual(self.server.wait_scalar(
            "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'failed'", 1), 1)
        time.sleep(1.5)  # a retry would come after about a second
        self.assertEqual(self.faults_left(), 2)
        self.assertEqual(self.replies(thread), [])
        rows = self.out_rows()
        self.assertEqual([r[:3] for r in rows], [("ai", "failed", None)])
        self.assertEqual(rows[0][4], "window closed")
        self.assertEqual(self.mode(), ("human", "window closed"))
        self.stop_and_check(self.server)

    def test_a_server_error_is_retried_and_sent_once(self):
        self.fault("http_500", 3)  # the whole first attempt
        thread = self.customer_says("do you ship to canada?")["thread"]
        got = self.wait_replies(thread, 1, timeout=15)
        self.assertEqual(len(got), 1, got)
        self.assertEqual(self.faults_left(), 0)
        self.assertEqual(self.server.wait_scalar(
            "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'", 1), 1)
        time.sleep(0.5)
        self.assertEqual(len(self.replies(thread)), 1)
        self.stop_and_check(self.server)

    def test_a_replayed_delivery_is_one_reply(self):
        psid = self.customers[2]["psid"][PAGE_ID]
        said = self.customer_says("do you ship to canada?", customer=2)  # opens Meta's window
        ts = int(time.time() * 1000)
        body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": ts, "messaging": [{
            "sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": ts,
            "message": {"mid": said["mid"], "text": "do you ship to canada?"}}]}]}).encode()
        for _ in range(3):  # Meta delivering the same event again
            self.assertEqual(self.server.post_webhook(body).status, 200)
        self.assertEqual(self.server.wait_scalar(
            "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'", 1), 1)
        self.assertEqual(self.server.post_webhook(body).status, 200)  # late, after the reply
        time.sleep(1.0)
        self.assertEqual(self.server.scalar(
            "SELECT count(*) FROM messages WHERE direction = 'out'"), 1)
        self.assertEqual(len(self.replies(said["thread"])), 1)
        self.stop_and_check(self.server)

    def test_a_long_burst_is_answered_once_for_its_end(self):
        psid = self.customers[1]["psid"][PAGE_ID]
        said = self.customer_says("hi", customer=1)  # opens Meta's window; small talk answered
        self.assertEqual(len(self.wait_replies(said["thread"], 1)), 1)
        ts = int(time.time() * 1000)
        texts = ["and another thing %d" % i for i in range(59)] + ["do you ship to canada?"]
        body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": ts, "messaging": [
            {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": ts + i,
             "message": {"mid": "m_burst_%d" % i, "text": t}} for i, t in enumerate(texts)]}]})
        self.assertEqual(self.server.post_webhook(body.encode()).status, 200)
        got = self.wait_replies(said["thread"], 2)
        time.sleep(1.0)  # another turn would answer by now
        got = self.replies(said["thread"])
        # 60 messages, more than one turn reads: answered once (here by a person: 59 of them are
        # noise), not taken for answered because the turn read the burst's start
        self.assertEqual(len(got), 2, got)
        self.stop_and_check(self.server)
