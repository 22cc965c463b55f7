"""Operations: /healthz, /readyz, /metrics, logs, graceful shutdown, restart on the same data."""

import concurrent.futures
import signal
import socket
import threading
import time

from harness import HOST, ServerTestCase, deadline_loop, ig_dm, sign, unique_mid

RESULTS = ("accepted", "rejected", "duplicate", "dead_letter")


def received(m, result):
    return m['switchboard_webhooks_received_total{result="%s"}' % result]


class ProbeTests(ServerTestCase):

    def test_healthz_and_readyz(self):
        s = self.start_server()
        r = s.get("/healthz")
        self.assertEqual(r.status, 200)
        r = s.get("/readyz")
        self.assertEqual(r.status, 200)
        self.stop_and_check(s)


class MetricsTests(ServerTestCase):

    def test_metrics_page(self):
        s = self.start_server()
        mids = [unique_mid(), unique_mid()]
        body = ig_dm(mids[0])
        self.assertEqual(s.post_webhook(body).status, 200)           # accepted
        self.assertEqual(s.post_webhook(body).status, 200)           # duplicate
        self.assertEqual(s.post_webhook(body, signature=None).status, 403)   # rejected
        self.assertEqual(s.post_webhook(b"{oops").status, 200)        # dead letter
        self.assertEqual(s.post_webhook(ig_dm(mids[1])).status, 200)  # accepted
        self.assertEqual(s.wait_events(mids), {m: 1 for m in mids})
        self.assertEqual(s.wait_scalar("SELECT count(*) FROM dead_letters", 1), 1)

        r = s.get("/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers.get("content-type", "").startswith("text/plain"),
                        r.headers.get("content-type"))
        text = r.body.decode()
        m = s.metrics()
        for name in m:
            self.assertTrue(name.startswith("switchboard_"), name)
        # Every sample belongs to a family with a TYPE line.
        typed = {ln.split()[2] for ln in text.splitlines() if ln.startswith("# TYPE ")}
        for name in m:
            fam = name.split("{")[0]
            base = fam
            for suffix in ("_bucket", "_sum", "_count"):
                if fam.endswith(suffix) and fam[:-len(suffix)] in typed:
                    base = fam[:-len(suffix)]
            self.assertIn(base, typed, "no # TYPE for %s" % name)
        self.assertIn("# TYPE switchboard_webhooks_received_total counter", text)
        self.assertIn("# TYPE switchboard_webhook_ack_seconds histogram", text)

        self.assertEqual([received(m, x) for x in RESULTS], [2, 1, 1, 1])

        # The acknowledgement histogram: cumulative buckets ending in +Inf == _count.
        buckets = sorted(((float(k.split('le="')[1].split('"')[0].replace("+Inf", "inf")), v)
                          for k, v in m.items()
                          if k.startswith("switchboard_webhook_ack_seconds_bucket{")))
        self.assertGreaterEqual(len(buckets), 2)
        self.assertEqual(buckets[-1][0], float("inf"))
        counts = [v for _, v in buckets]
        self.assertEqual(counts, sorted(counts), "buckets are not cumulative")
        count = m["switchboard_webhook_ack_seconds_count"]
        self.assertEqual(buckets[-1][1], count)
        stored = received(m, "accepted") + received(m, "duplicate") + received(m, "dead_letter")
        self.assertGreaterEqual(count, stored)
        self.assertLessEqual(count, stored + received(m, "rejected"))
        self.assertGreater(m["switchboard_webhook_ack_seconds_sum"], 0)
        self.assertLess(m["switchboard_webhook_ack_seconds_sum"], 60 * count)

        for state in ("ready", "running"):
            self.assertIn('switchboard_queue_jobs{state="%s"}' % state, m)
        self.assertEqual(s.wait_metric('switchboard_queue_jobs{state="ready"}', 0), 0)
        self.assertEqual(s.wait_metric("switchboard_dead_letters", 1), 1)
        self.stop_and_check(s)

    def test_queue_gauge_counts_waiting_jobs_then_restart_drains_them(self):
        # An ingest-only process stores deliveries that nobody parses yet.
        ingest = self.start_server(serve_args=["--role", "ingest"])
        mids = [unique_mid("gauge") for _ in range(3)]
        for mid in mids:
            self.assertEqual(ingest.post_webhook(ig_dm(mid)).status, 200)
        self.assertEqual(ingest.wait_scalar("SELECT count(*) FROM jobs WHERE state = 'ready'", 3),
                         3)
        self.assertEqual(ingest.wait_metric('switchboard_queue_jobs{state="ready"}', 3), 3)
        time.sleep(0.3)
        self.assertEqual(ingest.scalar("SELECT count(*) FROM events"), 0)
        self.stop_and_check(ingest)

        # The full server on the same data parses the backlog exactly once.
        ingest.serve_args = []
        ingest.restart()
        self.assertEqual(ingest.wait_events(mids), {m: 1 for m in mids},
                         "backlog not parsed after restart")
        self.assertEqual(ingest.wait_metric('switchboard_queue_jobs{state="ready"}', 0), 0)
        self.stop_and_check(ingest)


class LogTests(ServerTestCase):

    def test_debug_logs_are_json_without_secrets_or_message_texts(self):
        s = self.start_server(env={"SB_LOG_LEVEL": "debug"})
        texts = ["My card number is 4111 1111 1111 1111",
                 "rejected text zebra-umbrella-42",
                 "dead letter text walrus-teapot-7"]
        mid = unique_mid()
        self.assertEqual(s.post_webhook(ig_dm(mid, text=texts[0])).status, 200)
        self.assertEqual(s.post_webhook(ig_dm(unique_mid(), text=texts[1]),
                                        signature=sign("wrong", b"")).status, 403)
        self.assertEqual(s.post_webhook(b'{"message":{"text":"' + texts[2].encode() + b'"').status,
                         200)
        r = s.verify({"hub.mode": "subscribe", "hub.verify_token": s.verify_token,
                      "hub.challenge": "42"})
        self.assertEqual(r.status, 200)
        self.assertEqual(s.wait_events([mid]), {mid: 1})
        self.assertEqual(s.wait_scalar("SELECT count(*) FROM dead_letters", 1), 1)
        self.stop_and_check(s, forbidden=texts + ["4111", "zebra-umbrella", "walrus-teapot"])
        events = [e.get("event") for e in s.log_events()]
        self.assertGreater(len(events), 2, "expected some log lines")


class ShutdownTests(ServerTestCase):

    def partial_post(self, s, body, first):
        """Opens a POST with a full header and only `first` bytes of the body."""
        sock = socket.create_connection((HOST, s.port), timeout=20)
        head = ("POST /webhooks/meta HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json"
                "\r\nX-Hub-Signature-256: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % (HOST, s.port, sign(s.secret, body), len(body)))
        sock.sendall(head.encode() + body[:first])
        return sock

    @staticmethod
    def read_response(sock, timeout=20):
        sock.settimeout(timeout)
        data = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        sock.close()
        return data

    def test_sigterm_still_answers_request_in_flight(self):
        s = self.start_server()
        mid = unique_mid("inflight")
        body = ig_dm(mid)
        sock = self.partial_post(s, body, len(body) // 2)
        time.sleep(0.5)                     # the server has the headers: the request is in flight
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        self.assertTrue(s.alive(), "server exited with a request in flight")
        sock.sendall(body[len(body) // 2:])
        data = self.read_response(sock)
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:200])
        self.stop_and_check(s)
        # What was acknowledged is there after a restart.
        s.restart()
        self.assertEqual(s.wait_events([mid]), {mid: 1})
        self.stop_and_check(s)

    def test_sigterm_with_a_stalled_client_exits_after_the_grace_period(self):
        s = self.start_server(env={"SB_SHUTDOWN_GRACE_MS": "500"})
        body = ig_dm(unique_mid("stalled"))
        sock = self.partial_post(s, body, 10)
        try:
            time.sleep(0.3)
            t0 = time.monotonic()
            self.stop_and_check(s)          # exit code 0 and clean logs
            self.assertLess(time.monotonic() - t0, 10)
        finally:
            sock.close()
        self.assertEqual(s.counts(), {"jobs": 0, "events": 0, "dead_letters": 0})

    def test_sigint_is_graceful(self):
        s = self.start_server()
        self.assertEqual(s.post_webhook(ig_dm(unique_mid())).status, 200)
        self.stop_and_check(s, sig=signal.SIGINT)

    def test_sigterm_during_a_flood_loses_nothing_acknowledged(self):
        s = self.start_server()
        acked, statuses, lock = [], [], threading.Lock()
        stop = threading.Event()

        def sender(t):
            for i in range(2000):
                if stop.is_set():
                    return
                mid = unique_mid("term%d-%d-" % (t, i))
                try:
                    r = s.post_webhook(ig_dm(mid), timeout=20)
                except OSError:
                    return                   # the server has stopped listening
                with lock:
                    statuses.append(r.status)
                    if r.status == 200:
                        acked.append(mid)

        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
            futs = [ex.submit(sender, t) for t in range(4)]
            for _ in deadline_loop(10, 0.05):
                with lock:
                    if len(acked) >= 100:
                        break
            alive_at_signal = sum(1 for f in futs if not f.done())
            rc = s.stop(signal.SIGTERM)
            stop.set()
            for f in futs:
                f.result(timeout=60)
        self.assertEqual(alive_at_signal, 4, "the flood was over before SIGTERM")
        self.assertEqual(rc, 0, s.stderr()[-3000:])
        self.assertEqual(s.log_problems(), [])
        self.assertGreater(len(acked), 0)
        self.assertEqual(sorted(set(statuses)), [200], "answers other than 200 during shutdown")
        s.restart()
        got = s.wait_events(acked, timeout=30)
        missing = [m for m in acked if m not in got]
        self.assertEqual(missing, [], "%d acknowledged deliveries lost" % len(missing))
        self.assertEqual([m for m, n in got.items() if n != 1], [])
        self.stop_and_check(s)
