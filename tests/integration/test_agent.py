"""The agent with an LLM, end to end: customers write through the local Meta (emu.py), the real
binary asks a local OpenAI-compatible server (llm_server.py, scripted) and a local tool server,
and the reply goes out through the emulator's Send API. Checked on every side: what the LLM
was sent (system prompt, history, passages, tools, tool results), what the tool server was
called with, what the customer received, and what the store holds (mode, handoff cause,
sentiment, token usage, the job's lease while a slow answer is pending)."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time

import harness
from emu import APP_ID, APP_SECRET, PAGE_ID, Emulator, EmulatorTestCase
from harness import base_env, binary_path, deadline_loop
from llm_server import LLMServer, ToolServer, answer, error, last_user, system_prompt, tool_call

KB_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                       "examples", "kb"))


class AgentTestCase(EmulatorTestCase):
    extra_env = {}

    def setUp(self):
        self.llm = LLMServer()
        self.addCleanup(self.llm.close)
        self.shop = ToolServer()
        self.addCleanup(self.shop.close)
        self.shop.routes[("GET", "/orders/NW-10428")] = (
            200, '{"order":"NW-10428","status":"shipped","carrier":"UPS","total":42.5}')
        tmp = tempfile.mkdtemp(prefix="sb-it-tools-")
        self.tools_file = os.path.join(tmp, "tools.json")
        with open(self.tools_file, "w") as f:
            json.dump({"tools": [{
                "name": "order_status", "description": "Look up an order by its number",
                "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                               "required": ["order_id"]},
                "method": "GET", "url": self.shop.base_url + "/orders/{order_id}",
                "headers": {"Authorization": "Bearer ${NORTHWIND_SHOP_KEY}"},
                "timeout_ms": 3000}]}, f)
        self.emu = Emulator(args=["--webhook-retry-ms", "100"])
        self.addCleanup(self.emu.stop)
        self.emu.start()
        env = {"SB_META_APP_ID": APP_ID, "SB_META_GRAPH_URL": self.emu.base,
               "SB_META_GRAPH_VERSION": "v24.0", "SB_TURN_BURST_MS": "200",
               "SB_KB_DIR": KB_DIR, "SB_BUSINESS_NAME": "Northwind Coffee",
               "SB_LLM_URL": self.llm.base_url, "SB_LLM_MODEL": "test-model",
               "SB_LLM_API_KEY": "sk-test-secret-key", "SB_TOOLS_FILE": self.tools_file,
               "SB_LLM_TIMEOUT_MS": "5000"}
        env.update(self.extra_env)
        os.environ["NORTHWIND_SHOP_KEY"] = "shop-key-123"  # read by the server at start
        self.addCleanup(os.environ.pop, "NORTHWIND_SHOP_KEY", None)
        self.server = self.start_server(secret=APP_SECRET, env=env)
        r = self.emu.control("POST", "/_emulator/config", {
            "webhook_url": "http://127.0.0.1:%d/webhooks/meta" % self.server.port})
        self.assertEqual(r.status // 100, 2, r)
        rc, _, err = self.run_sb("accounts", "connect", "--user-token", "-",
                                 stdin=self.emu.user_token() + "\n")
        self.assertEqual(rc, 0, err)
        self.customers = self.emu.state()["customers"]
        self.assertEqual(self.server.wait_scalar("SELECT count(*) FROM kb_documents", 4), 4)

    def run_sb(self, *args, stdin=None):
        env = base_env()
        env.update({"SB_DATA_DIR": self.server.data_dir, "SB_META_GRAPH_URL": self.emu.base,
                    "SB_META_GRAPH_VERSION": "v24.0", "SB_META_APP_ID": APP_ID,
                    "SB_META_APP_SECRET": APP_SECRET})
        r = subprocess.run([binary_path()] + list(args), input=(stdin or "").encode(), env=env,
                           capture_output=True, timeout=60)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def customer_says(self, text, customer=0, channel="messenger"):
        r = self.emu.control("POST", "/_emulator/customers/%d/messages" % customer,
                             {"channel": channel, "text": text})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def replies(self, thread):
        r = self.emu.control("GET", "/_emulator/threads/%s" % thread)
        self.assertEqual(r.status, 200, r)
        return [m for m in r.json()["messages"] if m["direction"] == "out"]

    def wait_replies(self, thread, n, timeout=20):
        got = []
        for _ in deadline_loop(timeout, 0.05):
            got = self.replies(thread)
            if len(got) >= n:
                break
        return got

    def conversation(self, customer=0):
        psid = self.customers[customer]["psid"][PAGE_ID]
        return self.server.query(
            "SELECT v.id, v.mode, v.handoff_cause, v.handoff_reason FROM conversations v"
            " JOIN contacts c ON c.id = v.contact_id WHERE c.scoped_id = ?", (psid,))[0]

    def write_db(self, sql, args=()):
        """Stands in for the dashboard's "Hand back" (inbox_hand_back): the same row change."""
        con = sqlite3.connect(self.server.db_path, timeout=10)
        try:
            con.execute(sql, args)
            con.commit()
        finally:
            con.close()


class TestAgentLLM(AgentTestCase):
    def test_answer_with_the_context_stack(self):
        self.llm.script.append(answer("**Yes**, we ship to Canada: $12.95 flat rate, 5 to 10 "
                                      "business days. Import duties are paid by the recipient. "
                                      "Anything else?"))
        said = self.customer_says("Do you ship to Canada?")
        got = self.wait_replies(said["thread"], 1)
        self.assertEqual(len(got), 1, got)
        text = got[0]["text"]
        self.assertEqual(text, "I'm the AI assistant for Northwind Coffee. Yes, we ship to "
                               "Canada: $12.95 flat rate, 5 to 10 business days. Import duties "
                               "are paid by the recipient.")  # 3 sentences, Markdown gone
        self.assertEqual(got[0]["messaging_type"], "RESPONSE")
        req = self.llm.requests[0]
        self.assertEqual(req["headers"].get("authorization"), "Bearer sk-test-secret-key")
        self.assertEqual(req["json"]["model"], "test-model")
        sys = system_prompt(req)
        for want in ("Northwind Coffee", "at most 3 short sentences", "Never invent",
                     "AI assistant", "handoff_to_human", "Messenger",
                     "Shipping > Where we ship (shipping.md)", "Do not introduce yourself"):
            self.assertIn(want, sys)
        self.assertEqual(last_user(req), "Do you ship to Canada?")
        names = [t["function"]["name"] for t in req["json"]["tools"]]
        self.assertEqual(names, ["handoff_to_human", "order_status"])
        # usage per conversation, sentiment per customer message
        conv = self.conversation()[0]
        self.assertEqual(self.server.wait_scalar(
            "SELECT count(*) FROM llm_usage WHERE conversation_id = ? AND model = 'test-model'"
            " AND prompt_tokens = 120 AND completion_tokens = 12", 1, args=(conv,)), 1)
        self.assertEqual(self.server.scalar(
            "SELECT count(*) FROM messages WHERE conversation_id = ? AND direction = 'in'"
            " AND sentiment IS NOT NULL", (conv,)), 1)
        # the next turn carries the history and no second disclosure
        self.llm.script.append(answer("Standard shipping to Canada takes 5 to 10 business days."))
        self.customer_says("how long does it take?")
        got = self.wait_replies(said["thread"], 2)
        self.assertEqual(got[1]["text"], "Standard shipping to Canada takes 5 to 10 business days.")
        msgs = self.llm.requests[1]["json"]["messages"]
        self.assertEqual([m["role"] for m in msgs], ["system", "user", "assistant", "user"])
        self.assertIn("Yes, we ship to Canada", msgs[2]["content"])
        self.assertNotIn("Do not introduce yourself", system_prompt(self.llm.requests[1]))
        self.stop_and_check(self.server, forbidden=("sk-test-secret-key", "shop-key-123"))

    def test_tool_call_round(self):
        self.llm.script.append(tool_call("order_status", {"order_id": "NW-10428"}))
        self.llm.script.append(answer("Your order NW-10428 has shipped with UPS."))
        said = self.customer_says("where is my order NW-10428?")
        got = self.wait_replies(said["thread"], 1)
        self.assertEqual(len(got), 1, got)
        self.assertIn("Your order NW-10428 has shipped with UPS.", got[0]["text"])
        self.assertEqual(len(self.shop.calls), 1)
        self.assertEqual(self.shop.calls[0]["path"], "/orders/NW-10428")
        self.assertEqual(self.shop.calls[0]["headers"].get("authorization"), "Bearer shop-key-123")
        msgs = self.llm.requests[1]["json"]["messages"]
        self.assertEqual(msgs[-2]["role"], "assistant")
        self.assertEqual(msgs[-2]["tool_calls"][0]["id"], "call_1")
        self.assertEqual(msgs[-1], {"role": "tool", "tool_call_id": "call_1", "content":
                                    '{"order":"NW-10428","status":"shipped","carrier":"UPS",'
                                    '"total":42.5}'})
        conv = self.conversation()[0]
        self.assertEqual(self.server.wait_scalar(  # both calls' tokens in the turn's row
            "SELECT prompt_tokens FROM llm_usage WHERE conversation_id = ?", 200, args=(conv,)),
            200)
        self.stop_and_check(self.server, forbidden=("shop-key-123",))

    def test_model_hands_off_and_the_ai_stays_silent(self):
        self.llm.script.append(tool_call("handoff_to_human", {"reason": "wants an exception"}))
        said = self.customer_says("I opened the bag but want a refund anyway")
        got = self.wait_replies(said["thread"], 1)
        self.assertEqual(len(got), 1, got)
        self.assertIn("I'm passing this to a member of our team", got[0]["text"])
        _, mode, cause, reason = self.conversation()
        self.assertEqual((mode, cause), ("human", "model"))
        self.assertEqual(reason, "the assistant asked for a person: wants an exception")
        self.customer_says("hello?")
        time.sleep(1.0)
        self.assertEqual(len(self.llm.requests), 1)  # nobody asked the LLM again
        self.assertEqual(len(self.replies(said["thread"])), 1)
        self.stop_and_check(self.server)

    def test_an_llm_that_keeps_failing_hands_off(self):
        for _ in range(3):
            self.llm.script.append(error(503, "The server is overloaded", "server_error"))
        said = self.customer_says("do you ship to canada?")
        got = self.wait_replies(said["thread"], 1)
        self.assertEqual(len(got), 1, got)
        self.assertIn("member of our team", got[0]["text"])
        self.assertEqual(len(self.llm.requests), 3)
        self.assertEqual(self.conversation()[1:3], ("human", "failures"))
        self.stop_and_check(self.server)

    def test_keywords_hand_off_before_the_llm(self):
        said = self.customer_says("Quiero hablar con una persona, por favor")
        got = self.wait_replies(said["thread"], 1)
        self.assertEqual(len(got), 1, got)
        self.assertEqual(self.conversation()[1:3], ("human", "keyword"))
        self.assertEqual(self.llm.requests, [])
        self.stop_and_check(self.server)

    def test_a_made_up_price_is_asked_again_then_handed_off(self):
        self.llm.script.append(answer("Shipping to Canada is only $2 today!"))
        self.llm.script.append(answer("Use code CANADA50 for 50% off shipping."))
        said = self.customer_says("how much is shipping to canada?")
        got = self.wait_replies(said["thread"], 1)
        self.assertEqual(len(got), 1, got)
        self.assertNotIn("$2", got[0]["text"])
        self.assertIn("member of our team", got[0]["text"])
        self.assertEqual(len(self.llm.requests), 2)
        self.assertIn("not in the knowledge passages",
                      self.llm.requests[1]["json"]["messages"][-1]["content"])
        self.assertEqual(self.conversation()[1:3], ("human", "guardrail"))
        self.stop_and_check(self.server)

    def test_story_reply_and_ad_referral_reach_the_model(self):
        psid = self.customers[1]["psid"][PAGE_ID]
        self.llm.script.append(answer("Hi! How can I help?"))
        said = self.customer_says("hi", customer=1)  # opens Meta's window for the reply
        self.wait_replies(said["thread"], 1)
        ts = int(time.time() * 1000)
        body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": ts, "messaging": [
            {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": ts,
             "referral": {"ref": "fall", "source": "ADS", "type": "OPEN_THREAD", "ad_id": "6001",
                          "ads_context_data": {"ad_title": "Autumn Blend is back"}}},
            {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": ts + 1,
             "message": {"mid": "m_story_reply_1", "text": "is this one still available?",
                         "reply_to": {"story": {"id": "st1", "url": "https://cdn.example/s1"}}}},
        ]}]}).encode()
        self.llm.script.append(answer("Yes, the Autumn Blend is available."))
        self.assertEqual(self.server.post_webhook(body).status, 200)
        reqs = self.llm.wait_requests(2)
        self.assertEqual(len(reqs), 2)
        self.assertIn("opened the chat from the ad", last_user(reqs[1]))
        self.assertIn("is this one still available? [replied to the business's story]",
                      last_user(reqs[1]))
        self.assertIn('The chat was opened from the ad "Autumn Blend is back".',
                      system_prompt(reqs[1]))
        self.assertIn("Products > Coffee (products.md)", system_prompt(reqs[1]))  # the ad's words
        self.stop_and_check(self.server)

    def test_a_business_reply_from_meta_apps_silences_the_ai(self):
        self.llm.script.append(answer("We ship to Canada."))
        said = self.customer_says("do you ship to canada?")
        self.wait_replies(said["thread"], 1)
        psid = self.customers[0]["psid"][PAGE_ID]
        ts = int(time.time() * 1000)
        echo = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": ts, "messaging": [
            {"sender": {"id": PAGE_ID}, "recipient": {"id": psid}, "timestamp": ts,
             "message": {"mid": "m_business_1", "is_echo": True, "app_id": 263902037430900,
                         "text": "Hi, Dana from the shop here."}}]}]}).encode()
        self.assertEqual(self.server.post_webhook(echo).status, 200)
        self.assertEqual(self.server.wait_scalar(
            "SELECT mode FROM conversations WHERE id = ?", "paused",
            args=(self.conversation()[0],)), "paused")
        self.customer_says("thanks Dana!")
        time.sleep(1.0)
        self.assertEqual(len(self.llm.requests), 1)
        self.stop_and_check(self.server)

    def test_hand_back_discloses_again_and_cools_history_signals(self):
        said = self.customer_says("This is the worst service ever, I'm furious!!")
        got = self.wait_replies(said["thread"], 1)
        self.assertEqual(len(got), 1, got)
        conv, mode, cause, _ = self.conversation()
        self.assertEqual((mode, cause), ("human", "sentiment"))
        now = int(time.time() * 1000)
        self.write_db("UPDATE conversations SET mode = 'ai', handoff_cause = NULL,"
                      " handoff_reason = NULL, handoff_at = NULL, assigned_operator_id = NULL,"
                      " handed_back_at = ?, ai_disclosed_at = NULL WHERE id = ?", (now, conv))
        # still upset, but an operator just said it is fine: the AI answers, and says what it is
        self.llm.script.append(answer("I'm sorry about that. We ship to Canada."))
        self.customer_says("still annoyed. do you ship to canada?")
        got = self.wait_replies(said["thread"], 2)
        self.assertEqual(len(got), 2, got)
        self.assertTrue(got[1]["text"].startswith("I'm the AI assistant for Northwind Coffee."),
                        got[1]["text"])
        self.assertEqual(self.conversation()[1], "ai")
        self.stop_and_check(self.server)


class TestAgentSlowLLM(AgentTestCase):
    extra_env = {"SB_LLM_TIMEOUT_MS": "60000", "SB_WORKERS": "4"}

    def test_a_message_during_a_slow_answer_is_answered_once(self):
        first = "what grind do you recommend for a french press"
        self.llm.delay = lambda req: 3.0 if last_user({"json": req}) == first else 0
        self.llm.respond = lambda req: answer("Coarse ground is best for a French press.")
        said = self.customer_says(first)
        self.llm.wait_requests(1)
        self.customer_says("and for espresso?")  # while the first answer is pending
        got = self.wait_replies(said["thread"], 1, timeout=20)
        self.assertEqual(len(got), 1, got)
        time.sleep(4.0)  # the first turn has settled by now, and sent nothing
        self.assertEqual(len(self.replies(said["thread"])), 1)
        reqs = self.llm.requests
        self.assertEqual(len(reqs), 2)
        self.assertEqual(last_user(reqs[1]), first + "\nand for espresso?")  # answered together
        conv = self.conversation()[0]
        self.assertEqual(self.server.scalar(  # both turns' tokens are counted
            "SELECT count(*) FROM llm_usage WHERE conversation_id = ?", (conv,)), 2)
        self.stop_and_check(self.server)

    def test_a_slow_answer_blocks_no_other_conversation_and_keeps_its_lease(self):
        slow_text = "tell me everything about the ethiopia guji"
        self.llm.delay = lambda req: 6.0 if slow_text in (last_user({"json": req}) or "") else 0
        self.llm.respond = lambda req: answer("Happy to help with that.")
        slow = self.customer_says(slow_text, customer=0)
        self.llm.wait_requests(1)
        fast = self.customer_says("do you ship to canada?", customer=1)
        got = self.wait_replies(fast["thread"], 1, timeout=5)
        self.assertEqual(len(got), 1, "the other conversation waited for the slow answer")
        self.assertEqual(self.replies(slow["thread"]), [])  # still pending
        # the pending turn's lease reaches past what the LLM call may take
        lease = self.server.scalar(
            "SELECT max(lease_until) - ? FROM jobs WHERE kind = 'turn' AND state = 'running'",
            (int(time.time() * 1000),))
        self.assertIsNotNone(lease)
        self.assertGreater(lease, 60000)
        # and no transaction is held meanwhile: another process can write
        con = sqlite3.connect(self.server.db_path, timeout=0.5)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.rollback()
        finally:
            con.close()
        got = self.wait_replies(slow["thread"], 1, timeout=20)
        self.assertEqual(len(got), 1, got)
        self.stop_and_check(self.server)


class TestAgentStartChecks(EmulatorTestCase):
    def run_serve(self, env):
        e = base_env()
        e.update({"SB_DATA_DIR": tempfile.mkdtemp(prefix="sb-it-agent-")})
        e.update(env)
        return subprocess.run([binary_path(), "serve"], env=e, capture_output=True, timeout=30)

    def test_a_bad_tools_file_or_timeout_stops_the_start(self):
        d = tempfile.mkdtemp(prefix="sb-it-tools-")
        bad = os.path.join(d, "tools.json")
        with open(bad, "w") as f:
            f.write('{"tools": [{"name": "x y", "description": "d", "parameters": {"type":'
                    ' "object"}, "method": "GET", "url": "https://shop.example"}]}')
        r = self.run_serve({"SB_TOOLS_FILE": bad})
        self.assertEqual(r.returncode, 2)
        lines = r.stderr.decode().strip().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("SB_TOOLS_FILE: tools[0]: name", lines[0])
        with open(bad, "w") as f:
            f.write('{"tools": [{"name": "x", "description": "d", "parameters": {"type":'
                    ' "object"}, "method": "GET", "url": "https://shop.example",'
                    ' "headers": {"X-Key": "${SB_SURELY_UNSET_VAR}"}}]}')
        r = self.run_serve({"SB_TOOLS_FILE": bad})
        self.assertEqual(r.returncode, 2)
        self.assertIn("${SB_SURELY_UNSET_VAR}, which is not set", r.stderr.decode())
        r = self.run_serve({"SB_LLM_TIMEOUT_MS": "10"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("SB_LLM_TIMEOUT_MS", r.stderr.decode())


class TestDemoWithLLM(EmulatorTestCase):
    def test_demo_takes_the_llm_path_when_sb_llm_url_is_set(self):
        llm = LLMServer()
        self.addCleanup(llm.close)
        llm.respond = lambda req: answer("Our LLM says hello to %s." % (
            "Canada" if "Canada" in (last_user({"json": req}) or "") else "you"))
        work = tempfile.mkdtemp(prefix="sbdemo.")
        self.addCleanup(shutil.rmtree, work, True)
        port = harness.free_port()
        env = base_env()
        env.update({"SB_LISTEN": "127.0.0.1:%d" % port, "SB_DATA_DIR": os.path.join(work, "d"),
                    "SB_LLM_URL": llm.base_url, "SB_LLM_MODEL": "demo-model"})
        proc = subprocess.Popen([binary_path(), "demo"], cwd=harness.REPO_ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = b""
        try:
            for _ in deadline_loop(90):
                line = proc.stdout.readline()
                if not line:
                    break
                out += line
                if b"Ctrl-C stops it" in line:
                    break
            proc.send_signal(signal.SIGINT)
            rest, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        text = (out + rest).decode("utf-8", "replace")
        self.assertEqual(proc.returncode, 0, err.decode("utf-8", "replace")[-2000:])
        self.assertIn("the LLM at SB_LLM_URL", text)
        self.assertRegex(text, r"customer 0 <- I'm the AI assistant for Northwind Coffee\. "
                               r"Our LLM says hello to Canada\.")
        self.assertGreaterEqual(len(llm.requests), 3)
        self.assertTrue(all(r["json"]["model"] == "demo-model" for r in llm.requests))
