#!/usr/bin/env bash
# The messaging pipeline, webhook in -> Send API call out, on this machine.
#
#   bash bench/pipeline.sh        # RATES="250 500 750" SECONDS_EACH=20 CUSTOMERS=1000 RUNS=1
#
# A release server (build/switchboard) with the local Meta (`switchboard emulator`, N
# customers) and an instant OpenAI-compatible LLM (bench/llm_stub.c), the Page connected through
# the login flow, SB_TURN_BURST_MS=0 (each message is its own turn: the 2 s burst wait would
# only add 2 s) and SB_SEND_RATE high (one account carries the whole load; Meta's own limit
# is 300 calls a second per Page). bench/pipeline_load.py warms every customer up, posts signed
# webhooks at each rate and prints end to end p50/p99, our own share of it (minus the
# emulator's and the LLM's own time) and the replies a second sustained. Asserts nothing about
# time. The machine is shared: note `uptime` with the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-"250 500 750"} SECONDS_EACH=${SECONDS_EACH:-20} CUSTOMERS=${CUSTOMERS:-1000}
RUNS=${RUNS:-1} PORT=${PORT:-18510} EMU_PORT=${EMU_PORT:-18511} LLM_PORT=${LLM_PORT:-18512}
WORKERS=${WORKERS:-8}
BIN=${SB_BIN:-build/switchboard}
make -s "$BIN" >/dev/null
mkdir -p build/bench
cc -O2 -Wall -Wextra -o build/bench/llm_stub bench/llm_stub.c -lmicrohttpd
APP_ID=1234567890123456 SECRET=emulator-app-secret
echo "machine: $(nproc) CPUs; $(uptime)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_http() { for _ in $(seq 200); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "no answer from $1"; exit 1; }
for run in $(seq 1 "$RUNS"); do
  for rate in $RATES; do
    dir=$(mktemp -d)
    build/bench/llm_stub "$LLM_PORT" 2>/dev/null & pids+=($!)
    "$BIN" emulator --listen "127.0.0.1:$EMU_PORT" --customers "$CUSTOMERS" \
      --rate-limit 100000000 --webhook-retry-ms 100 \
      --webhook "http://127.0.0.1:$PORT/webhooks/meta" 2>"$dir/emulator.log" & pids+=($!)
    wait_http "http://127.0.0.1:$EMU_PORT/_emulator/stats"
    export SB_DATA_DIR=$dir/data SB_LISTEN=127.0.0.1:$PORT SB_LOG_LEVEL=warn \
      SB_META_APP_ID=$APP_ID SB_META_APP_SECRET=$SECRET SB_META_GRAPH_URL=http://127.0.0.1:$EMU_PORT \
      SB_LLM_URL=http://127.0.0.1:$LLM_PORT/v1 SB_LLM_MODEL=bench SB_TURN_BURST_MS=0 \
      SB_SEND_RATE=100000 SB_WORKERS=$WORKERS SB_KB_DIR=examples/kb SB_GAPFILL_INTERVAL_S=0
    "$BIN" serve 2>"$dir/server.log" & spid=$!; pids+=($spid)
    wait_http "http://127.0.0.1:$PORT/healthz"
    token=$(python3 - "$EMU_PORT" <<'PY'
import json, sys, urllib.parse, urllib.request
base = "http://127.0.0.1:%s/v24.0" % sys.argv[1]
q = {"client_id": "1234567890123456", "redirect_uri": "http://127.0.0.1:1/cb", "state": "s",
     "scope": "pages_show_list,pages_messaging,pages_manage_metadata,instagram_basic,"
              "instagram_manage_messages", "response_type": "code", "decision": "allow"}
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a): return None
op = urllib.request.build_opener(NoRedirect)
try:
    op.open(base + "/dialog/oauth/confirm", data=urllib.parse.urlencode(q).encode())
    raise SystemExit("no redirect from the login dialog")
except urllib.error.HTTPError as e:
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(e.headers["Location"]).query))["code"]
r = json.load(urllib.request.urlopen(base + "/oauth/access_token?" + urllib.parse.urlencode(
    {"client_id": q["client_id"], "client_secret": "emulator-app-secret",
     "redirect_uri": q["redirect_uri"], "code": code})))
print(r["access_token"])
PY
)
    echo "$token" | "$BIN" accounts connect --user-token - >/dev/null
    echo -n "run $run, rate $rate: "
    python3 bench/pipeline_load.py --server "$PORT" --emulator "http://127.0.0.1:$EMU_PORT" \
      --llm "http://127.0.0.1:$LLM_PORT" --secret "$SECRET" --customers "$CUSTOMERS" \
      --rate "$rate" --seconds "$SECONDS_EACH" || echo "(load failed; see $dir)"
    cleanup; pids=()
    rm -rf "$dir"
  done
done
echo "after: $(uptime)"
