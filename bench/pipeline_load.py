#!/usr/bin/env python3
"""The load and the measurement of bench/pipeline.sh: signed webhooks in, Send API calls out.

    python3 bench/pipeline_load.py --server PORT --emulator URL --llm URL --secret S \
        --customers N --rate R --seconds D

1. Warm-up: every customer writes once through the emulator (which opens Meta's 24-hour window
   for them and has Switchboard answer once), until each has its answer.
2. Load: R messages a second for D seconds, posted straight to Switchboard's /webhooks/meta as
   Meta posts them (one signed delivery each, from the customers in turn, so a customer's
   next message comes N/R seconds after the last and a turn never merges two of them).
   Each message's time is taken just before its POST.
3. Matching: a customer's k-th reply after the warm-up answers its k-th message; its time is
   the emulator's, taken when the Send API call carrying the message arrives (the emulator's
   clock is the real one).
4. Our own time: end to end minus what the emulator and the LLM stub spent on the calls before
   that arrival (mark_seen, typing_on and the LLM request: their mean busy time, read from
   /_emulator/stats and the stub's /stats before and after the load).

Prints one line of figures; asserts nothing about time.
"""

import argparse
import hashlib
import hmac
import http.client
import json
import threading
import time
import urllib.request

PAGE_ID = "104000000000001"
# Questions unlike one another, in turn for each customer, so the agent's loop check (the
# customer asking again what was answered) never hands a benchmark conversation off.
QUESTIONS = ["do you ship to canada?", "what time does the cafe open on weekdays",
             "can I return a bag of beans I bought last week", "how should I store whole beans",
             "do your gift cards ever expire", "how is the decaf made"]


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def post_json(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


class Load:
    def __init__(self, a):
        self.a = a
        self.sent = {}  # customer -> [t0 seconds, ...] in order
        self.lock = threading.Lock()
        self.errors = 0

    def body(self, psid, k, n_customers):
        ts = int(time.time() * 1000)
        text = QUESTIONS[(k // n_customers) % len(QUESTIONS)]
        return json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": ts, "messaging": [{
            "sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": ts,
            "message": {"mid": "m_bench_%d_%d" % (k, ts), "text": text}}]}]},
            separators=(",", ":")).encode()

    def post(self, conn, body):
        sig = "sha256=" + hmac.new(self.a.secret.encode(), body, hashlib.sha256).hexdigest()
        conn.request("POST", "/webhooks/meta", body=body,
                     headers={"Content-Type": "application/json", "X-Hub-Signature-256": sig})
        r = conn.getresponse()
        r.read()
        return r.status

    def worker(self, index, n_threads, psids, t_start, total):
        conn = http.client.HTTPConnection("127.0.0.1", self.a.server, timeout=30)
        for k in range(index, total, n_threads):
            due = t_start + k / self.a.rate
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)
            c = k % len(psids)
            body = self.body(psids[c], k, len(psids))
            t0 = time.time()
            try:
                status = self.post(conn, body)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.a.server, timeout=30)
                status = 0
            with self.lock:
                if status == 200:
                    self.sent.setdefault(c, []).append(t0)
                else:
                    self.errors += 1
        conn.close()

    def run(self, psids):
        total = int(self.a.rate * self.a.seconds)
        n_threads = max(2, min(16, int(self.a.rate // 100) + 2))
        t_start = time.time() + 0.2
        ts = [threading.Thread(target=self.worker, args=(i, n_threads, psids, t_start, total))
              for i in range(n_threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return t_start, time.time()


def threads_by_customer(emu):
    st = get_json(emu + "/_emulator/state")
    return {t["customer"]: t["id"] for t in st["threads"]
            if t["channel"] == "messenger" and t["page"] == 0}


def out_times(emu, thread):
    msgs = get_json(emu + "/_emulator/threads/" + thread)["messages"]
    return [m["ts_ms"] / 1000.0 for m in msgs if m["direction"] == "out"]


def warm_up(a, n):
    for i in range(n):
        post_json(a.emulator + "/_emulator/customers/%d/messages" % i,
                  {"channel": "messenger", "text": "hi there"})
    deadline = time.time() + 120
    while time.time() < deadline:
        threads = threads_by_customer(a.emulator)
        st = get_json(a.emulator + "/_emulator/state")
        done = sum(1 for t in st["threads"] if t["channel"] == "messenger" and t["page"] == 0
                   and t["messages"] >= 2)
        if len(threads) == n and done == n:
            return threads
        time.sleep(0.5)
    raise SystemExit("warm-up: not every customer was answered in 120 s")


def external_ms(before, after, count_key, busy_key):
    n = after[count_key] - before[count_key]
    return (after[busy_key] - before[busy_key]) / 1000.0 / n if n > 0 else 0.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", type=int, required=True)
    p.add_argument("--emulator", required=True)
    p.add_argument("--llm", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--customers", type=int, default=1000)
    p.add_argument("--rate", type=float, default=500)
    p.add_argument("--seconds", type=float, default=20)
    a = p.parse_args()
    st = get_json(a.emulator + "/_emulator/state")
    psids = [c["psid"][PAGE_ID] for c in st["customers"]][:a.customers]
    threads = warm_up(a, len(psids))
    emu0, llm0 = get_json(a.emulator + "/_emulator/stats"), get_json(a.llm + "/stats")
    load = Load(a)
    t_start, t_end = load.run(psids)
    n_sent = sum(len(v) for v in load.sent.values())
    deadline = time.time() + 60
    while time.time() < deadline:  # until every message has its reply (or a minute passed)
        st = get_json(a.emulator + "/_emulator/state")
        outs = sum(t["messages"] for t in st["threads"] if t["channel"] == "messenger"
                   and t["page"] == 0)
        if outs >= 2 * len(psids) + n_sent:  # the webhooks came straight to us
            break
        time.sleep(0.5)
    emu1, llm1 = get_json(a.emulator + "/_emulator/stats"), get_json(a.llm + "/stats")
    meta_ms = external_ms(emu0, emu1, "graph_calls", "graph_busy_us")
    llm_ms = external_ms(llm0, llm1, "requests", "busy_us")
    e2e, last_reply = [], 0.0
    for c, t0s in load.sent.items():
        replies = out_times(a.emulator, threads[c])[1:]  # the first answered the warm-up
        for t0, t1 in zip(t0s, replies):
            e2e.append((t1 - t0) * 1000.0)
            last_reply = max(last_reply, t1)
    answered = len(e2e)
    own = [max(0.0, v - 2 * meta_ms - llm_ms) for v in e2e]
    span = (last_reply - t_start) if last_reply else float("nan")
    print("offered %.0f/s for %.0f s (%d customers): %d sent, %d answered, %d errors; "
          "sustained %.0f replies/s; end to end p50 %.1f ms, p99 %.1f ms; our own time p50 %.1f "
          "ms, p99 %.1f ms (minus Meta %.2f ms a call x2, LLM %.2f ms)" % (
              a.rate, a.seconds, len(psids), n_sent, answered, load.errors,
              answered / span if span > 0 else 0.0, pct(e2e, 50), pct(e2e, 99), pct(own, 50),
              pct(own, 99), meta_ms, llm_ms), flush=True)


if __name__ == "__main__":
    main()
