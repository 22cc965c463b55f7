"""Crash safety: kill -9 during a flood of webhooks, restart on the same data, and every
delivery that got a 200 is in `events` exactly once."""

import http.client
import threading
import time

from harness import HOST, ServerTestCase, deadline_loop, ig_dm, sign, unique_mid

SENDERS = 6               # concurrent client threads
FLOOD_SECONDS = 1.0       # how long the flood runs before the SIGKILL
MAX_PER_SENDER = 5000     # bound on requests per thread
# Jobs that a worker had claimed when the process died are leased for 60 s (LEASE_MS in
# src/inbox/worker.c) before another worker may take them; allow that plus a margin.
RECOVERY_SECONDS = 80


class Flood:
    """SENDERS threads posting unique signed Instagram DMs over keep-alive connections until
    stopped or until the server goes away. Records which mids got a 200."""

    def __init__(self, server):
        self.s = server
        self.lock = threading.Lock()
        self.acked = []          # mids answered 200
        self.sent = []           # every mid whose request was started
        self.other = []          # (mid, status) answered with anything but 200
        self.errors = []         # (thread, exception) that ended a thread
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(t,), daemon=True)
                        for t in range(SENDERS)]

    def start(self):
        for t in self.threads:
            t.start()

    def run(self, t):
        conn = http.client.HTTPConnection(HOST, self.s.port, timeout=20)
        try:
            for i in range(MAX_PER_SENDER):
                if self.stop.is_set():
                    return
                mid = unique_mid("crash%d-%d-" % (t, i))
                body = ig_dm(mid, sender=str(7061839550569623 + t))
                with self.lock:
                    self.sent.append(mid)
                try:
                    conn.request("POST", "/webhooks/meta", body=body, headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": sign(self.s.secret, body)})
                    r = conn.getresponse()
                    r.read()
                except (OSError, http.client.HTTPException) as e:
                    with self.lock:
                        self.errors.append((t, repr(e)))
                    return
                with self.lock:
                    if r.status == 200:
                        self.acked.append(mid)
                    else:
                        self.other.append((mid, r.status))
        finally:
            conn.close()

    def running(self):
        return sum(1 for t in self.threads if t.is_alive())

    def join(self, timeout=30):
        self.stop.set()
        end = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, end - time.monotonic()))
        return self.running() == 0


class CrashTests(ServerTestCase):

    def test_kill_9_during_flood_loses_no_acknowledged_event(self):
        s = self.start_server()
        flood = Flood(s)
        flood.start()
        for _ in deadline_loop(FLOOD_SECONDS, 0.02):
            pass
        senders_at_kill = flood.running()
        with flood.lock:
            acked_before_kill = len(flood.acked)
        s.kill9()
        self.assertTrue(flood.join(), "sender threads did not stop")
        self.assertEqual(senders_at_kill, SENDERS, "the flood was not running at the kill")
        self.assertGreater(acked_before_kill, 20, "too few deliveries before the kill")
        self.assertGreater(len(flood.errors), 0, "no request was cut by the kill")
        self.assertEqual(flood.other, [], "answers other than 200 before the kill")
        acked = set(flood.acked)

        # Restart on the same data; the workers parse the backlog (including deliveries whose
        # answer was lost in the kill: those may or may not be there, but at most once).
        s.restart()
        present = {}
        for _ in deadline_loop(RECOVERY_SECONDS, 0.25):
            present = dict(s.query("SELECT mid, count(*) FROM events GROUP BY mid"))
            if acked <= present.keys() and s.pending_jobs() == 0:
                break
        missing = sorted(acked - present.keys())
        detail = ""
        if missing:
            states = s.query("SELECT state, count(*), min(lease_until), max(attempts) FROM jobs"
                             " GROUP BY state")
            notable = [e for run in range(len(s.runs)) for e in s.log_events(run)
                       if e.get("level") in ("warn", "error")]
            detail = "; job states after %d s: %r; warnings and errors logged: %s" % (
                RECOVERY_SECONDS, states, notable[:10])
        self.assertEqual(len(missing), 0, "%d of %d acknowledged deliveries missing from "
                         "events (e.g. %r)%s" % (len(missing), len(acked), missing[:3], detail))
        self.assertEqual({m: n for m, n in present.items() if n != 1}, {},
                         "mids stored more than once")
        self.assertLessEqual(present.keys(), set(flood.sent), "events nobody sent")
        self.assertEqual(s.pending_jobs(), 0, "jobs left unparsed")
        self.assertEqual(s.scalar("SELECT count(*) FROM dead_letters"), 0)
        self.stop_and_check(s)
