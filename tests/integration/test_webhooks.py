"""/webhooks/meta over real HTTP: verification, signatures, size limits, dedupe, dead letters."""

import concurrent.futures
import hashlib
import hmac
import json
import threading

from harness import (HOST, IG_ACCOUNT, Server, ServerTestCase, ig_dm, raw_request, sign,
                     unique_mid)

ACCEPTED = 'switchboard_webhooks_received_total{result="accepted"}'
REJECTED = 'switchboard_webhooks_received_total{result="rejected"}'
DUPLICATE = 'switchboard_webhooks_received_total{result="duplicate"}'
DEAD_LETTER = 'switchboard_webhooks_received_total{result="dead_letter"}'


class VerifyTests(ServerTestCase):
    """GET /webhooks/meta: Meta's subscription handshake."""

    def setUp(self):
        self.s = self.start_server()

    def test_subscribe_with_matching_token_echoes_challenge(self):
        r = self.s.verify({"hub.mode": "subscribe", "hub.verify_token": self.s.verify_token,
                           "hub.challenge": "1158201444"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"1158201444")
        self.stop_and_check(self.s)

    def test_wrong_missing_or_partial_token_is_403(self):
        tok = self.s.verify_token
        cases = [
            {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "c1"},
            {"hub.mode": "subscribe", "hub.verify_token": tok[:-1], "hub.challenge": "c2"},
            {"hub.mode": "subscribe", "hub.verify_token": tok + "x", "hub.challenge": "c3"},
            {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "c4"},
            {"hub.mode": "subscribe", "hub.challenge": "c5"},
            {"hub.mode": "unsubscribe", "hub.verify_token": tok, "hub.challenge": "c6"},
            {"hub.verify_token": tok, "hub.challenge": "c7"},
            {"hub.mode": "", "hub.verify_token": tok, "hub.challenge": "c8"},
        ]
        for params in cases:
            with self.subTest(params=params):
                r = self.s.verify(params)
                self.assertEqual(r.status, 403)
                self.assertNotIn(params["hub.challenge"].encode(), r.body)
        self.stop_and_check(self.s)

    def test_empty_configured_token_never_verifies(self):
        s = self.start_server(verify_token="")
        r = s.verify({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "c"})
        self.assertEqual(r.status, 403)
        self.stop_and_check(s)


class SignatureTests(ServerTestCase):
    """X-Hub-Signature-256 missing, malformed or wrong -> 403 and nothing stored."""

    def setUp(self):
        self.s = self.start_server()

    def stop_and_assert_nothing_stored(self):
        # A graceful stop moves whatever the intake journal holds into the database, so the
        # tables are complete afterwards.
        self.stop_and_check(self.s)
        self.assertEqual(self.s.counts(), {"jobs": 0, "events": 0, "dead_letters": 0})

    def test_missing_signature(self):
        r = self.s.post_webhook(ig_dm(unique_mid()), signature=None)
        self.assertEqual(r.status, 403)
        self.assertEqual(self.s.metrics()[REJECTED], 1)
        self.assertEqual(self.s.metrics()[ACCEPTED], 0)
        self.stop_and_assert_nothing_stored()

    def test_malformed_signatures(self):
        body = ig_dm(unique_mid())
        good_hex = hmac.new(self.s.secret.encode(), body, hashlib.sha256).hexdigest()
        sha1 = hmac.new(self.s.secret.encode(), body, hashlib.sha1).hexdigest()
        bad = [
            "",
            "sha256=",
            "sha256",
            good_hex,                            # no prefix
            "sha1=" + sha1,                      # the old header's algorithm
            "sha1=" + good_hex,                  # wrong algorithm name
            "sha256=" + good_hex[:-2],           # too short
            "sha256=" + good_hex + "00",         # too long
            "sha256=" + "zz" + good_hex[2:],     # not hex
            "sha256= " + good_hex[1:],
            "SHA256:" + good_hex,
        ]
        for sig in bad:
            with self.subTest(signature=sig):
                r = self.s.post_webhook(body, signature=sig)
                self.assertEqual(r.status, 403)
        self.assertEqual(self.s.metrics()[REJECTED], len(bad))
        self.stop_and_assert_nothing_stored()

    def test_wrong_secret_tampered_body_and_other_bodys_signature(self):
        body = ig_dm(unique_mid(), text="Please refund order 4411")
        other = ig_dm(unique_mid())
        cases = {
            "other secret": (body, sign("not-the-app-secret", body)),
            "tampered body": (body.replace(b"4411", b"4412"), sign(self.s.secret, body)),
            "extra byte": (body + b" ", sign(self.s.secret, body)),
            "truncated body": (body[:-1], sign(self.s.secret, body)),
            "other body's signature": (body, sign(self.s.secret, other)),
            "empty body": (b"", sign(self.s.secret, body)),
        }
        for name, (b, sig) in cases.items():
            with self.subTest(case=name):
                r = self.s.post_webhook(b, signature=sig)
                self.assertEqual(r.status, 403)
        self.assertEqual(self.s.metrics()[REJECTED], len(cases))
        self.stop_and_assert_nothing_stored()

    def test_invalid_json_with_bad_signature_is_not_dead_lettered(self):
        r = self.s.post_webhook(b'{"object": not json', signature=sign("wrong", b"x"))
        self.assertEqual(r.status, 403)
        self.stop_and_assert_nothing_stored()


class DeliveryTests(ServerTestCase):
    """Valid deliveries: stored durably before the 200, parsed once, redeliveries deduped."""

    def setUp(self):
        self.s = self.start_server()

    def events_for(self, mid):
        return self.s.query("SELECT object, entry_id, kind, sender_id, recipient_id, mid, raw"
                            " FROM events WHERE mid = ?", (mid,))

    def test_valid_delivery_is_stored_then_parsed(self):
        mid = unique_mid()
        body = ig_dm(mid, text="Do you ship to Lisbon by Friday?")
        r = self.s.post_webhook(body)
        self.assertEqual(r.status, 200)
        self.assertEqual(self.s.wait_events([mid]), {mid: 1})
        ev = self.events_for(mid)
        obj, entry, kind, sender, recipient, got_mid, raw = ev[0]
        self.assertEqual((obj, entry, kind, sender, recipient),
                         ("instagram", IG_ACCOUNT, "message", "7061839550569623", IG_ACCOUNT))
        self.assertEqual(json.loads(raw)["message"]["mid"], mid)
        m = self.s.metrics()
        self.assertEqual((m[ACCEPTED], m[REJECTED], m[DUPLICATE], m[DEAD_LETTER]), (1, 0, 0, 0))
        self.stop_and_check(self.s, forbidden=["Do you ship to Lisbon"])
        self.assertEqual(self.s.counts(), {"jobs": 0, "events": 1, "dead_letters": 0})

    def test_redelivery_is_200_and_stored_once(self):
        mid = unique_mid()
        body = ig_dm(mid)
        for i in range(3):
            r = self.s.post_webhook(body)
            self.assertEqual(r.status, 200, "delivery %d" % i)
        self.assertEqual(self.s.wait_events([mid]), {mid: 1})
        m = self.s.metrics()
        self.assertEqual((m[ACCEPTED], m[DUPLICATE]), (1, 2))
        self.stop_and_check(self.s)
        self.assertEqual(self.s.counts(), {"jobs": 0, "events": 1, "dead_letters": 0})

    def test_redelivery_after_restart_is_stored_once(self):
        mid = unique_mid()
        body = ig_dm(mid)
        self.assertEqual(self.s.post_webhook(body).status, 200)
        self.assertEqual(self.s.wait_events([mid]), {mid: 1})
        self.stop_and_check(self.s)
        self.s.restart()
        self.assertEqual(self.s.post_webhook(body).status, 200)
        self.stop_and_check(self.s)
        self.s.restart()                    # parse anything the last run left unparsed
        self.assertEqual(self.s.wait_events([mid]), {mid: 1})
        self.stop_and_check(self.s)
        self.assertEqual(self.s.counts(), {"jobs": 0, "events": 1, "dead_letters": 0})

    def test_same_message_in_different_envelopes_is_one_event(self):
        # Meta may redeliver one message in a batch that differs in bytes (time, order, spacing).
        mid = unique_mid()
        a = ig_dm(mid, ts_ms=1732460122987)
        doc = json.loads(a)
        doc["entry"][0]["time"] += 5000
        b = json.dumps(doc, indent=1).encode()
        for body in (a, b):
            self.assertEqual(self.s.post_webhook(body).status, 200)
        # Both deliveries are accepted (their bytes differ); parsing finds the second one's
        # message already stored.
        self.assertEqual(self.s.wait_metric('switchboard_events_total{result="duplicate"}', 1), 1)
        self.assertEqual(self.s.wait_events([mid]), {mid: 1})
        m = self.s.metrics()
        self.assertEqual((m[ACCEPTED], m[DUPLICATE]), (2, 0))
        self.assertEqual(m['switchboard_events_total{result="stored"}'], 1)
        self.stop_and_check(self.s)
        self.assertEqual(self.s.counts(), {"jobs": 0, "events": 1, "dead_letters": 0})

    def test_batch_with_several_messages(self):
        mids = [unique_mid() for _ in range(5)]
        doc = json.loads(ig_dm(mids[0]))
        item = doc["entry"][0]["messaging"][0]
        doc["entry"][0]["messaging"] = [
            dict(item, message={"mid": m, "text": "part %d" % i}) for i, m in enumerate(mids)]
        body = json.dumps(doc).encode()
        self.assertEqual(self.s.post_webhook(body).status, 200)
        self.assertEqual(self.s.wait_events(mids), {m: 1 for m in mids})
        self.stop_and_check(self.s)

    def test_signed_invalid_json_is_kept_as_dead_letter(self):
        body = (b'{"object":"instagram","entry":[{"messaging":[{"message":'
                b'{"text":"call me on 555-0199')
        r = self.s.post_webhook(body)
        self.assertEqual(r.status, 200)
        self.assertEqual(self.s.wait_scalar("SELECT count(*) FROM dead_letters", 1), 1)
        rows = self.s.query("SELECT source, reason, payload FROM dead_letters")
        source, reason, payload = rows[0]
        self.assertEqual(source, "webhook")
        self.assertTrue(reason and reason.strip(), "dead letter has no reason")
        self.assertEqual(bytes(payload) if not isinstance(payload, str) else payload.encode(),
                         body)
        m = self.s.metrics()
        self.assertEqual((m[DEAD_LETTER], m[ACCEPTED], m[REJECTED]), (1, 0, 0))
        self.assertEqual(self.s.wait_metric("switchboard_dead_letters", 1), 1)
        self.stop_and_check(self.s, forbidden=["555-0199"])
        self.assertEqual(self.s.counts(), {"jobs": 0, "events": 0, "dead_letters": 1})

    def test_other_not_json_bodies_are_dead_letters(self):
        bodies = [b"", b"hello", b"[1,2", b'{"a":1}{"b":2}', b"\xff\xfe{}", b'{"a":"\x01"}']
        for b in bodies:
            with self.subTest(body=b):
                self.assertEqual(self.s.post_webhook(b).status, 200)
        self.assertEqual(self.s.metrics()[DEAD_LETTER], len(bodies))
        self.assertEqual(self.s.wait_scalar("SELECT count(*) FROM dead_letters", len(bodies)),
                         len(bodies))
        self.stop_and_check(self.s)
        self.assertEqual(self.s.scalar(
            "SELECT count(*) FROM dead_letters WHERE length(trim(reason)) = 0"), 0)
        self.assertEqual(self.s.counts(), {"jobs": 0, "events": 0, "dead_letters": len(bodies)})

    def test_concurrent_copies_of_one_delivery(self):
        n = 50
        mid = unique_mid("conc")
        body = ig_dm(mid)
        barrier = threading.Barrier(n, timeout=20)

        def send(_):
            barrier.wait()
            return self.s.post_webhook(body, timeout=30).status

        with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
            statuses = list(ex.map(send, range(n), timeout=60))
        self.assertEqual(statuses, [200] * n)
        self.assertEqual(self.s.wait_events([mid]), {mid: 1})
        m = self.s.metrics()
        self.assertEqual((m[ACCEPTED], m[DUPLICATE], m[REJECTED]), (1, n - 1, 0))
        self.stop_and_check(self.s)
        self.assertEqual(self.s.counts(), {"jobs": 0, "events": 1, "dead_letters": 0})


class SizeLimitTests(ServerTestCase):
    """Bodies over SB_WEBHOOK_MAX_BYTES (default 1 MiB) -> 413, nothing stored."""

    LIMIT = 1048576

    def padded(self, size, mid):
        """A valid Instagram DM delivery of exactly size bytes."""
        base = ig_dm(mid, text="")
        pad = size - len(base)
        self.assertGreaterEqual(pad, 0)
        body = base.replace(b'"text":""', b'"text":"' + b"a" * pad + b'"')
        self.assertEqual(len(body), size)
        return body

    def post_raw(self, s, body, chunked=False, sig=None):
        sig = sig or sign(s.secret, body)
        s.sent_signatures.add(sig.rpartition("=")[2])
        head = ["POST /webhooks/meta HTTP/1.1", "Host: %s:%d" % (HOST, s.port),
                "Content-Type: application/json", "X-Hub-Signature-256: " + sig,
                "Connection: close"]
        if chunked:
            head.append("Transfer-Encoding: chunked")
            step = 256 * 1024
            data = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + step]), body[i:i + step])
                            for i in range(0, len(body), step)) + b"0\r\n\r\n"
        else:
            head.append("Content-Length: %d" % len(body))
            data = body
        return raw_request(s.port, "\r\n".join(head), data)

    def test_default_limit(self):
        s = self.start_server()
        over = self.padded(self.LIMIT + 1, unique_mid("big"))
        r = self.post_raw(s, over)
        self.assertEqual(r.status, 413)
        r = self.post_raw(s, self.padded(4 * self.LIMIT, unique_mid("huge")))
        self.assertEqual(r.status, 413)
        # Exactly at the limit is accepted.
        mid = unique_mid("edge")
        r = self.post_raw(s, self.padded(self.LIMIT, mid))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(s.wait_events([mid]), {mid: 1})
        self.stop_and_check(s)
        # Only the delivery within the limit was stored.
        self.assertEqual(s.counts(), {"jobs": 0, "events": 1, "dead_letters": 0})

    def test_chunked_body_over_limit(self):
        s = self.start_server()
        r = self.post_raw(s, self.padded(self.LIMIT + 10, unique_mid("chunk")), chunked=True)
        self.assertEqual(r.status, 413)
        mid = unique_mid("chunk-ok")
        r = self.post_raw(s, self.padded(300 * 1024, mid), chunked=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(s.wait_events([mid]), {mid: 1})
        self.stop_and_check(s)
        # Only the delivery within the limit was stored.
        self.assertEqual(s.counts(), {"jobs": 0, "events": 1, "dead_letters": 0})

    def test_configured_limit(self):
        s = self.start_server(env={"SB_WEBHOOK_MAX_BYTES": "2048"})
        r = self.post_raw(s, self.padded(2049, unique_mid("cfg")))
        self.assertEqual(r.status, 413)
        # Oversized and unsigned: refused either way (the contract fixes no precedence).
        r = self.post_raw(s, self.padded(4096, unique_mid("cfg")), sig="sha256=" + "0" * 64)
        self.assertIn(r.status, (403, 413))
        mid = unique_mid("cfg-ok")
        self.assertEqual(self.post_raw(s, self.padded(2048, mid)).status, 200)
        self.assertEqual(s.wait_events([mid]), {mid: 1})
        self.stop_and_check(s)
        # Only the delivery within the limit was stored.
        self.assertEqual(s.counts(), {"jobs": 0, "events": 1, "dead_letters": 0})


class ConcurrentUniqueDeliveryTests(ServerTestCase):
    """Many different deliveries at once, right after a start (when the server sets up its
    per-thread intake), are each answered 200 and each parsed exactly once. Repeated over
    several starts because what it guards against is a race."""

    ROUNDS = 8
    CLIENTS = 128

    def test_concurrent_unique_deliveries_after_start_are_all_stored(self):
        s = Server(env={"SB_HTTP_THREADS": "64"})
        self.addCleanup(s.close)
        all_mids = []
        for rnd in range(self.ROUNDS):
            s.start()
            mids = [unique_mid("u%d-" % rnd) for _ in range(self.CLIENTS)]
            bodies = [ig_dm(m) for m in mids]
            barrier = threading.Barrier(self.CLIENTS, timeout=20)

            def send(i):
                barrier.wait()
                return s.post_webhook(bodies[i], timeout=30).status

            with concurrent.futures.ThreadPoolExecutor(max_workers=self.CLIENTS) as ex:
                statuses = list(ex.map(send, range(self.CLIENTS), timeout=60))
            acked = [m for m, st in zip(mids, statuses) if st == 200]
            all_mids += acked
            got = s.wait_events(all_mids, timeout=10)
            missing = [m for m in all_mids if m not in got]
            notable = [e for e in s.log_events() if e.get("level") in ("warn", "error")]
            self.assertEqual({st: statuses.count(st) for st in set(statuses)},
                             {200: self.CLIENTS},
                             "round %d: answers; warnings/errors logged: %s" % (rnd, notable[:4]))
            self.assertEqual(len(missing), 0,
                             "round %d: %d deliveries answered 200 are not in events after 10 s"
                             "; warnings/errors logged: %s" % (rnd, len(missing), notable[:4]))
            self.assertEqual({m: n for m, n in got.items() if n != 1}, {})
            self.stop_and_check(s)
        self.assertEqual(s.counts(), {"jobs": 0, "events": len(all_mids), "dead_letters": 0})
