"""Switchboard with the local Meta as its Meta: the emulator signs and delivers webhooks the
way Meta does, and `serve` takes them in. (Later capabilities extend this: sends, publishing.)"""

from emu import APP_SECRET, IG_ID, PAGE_ID, Emulator, EmulatorTestCase


class TestEmulatorDrivesServe(EmulatorTestCase):
    def setUp(self):
        self.server = self.start_server(secret=APP_SECRET)
        self.emu = Emulator(webhook="http://127.0.0.1:%d/webhooks/meta" % self.server.port,
                            args=["--webhook-retry-ms", "100"])
        self.addCleanup(self.emu.stop)
        self.emu.start()
        self.emu.subscribe(self.emu.page_token())

    def customer_says(self, channel, text, customer=0):
        r = self.emu.control("POST", "/_emulator/customers/%d/messages" % customer,
                             {"channel": channel, "text": text})
        self.assertEqual(r.status, 200, r)
        return r.json()["mid"]

    def test_customer_messages_reach_the_store_once(self):
        mids = [self.customer_says("instagram", "Do you ship to Canada? \U0001F4E6"),
                self.customer_says("messenger", "Are you open on Sunday?", customer=1),
                self.customer_says("instagram", "caf\u00e9 au lait?", customer=2)]
        got = self.server.wait_events(mids)
        self.assertEqual({m: got.get(m) for m in mids}, {m: 1 for m in mids})
        rows = dict(self.server.query("SELECT mid, entry_id FROM events WHERE mid IS NOT NULL"))
        self.assertEqual(rows[mids[0]], IG_ID)
        self.assertEqual(rows[mids[1]], PAGE_ID)
        m = self.server.metrics()
        self.assertEqual(m.get('switchboard_webhooks_received_total{result="rejected"}', 0), 0)
        deliveries = self.emu.control("GET", "/_emulator/deliveries").json()["deliveries"]
        self.assertTrue(deliveries and all(d["delivered"] for d in deliveries), deliveries)
        self.stop_and_check(self.server)

    def test_a_delivery_made_while_serve_is_down_arrives_after_restart(self):
        self.server.stop()
        mid = self.customer_says("instagram", "anyone there?")
        self.server.restart()  # on a new port: tell the emulator, which retries meanwhile
        r = self.emu.control("POST", "/_emulator/config", {
            "webhook_url": "http://127.0.0.1:%d/webhooks/meta" % self.server.port})
        self.assertEqual(r.status, 200, r)
        got = self.server.wait_events([mid], timeout=30)
        self.assertEqual(got.get(mid), 1)
        self.stop_and_check(self.server)
