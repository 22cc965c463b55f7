#!/usr/bin/env python3
"""Summarise a bench/webhook.sh run directory into Markdown (stdout).

Reads  OUT_DIR/results.jsonl            Switchboard rows (written by webhook.sh)
       OUT_DIR/peers-rN/results.jsonl   peers, round N (../shared/peers/run-webhook-bench.sh)
       OUT_DIR/genchk-rN/results.jsonl  generator check: a peer with the static wrk script
       OUT_DIR/genchk-unique-rN/...     the same peer with the unique-id script, when that
                                        peer was not in PEERS
Checks (exit 1 if one fails):
  Switchboard: smoke test passed; every response 2xx; stored >= 2xx wrk saw and
               stored - 2xx <= connections (in flight at wrk's cut-off); no 'duplicate'
               or 'failed' results in /metrics; clean exit (status 0) on SIGTERM.
  peers:       the peers' own rule: no non-2xx, 0 <= XLEN - 2xx <= connections.
Usage: webhook_summary.py OUT_DIR [--gen-check-peer nginx-2]
"""
import glob
import json
import os
import re
import statistics
import sys

STATIC = " (static body)"


def load(path, **extra):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                r.update(extra)
                rows.append(r)
    return rows


def phase_foreign(d):
    """foreign CPU over a whole peers invocation, written by webhook.sh next to its dir"""
    try:
        with open(d + ".foreign.json", encoding="utf-8") as f:
            j = json.load(f)
        return {"phase_foreign_cpu_s": j["foreign_cpu_s"], "phase_wall_s": j["wall_s"]}
    except (OSError, ValueError, KeyError):
        return {}


def round_of(d):
    m = re.search(r"-r(\d+)$", d)
    return int(m.group(1)) if m else 1


def ok2xx(r):
    return r["wrk"]["requests"] - r["wrk"]["non2xx3xx"]


def sock_errs(r):
    w = r["wrk"]
    return w["err_connect"] + w["err_read"] + w["err_write"] + w["err_timeout"]


def stored(r):
    return r["stored"] if r["peer"] == "switchboard" else r.get("xlen")


def verdict(r):
    w = r["wrk"]
    notes, fails = [], []
    if sock_errs(r):
        notes.append(f"{sock_errs(r)} socket errors")
    if w["non2xx3xx"]:
        fails.append(f"{w['non2xx3xx']} non-2xx")
    if r["peer"] == "switchboard":
        if not r.get("smoke_ok", True):
            fails.append("smoke test failed")
        if not r.get("baseline_loaded", True):
            fails.append("jobs table did not catch up after the warm-up")
        mb, ma = r.get("metrics_before") or {}, r.get("metrics_after") or {}
        for k in ("duplicate", "failed", "rejected", "dead_letter"):
            d = ma.get(k, 0) - mb.get(k, 0)
            if d:
                fails.append(f"{d} {k}")
        if r.get("stop_rc") not in (0, None):
            fails.append(f"exit status {r['stop_rc']} on SIGTERM")
        if r.get("loaded_after") is False:
            notes.append("jobs table had not caught up before SIGTERM")
    s = stored(r)
    if s is None:
        text = "no store to check"
    else:
        diff = s - ok2xx(r)
        if diff < 0:
            fails.append(f"LOSS: {-diff} acked events missing")
        elif diff > r["conns"]:
            fails.append(f"{diff} more stored than 2xx (> {r['conns']} connections)")
        text = f"+{diff} in flight"
    if fails:
        return False, "FAIL: " + "; ".join(fails + notes)
    return True, "OK (" + "; ".join([text] + notes) + ")"


def foreign_pct(r, ncpu):
    """(percent of all cores used by other processes, exact_window?) or None"""
    if r.get("foreign_cpu_s") is not None and r.get("window_ms"):
        return 100 * r["foreign_cpu_s"] / (r["window_ms"] / 1000 * ncpu), True
    if r.get("phase_foreign_cpu_s") is not None and r.get("phase_wall_s"):
        return 100 * r["phase_foreign_cpu_s"] / (r["phase_wall_s"] * ncpu), False
    return None


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fint(x):
    return f"{x:,.0f}"


def ms(us):
    return f"{us / 1000:.2f}"


def cpu_us(r, key="server_cpu_s"):
    v = r.get(key)
    n = r["wrk"]["requests"]
    return v * 1e6 / n if (v is not None and n) else None


def f1(x):
    return "-" if x is None or x != x else f"{x:.1f}"


def row(cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    out = args[0]
    gen_peer = ""
    if "--gen-check-peer" in args:
        gen_peer = args[args.index("--gen-check-peer") + 1]

    rows = load(os.path.join(out, "results.jsonl")) if os.path.exists(os.path.join(out, "results.jsonl")) else []
    for d in sorted(glob.glob(os.path.join(out, "peers-r*"))):
        if os.path.isdir(d) and os.path.exists(os.path.join(d, "results.jsonl")):
            rows += load(os.path.join(d, "results.jsonl"), round=round_of(d), **phase_foreign(d))
    for d in sorted(glob.glob(os.path.join(out, "genchk-unique-r*"))):
        if os.path.isdir(d) and os.path.exists(os.path.join(d, "results.jsonl")):
            rows += load(os.path.join(d, "results.jsonl"), round=round_of(d), **phase_foreign(d))
    for d in sorted(glob.glob(os.path.join(out, "genchk-r*"))):
        if os.path.isdir(d) and os.path.exists(os.path.join(d, "results.jsonl")):
            for r in load(os.path.join(d, "results.jsonl"), round=round_of(d), **phase_foreign(d)):
                r["peer"] += STATIC
                r["xlen"] = None
                rows.append(r)
    rows = [r for r in rows if r.get("label", "valid") == "valid"]
    if not rows:
        print("no results found", file=sys.stderr)
        return 2

    ncpu = os.cpu_count() or 1
    all_ok = True
    for r in rows:
        r["_ok"], r["_text"] = verdict(r)
        all_ok &= r["_ok"]

    # group by (server, conns), keeping first-seen order (switchboard, peers, static)
    groups = {}
    for r in rows:
        groups.setdefault((r["peer"], r["conns"]), []).append(r)
    first_seen = list(dict.fromkeys(g[0] for g in groups))

    def gkey(k):
        p = k[0]
        return (0 if p == "switchboard" else 2 if p.endswith(STATIC) else 1, first_seen.index(p), -k[1])

    keys = sorted(groups, key=gkey)

    def gstat(k):
        rs = groups[k]
        return {
            "rps": med([r["wrk"]["rps"] for r in rs]),
            "rps_min": min(r["wrk"]["rps"] for r in rs),
            "rps_max": max(r["wrk"]["rps"] for r in rs),
            "p50": med([r["wrk"]["lat_p50_us"] for r in rs]),
            "p90": med([r["wrk"]["lat_p90_us"] for r in rs]),
            "p99": med([r["wrk"]["lat_p99_us"] for r in rs]),
            "p99_min": min(r["wrk"]["lat_p99_us"] for r in rs),
            "p99_max": max(r["wrk"]["lat_p99_us"] for r in rs),
            "cpu": med([c for c in (cpu_us(r) for r in rs) if c is not None]) if rs[0].get("server_measured", True) else None,
            "cpu_loaded": med([c for c in (cpu_us(r, "server_cpu_loaded_s") for r in rs) if c is not None]) if "server_cpu_loaded_s" in rs[0] else None,
            "hwm": max(r.get("server_hwm_kb", 0) for r in rs) / 1024 if rs[0].get("server_measured", True) else None,
            "passed": sum(r["_ok"] for r in rs),
            "n": len(rs),
            "diffs": [stored(r) - ok2xx(r) for r in rs if stored(r) is not None],
        }

    S = {k: gstat(k) for k in keys}
    o = []
    w = o.append
    w("## Webhook ingestion: Switchboard vs peers (same machine, same load, same run)")
    w("")
    fp = [f[0] for f in (foreign_pct(r, ncpu) for r in rows) if f is not None]
    if fp and max(fp) >= 10:
        w(f"**Warning: the machine was shared.** Processes this benchmark did not start used at least "
          f"{min(fp):.0f}–{max(fp):.0f}% (median {med(fp):.0f}%) of the {ncpu} cores during the "
          "measurements (see 'foreign CPU %' below). Absolute rates are depressed; compare "
          "servers only within this run.")
        w("")
    w("Medians over rounds (min–max for req/s). Latency: wrk closed-loop, ms. "
      "CPU µs/req: server's user+sys CPU during the run (wrk's duration + settle) / requests "
      "completed (Node: all cluster processes, Redis excluded). \"until loaded\": Switchboard's CPU "
      "from the start of the run until the jobs table held every delivery it acknowledged "
      "(it acknowledges after an append to its intake journal and loads SQLite behind; this "
      "window also holds whatever its worker threads parsed into events meanwhile). "
      "RSS: peak (VmHWM) over rounds. stored − 2xx: rows in jobs after the SIGTERM stop "
      "(Switchboard) or XLEN (Node) minus the 2xx wrk counted.")
    w("")
    w(row(["server", "conns", "rounds", "req/s median (min–max)", "p50 ms", "p99 ms",
           "CPU µs/req", "CPU µs/req until loaded", "RSS MB", "stored − 2xx", "check"]))
    w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    for k in keys:
        s = S[k]
        diffs = f"{min(s['diffs'])}–{max(s['diffs'])}" if s["diffs"] else "-"
        w(row([k[0], k[1], s["n"], f"{fint(s['rps'])} ({fint(s['rps_min'])}–{fint(s['rps_max'])})",
               ms(s["p50"]), ms(s["p99"]), f1(s["cpu"]), f1(s["cpu_loaded"]),
               "-" if s["hwm"] is None else f"{s['hwm']:.0f}", diffs,
               f"{s['passed']}/{s['n']} {'OK' if s['passed'] == s['n'] else 'FAIL'}"]))

    # ---- ratios
    sb_conns = sorted({k[1] for k in keys if k[0] == "switchboard"}, reverse=True)
    node = [k[0] for k in keys if re.match(r"^(express|fastify)-", k[0])]
    node = list(dict.fromkeys(node))
    nginx = [p for p in dict.fromkeys(k[0] for k in keys) if p.startswith("nginx") and not p.endswith(STATIC)]
    w("")
    w("### Ratios (of medians)")
    w("")
    if sb_conns:
        w(row(["conns", "Switchboard req/s", "fastest Node peer", "Switchboard ÷ it",
               "nginx (ceiling)", "Switchboard ÷ nginx"]))
        w("|--:|--:|---|--:|--:|--:|")
        for c in sb_conns:
            sb = S[("switchboard", c)]["rps"]
            best = max(((S[(p, c)]["rps"], p) for p in node if (p, c) in S), default=None)
            ng = max(((S[(p, c)]["rps"], p) for p in nginx if (p, c) in S), default=None)
            w(row([c, fint(sb),
                   f"{best[1]} {fint(best[0])}" if best else "-",
                   f"**{sb / best[0]:.2f}×**" if best else "-",
                   f"{ng[1]} {fint(ng[0])}" if ng else "-",
                   f"**{sb / ng[0]:.2f}×**" if ng else "-"]))
        w("")
        hi, lo = max(sb_conns), min(sb_conns)
        sbh = S[("switchboard", hi)]
        best = max(((S[(p, hi)]["rps"], p) for p in node if (p, hi) in S), default=None)
        ng = max(((S[(p, hi)]["rps"], p) for p in nginx if (p, hi) in S), default=None)
        if best:
            w(f"* Switchboard req/s at {hi} connections ÷ fastest Node peer ({best[1]}): "
              f"**{sbh['rps'] / best[0]:.2f}×** ({fint(sbh['rps'])} / {fint(best[0])})")
        if ng:
            w(f"* Switchboard req/s at {hi} connections ÷ nginx `return 200` ({ng[1]}): "
              f"**{sbh['rps'] / ng[0]:.2f}×** ({fint(sbh['rps'])} / {fint(ng[0])})")
        sbl = S[("switchboard", lo)]
        refs = ", ".join(f"{p} {ms(S[(p, lo)]['p99'])}" for p in node + nginx if (p, lo) in S)
        w(f"* Switchboard p99 at {lo} connections: **{ms(sbl['p99'])} ms** "
          f"(rounds: {ms(sbl['p99_min'])}–{ms(sbl['p99_max'])} ms)" + (f"; peers: {refs} ms" if refs else ""))

    # ---- generator check
    w("")
    w("### Generator check (is wrk with the unique-id script the bottleneck?)")
    w("")
    static_peer = gen_peer + STATIC if gen_peer else None
    if static_peer and any(k[0] == static_peer for k in keys):
        w(f"Same nginx `return 200` server, wrk with the peers' static `meta-webhook.lua` (one "
          f"pre-built request) vs `webhook-unique.lua` (id + HMAC per request):")
        w("")
        w(row(["conns", "static req/s", "unique req/s", "unique ÷ static", "Switchboard req/s",
               "Switchboard ÷ unique-nginx", "wrk CPU µs/req (Switchboard runs)"]))
        w("|--:|--:|--:|--:|--:|--:|--:|")
        for c in sorted({k[1] for k in keys if k[0] == static_peer}, reverse=True):
            st = S[(static_peer, c)]["rps"]
            un = S.get((gen_peer, c), {}).get("rps")
            sb = S.get(("switchboard", c), {}).get("rps")
            wc = med([cpu_us(r, "wrk_cpu_s") for r in groups.get(("switchboard", c), []) if r.get("wrk_cpu_s") is not None])
            w(row([c, fint(st), fint(un) if un else "-", f"{un / st:.2f}" if un else "-",
                   fint(sb) if sb else "-", f"{sb / un:.2f}" if (sb and un) else "-", f1(wc)]))
        w("")
        w("At nginx's rate wrk uses about one core, so a dearer generator lowers that ceiling; "
          "the generator limits a server only when the server approaches the unique-script nginx rate.")
    else:
        w("(not run: GEN_CHECK empty)")

    # ---- every run
    w("")
    w("### Every run")
    w("")
    w(row(["server", "conns", "round", "req/s", "p50", "p90", "p99", "p99.9", "max ms", "sock err",
           "non-2xx", "2xx (wrk)", "stored / XLEN", "CPU µs/req", "until loaded", "load lag s",
           "stop s", "events parsed", "wrk CPU µs/req", "foreign CPU %", "RSS MB", "check"]))
    w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    for k in keys:
        for r in sorted(groups[k], key=lambda r: r["round"]):
            wr = r["wrk"]
            s = stored(r)
            fr = foreign_pct(r, ncpu)
            w(row([r["peer"], r["conns"], r["round"], fint(wr["rps"]), ms(wr["lat_p50_us"]),
                   ms(wr["lat_p90_us"]), ms(wr["lat_p99_us"]), ms(wr["lat_p999_us"]), ms(wr["lat_max_us"]),
                   sock_errs(r), wr["non2xx3xx"], fint(ok2xx(r)), "-" if s is None else fint(s),
                   f1(cpu_us(r)) if r.get("server_measured", True) else "-",
                   f1(cpu_us(r, "server_cpu_loaded_s")),
                   f"{r['load_lag_ms'] / 1000:.1f}" if "load_lag_ms" in r else "-",
                   f"{r['stop_ms'] / 1000:.1f}" if "stop_ms" in r else "-",
                   fint(r["events_after"] - r.get("events_before", 0)) if "events_after" in r else "-",
                   f1(cpu_us(r, "wrk_cpu_s")), "-" if fr is None else f1(fr[0]) + ("" if fr[1] else "*"),
                   f"{r['server_hwm_kb'] / 1024:.0f}" if r.get("server_measured", True) else "-",
                   r["_text"]]))
    w("")
    w("load lag: from wrk's end until the jobs table held every accepted delivery. stop: SIGTERM "
      "to exit. events parsed: rows in events at exit, over the server's whole life (smoke + "
      "warm-up + run; parsing is asynchronous, by worker threads).")
    w("")
    w("foreign CPU %: CPU time of processes this benchmark did not start, in % of the "
      f"{ncpu} cores: for Switchboard over each measured window; * = for the peers, the "
      "average over the whole invocation of their script (one value per peers phase). A lower "
      "bound: a process that starts and ends inside the window (a compiler, a test run) is not seen.")
    w("")
    w(f"**Checks: {'all passed' if all_ok else 'FAILED'}** "
      f"({sum(r['_ok'] for r in rows)}/{len(rows)} runs OK)")
    print("\n".join(o))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
