#!/usr/bin/env bash
# Webhook ingestion benchmark: Switchboard side by side with the Node.js peers.
#
#   bash bench/webhook.sh                         # or: make bench
#   DURATION=3s REPEAT=1 SB_BIN=build-d/switchboard bash bench/webhook.sh   # smoke
#
# wrk (2 threads, keep-alive, 127.0.0.1 only) POSTs realistic signed Instagram DM
# webhooks, each with a unique message id (bench/wrk/webhook-unique.lua: HMAC-SHA256
# from libcrypto through the LuaJIT FFI, per request), at each of CONNS_LIST.
#
# Per round (REPEAT rounds, round-robin):
#   1. Switchboard, for each connection count: fresh data dir, fresh process, contract
#      smoke test, WARMUP of load, then DURATION measured. Stored deliveries (webhook
#      jobs still queued plus deliveries already parsed into events) are counted after the warm-up (once the table has caught up with the accepted
#      deliveries: the loader behind the intake journal is asynchronous) and again
#      after a graceful SIGTERM stop (which loads everything acknowledged); the
#      difference must be >= the 2xx wrk saw and exceed it by at most the connection
#      count (requests in flight when wrk's clock ran out). Server CPU (utime+stime
#      from /proc/PID/stat) per request and peak RSS (VmHWM) are recorded, and so is
#      the CPU that wrk and any foreign process used in the same window. As Switchboard
#      loads acknowledged deliveries into SQLite asynchronously, its CPU is also read
#      once the jobs table has caught up with the window ("until loaded").
#   2. The peers, through ../shared/peers/run-webhook-bench.sh with PEERS, the same
#      DURATION/WARMUP/CONNS_LIST/THREADS and the same wrk script (same load; its loss
#      check is XLEN of the Redis stream). Bad-signature runs are skipped.
#   3. Generator check: GEN_CHECK (nginx-2) again with the peers' static
#      meta-webhook.lua (one pre-built request), to compare with the unique-id script.
# Then one table of medians (min-max), the ratios the issue's targets need, and the
# generator check. Raw results: $OUT_DIR (under bench/out/, git-ignored).
# Exit status: 0 if every check passed, 1 if one failed (loss, non-2xx, ...), 2 on error.
#
# Env knobs (defaults):
#   DURATION=15s WARMUP=5s CONNS_LIST="64 16 4" REPEAT=3 THREADS=2
#   PEERS="fastify-2 express-2 nginx-2"   ("" = Switchboard only)
#   GEN_CHECK=nginx-2                     (peer re-run with the static script; "" = skip)
#   SB_BIN=${BUILD:-build}/switchboard    SB_PORT=18480   SB_LOG_LEVEL=warn
#   SB_DB_SYNC, SB_HTTP_THREADS, SB_WORKERS: passed to Switchboard when set
#   OUT_DIR=bench/out/webhook-<timestamp> DATA_PARENT=${TMPDIR:-/tmp} KEEP_DATA=0
#   WAIT_LOADED=0 (1: before and after each run, wait until the jobs table holds every
#     accepted delivery, for the "until loaded" CPU; slow: the loader shares the write lock
#     with the parsing workers)  SETTLE_S=1 STOP_TIMEOUT_S=300 WAIT_LOADED_S=300 PEERS_DIR=../shared/peers (from the repo root)
#   META_APP_SECRET=bench-app-secret META_VERIFY_TOKEN=bench-verify-token
#   WRK_HMAC=ctx|oneshot (see the Lua script)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
cd "$ROOT"

# ---------------------------------------------------------------- parameters
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-5s}
CONNS_LIST=${CONNS_LIST:-"64 16 4"}
REPEAT=${REPEAT:-3}
THREADS=${THREADS:-2}
PEERS=${PEERS-"fastify-2 express-2 nginx-2"}
GEN_CHECK=${GEN_CHECK-nginx-2}
SB_BIN=${SB_BIN:-${BUILD:-build}/switchboard}
SB_PORT=${SB_PORT:-18480}
SB_LOG_LEVEL=${SB_LOG_LEVEL:-warn}
OUT_DIR=${OUT_DIR:-$HERE/out/webhook-$(date +%Y%m%d-%H%M%S)}
DATA_PARENT=${DATA_PARENT:-${TMPDIR:-/tmp}}
KEEP_DATA=${KEEP_DATA:-0}
SETTLE_S=${SETTLE_S:-1}
STOP_TIMEOUT_S=${STOP_TIMEOUT_S:-300}  # SIGTERM -> exit; a graceful stop loads the journal
WAIT_LOADED=${WAIT_LOADED:-0}        # 1: wait for the jobs table to catch up around each run
WAIT_LOADED_S=${WAIT_LOADED_S:-300}    # max wait for the jobs table to catch up
PEERS_DIR=${PEERS_DIR:-$ROOT/../shared/peers}
export META_APP_SECRET=${META_APP_SECRET:-bench-app-secret}
export META_VERIFY_TOKEN=${META_VERIFY_TOKEN:-bench-verify-token}
PYTHON=${PYTHON:-$(test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)}

exec {LOG_FD}>&2   # log() goes to the original stderr, even inside redirected functions
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&"$LOG_FD"; }
die() { log "ERROR: $*"; exit 2; }

secs() { # "15s" | "2m" | "1h" | "15" -> whole seconds
  local v=$1
  case "$v" in
    *s) v=${v%s} ;; *m) v=$((${v%m} * 60)) ;; *h) v=$((${v%h} * 3600)) ;;
  esac
  [[ "$v" =~ ^[0-9]+$ ]] || die "bad duration '$1' (use N, Ns, Nm or Nh)"
  echo "$v"
}
DUR_S=$(secs "$DURATION"); WARM_S=$(secs "$WARMUP")
((DUR_S > 0)) || die "DURATION must be > 0"
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "REPEAT must be a positive integer"
for c in $CONNS_LIST; do
  [[ "$c" =~ ^[1-9][0-9]*$ ]] && ((c >= THREADS)) || die "bad connection count '$c' (>= THREADS=$THREADS)"
done

PEERS_DIR=$(cd "$PEERS_DIR" 2>/dev/null && pwd) || die "peers not found (PEERS_DIR=$PEERS_DIR)"
PEERS_SCRIPT=$PEERS_DIR/run-webhook-bench.sh
BODY_FILE=${BODY_FILE:-$PEERS_DIR/bench/payloads/instagram-dm.json}
STATIC_LUA=$PEERS_DIR/bench/wrk/meta-webhook.lua
UNIQUE_LUA=$HERE/wrk/webhook-unique.lua
[[ -f "$BODY_FILE" ]] || die "no body template at $BODY_FILE"
[[ -f "$UNIQUE_LUA" ]] || die "missing $UNIQUE_LUA"
[[ -z "$PEERS$GEN_CHECK" || -f "$PEERS_SCRIPT" ]] || die "missing $PEERS_SCRIPT"
[[ -x "$SB_BIN" ]] || die "no Switchboard binary at $SB_BIN (make, or set SB_BIN)"
SB_BIN=$(cd "$(dirname "$SB_BIN")" && pwd)/$(basename "$SB_BIN")

# ------------------------------------------------------------- dependencies
# Debian packages only, and only what is missing (the peers' script installs its own).
missing=()
for pair in wrk:wrk curl:curl sqlite3:sqlite3; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v "$PYTHON" >/dev/null || die "python3 not found"

mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
RESULTS=$OUT_DIR/results.jsonl   # Switchboard rows; peers-rN/ and genchk-rN/ hold the peers'
: >"$RESULTS"
URL="http://127.0.0.1:$SB_PORT/webhooks/meta"
CLK_TCK=$(getconf CLK_TCK)
SIG_GOOD="sha256=$(openssl dgst -sha256 -hmac "$META_APP_SECRET" -r "$BODY_FILE" | awk '{print $1}')"
SIG_BAD="sha256=$(openssl dgst -sha256 -hmac "not-the-app-secret" -r "$BODY_FILE" | awk '{print $1}')"

# --------------------------------------------------------- process control
# Everything this script starts is tracked by PID and stopped by PID.
SERVER_PID=""; CHILD_PID=""; DATA_DIR=""

stop_server() { # SIGTERM, wait (bounded), SIGKILL as a last resort. Sets STOP_RC, STOP_MS.
  STOP_RC=""; STOP_MS=0
  [[ -n "$SERVER_PID" ]] || return 0
  local t0 i rc=0
  t0=$(date +%s%N)
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT_S * 20; i++)); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      log "WARN: switchboard ($SERVER_PID) still up ${STOP_TIMEOUT_S}s after SIGTERM: SIGKILL"
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
  fi
  wait "$SERVER_PID" 2>/dev/null || rc=$?
  STOP_RC=$rc; STOP_MS=$((($(date +%s%N) - t0) / 1000000))
  SERVER_PID=""
}

stop_child() { # a wrk or peers-script child: TERM (its own trap cleans up), then KILL
  [[ -n "$CHILD_PID" ]] || return 0
  local i
  if kill -0 "$CHILD_PID" 2>/dev/null; then
    kill -TERM "$CHILD_PID" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do kill -0 "$CHILD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$CHILD_PID" 2>/dev/null && kill -KILL "$CHILD_PID" 2>/dev/null || true
  fi
  wait "$CHILD_PID" 2>/dev/null || true
  CHILD_PID=""
}

cleanup() {
  stop_child
  stop_server
  if [[ -n "$DATA_DIR" && -d "$DATA_DIR" && "$KEEP_DATA" != 1 ]]; then rm -rf "$DATA_DIR"; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM HUP

run_child() { # cmd...: run in the background and wait, so traps fire meanwhile. Sets CHILD_RC.
  CHILD_RC=0
  "$@" &
  CHILD_PID=$!
  wait "$CHILD_PID" || CHILD_RC=$?
  CHILD_PID=""
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --------------------------------------------------------------- measuring
proc_ticks() { # utime+stime of one process (all its threads), in clock ticks
  local line rest f
  line=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  rest=${line##*) }
  read -r -a f <<<"$rest"
  echo $((f[11] + f[12]))
}

all_ticks() { # "pid ticks" for every user-space process (kernel threads, children of
  # kthreadd, are left out: ksoftirqd etc. do work for our own loopback traffic)
  awk '{ line = $0; pid = $1; sub(/^.*\) /, "", line); split(line, f, " ");
         if (pid != 2 && f[2] != 2) print pid, f[12] + f[13] }' /proc/[0-9]*/stat 2>/dev/null || true
}

foreign_ticks() { # before-file after-file exclude-pid...: CPU ticks of other processes
  local before=$1 after=$2; shift 2
  awk -v ex=" $* " 'NR == FNR { b[$1] = $2; next }
    index(ex, " " $1 " ") == 0 { d = $2 - (($1 in b) ? b[$1] : 0); if (d > 0) t += d }
    END { print t + 0 }' "$before" "$after"
}

mem_kb() { awk '/^VmRSS:/{r=$2} /^VmHWM:/{h=$2} END{print r+0, h+0}' "/proc/$1/status" 2>/dev/null || echo "0 0"; }

children_cpu_ms() { # file written by `times` -> this shell's reaped children, user+sys ms
  # (`times` itself must run in this shell, not in a $(...) subshell)
  awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); sub(/s$/, "", p[2]); t += p[1] * 60 + p[2] }
                 printf "%d\n", t * 1000 }' "$1"
}

db_count() { # db sql -> single number
  sqlite3 -cmd ".timeout 10000" "$1" "$2" 2>/dev/null ||
    "$PYTHON" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1], timeout=10).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"
}

metrics_json() { # scrape /metrics -> {"accepted":N,...} for switchboard_webhooks_received_total
  curl -s --max-time 5 "http://127.0.0.1:$SB_PORT/metrics" 2>/dev/null |
    awk 'BEGIN { printf "{"; n = 0 }
      /^switchboard_webhooks_received_total\{/ {
        r = $1; sub(/.*result="/, "", r); sub(/".*/, "", r)
        printf "%s\"%s\":%d", (n++ ? "," : ""), r, $2 }
      END { printf "}" }'
}

metric_accepted() { # switchboard_webhooks_received_total{result="accepted"}, or -1
  local v
  v=$(curl -s --max-time 5 "http://127.0.0.1:$SB_PORT/metrics" 2>/dev/null |
    awk '/^switchboard_webhooks_received_total\{result="accepted"\}/ { print $2; exit }')
  echo "${v:--1}"
}

# Deliveries in the database: still queued (a webhook job), or already parsed (the worker
# deletes the job once its events are stored). Every bench delivery carries one unique
# message, so a parsed delivery is exactly one event.
STORED_SQL="SELECT (SELECT count(*) FROM jobs WHERE kind='webhook') +
  (SELECT count(*) FROM events WHERE kind = 'message')"

wait_loaded() { # db: count of webhook jobs once it has caught up with the accepted deliveries.
  # Switchboard acknowledges after a journal append; a loader moves deliveries into the
  # jobs table later. Waits (at most WAIT_LOADED_S) until rows >= accepted; returns 1 if not.
  local want got=0 i
  for ((i = 0; i < WAIT_LOADED_S * 4; i++)); do
    want=$(metric_accepted)
    got=$(db_count "$1" "$STORED_SQL")
    if ((want >= 0 && got >= want)); then echo "$got"; return 0; fi
    if ((i < 10)); then sleep 0.05; else sleep 0.25; fi  # a count(*) is not free
  done
  log "WARN: jobs table still behind after ${WAIT_LOADED_S}s ($got rows, $want accepted)"
  echo "$got"; return 1
}

rows_promised() { # accepted deliveries minus those dropped as duplicates at load, from /metrics.
  # Every bench delivery is unique except the smoke test's redelivery (loaded before the
  # warm-up), so this is the row count the jobs table reaches once the loader catches up.
  curl -s --max-time 5 "http://127.0.0.1:$SB_PORT/metrics" 2>/dev/null |
    awk '/^switchboard_webhooks_received_total\{result="accepted"\}/ { a = $2 }
         /^switchboard_queue_duplicates_total / { d = $2 }
         END { printf "%d\n", a - d }'
}

run_id() { od -An -N4 -tx1 /dev/urandom | tr -d ' \n'; }

wrk_unique() { # conns duration json-out wrk-txt: the unique-id load against Switchboard
  WEBHOOK_BODY_FILE=$BODY_FILE WRK_RUN_ID=$(run_id) WRK_JSON_OUT=$3 \
    run_child timeout -k 5 $(($(secs "$2") + 60)) \
    wrk -t"$THREADS" -c"$1" -d"$2" --latency -s "$UNIQUE_LUA" "$URL" >"$4" 2>&1
}

# ------------------------------------------------------------ Switchboard
smoke() { # the webhook contract, before any load (prints failures, returns 1 on any)
  local fail=0 got db=$1
  chk() { if [[ "$2" != "$3" ]]; then log "SMOKE FAIL [switchboard] $1: got '$2' want '$3'"; fail=1; fi; }
  got=$(curl -s --max-time 5 "$URL?hub.mode=subscribe&hub.verify_token=$META_VERIFY_TOKEN&hub.challenge=1158201444")
  chk "GET verify" "$got" 1158201444
  got=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$URL?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")
  chk "GET wrong token" "$got" 403
  got=$(curl -s --max-time 5 -w ' %{http_code}' -H 'Content-Type: application/json' -H "X-Hub-Signature-256: $SIG_GOOD" --data-binary "@$BODY_FILE" "$URL")
  chk "POST good signature" "$got" "EVENT_RECEIVED 200"
  got=$(curl -s --max-time 5 -w ' %{http_code}' -H 'Content-Type: application/json' -H "X-Hub-Signature-256: $SIG_GOOD" --data-binary "@$BODY_FILE" "$URL")
  chk "POST redelivery" "$got" "EVENT_RECEIVED 200"
  got=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H "X-Hub-Signature-256: $SIG_BAD" --data-binary "@$BODY_FILE" "$URL")
  chk "POST bad signature" "$got" 403
  got=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "@$BODY_FILE" "$URL")
  chk "POST missing signature" "$got" 403
  chk "jobs after 1 good POST + 1 redelivery" "$(wait_loaded "$db" || true)" 1
  return $fail
}

sb_run() { # conns
  local c=$1 tag="switchboard.valid.c$1.r$ROUND" db i smoke_ok=true
  local n0 n1 n_live events m0 m1 cpu0 cpu1 mem w0 w1 snap0 snap1 foreign t0 t1 wall_ms json
  port_free "$SB_PORT" || die "port $SB_PORT is busy (set SB_PORT)"
  DATA_DIR=$(mktemp -d "$DATA_PARENT/sb-bench.XXXXXX")
  db=$DATA_DIR/switchboard.db
  local extra=()
  for v in SB_DB_SYNC SB_HTTP_THREADS SB_WORKERS; do [[ -n "${!v:-}" ]] && extra+=("$v=${!v}"); done
  env SB_LISTEN="127.0.0.1:$SB_PORT" SB_DATA_DIR="$DATA_DIR" SB_META_APP_SECRET="$META_APP_SECRET" \
    SB_META_VERIFY_TOKEN="$META_VERIFY_TOKEN" SB_LOG_LEVEL="$SB_LOG_LEVEL" "${extra[@]}" \
    "$SB_BIN" serve >"$OUT_DIR/$tag.server.log" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 150; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || die "switchboard exited at start (see $OUT_DIR/$tag.server.log)"
    [[ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SB_PORT/healthz" || true)" == 200 ]] && break
    sleep 0.1
  done
  ((i < 150)) || die "switchboard not ready after 15s (see $OUT_DIR/$tag.server.log)"
  smoke "$db" || smoke_ok=false

  log "  switchboard c=$c: warmup $WARMUP"
  wrk_unique "$c" "$WARMUP" "" "$OUT_DIR/$tag.warmup.wrk.txt"
  sleep "$SETTLE_S"
  local loaded=true
  if [[ "$WAIT_LOADED" == 1 ]]; then
    n0=$(wait_loaded "$db") || loaded=false   # rows before the measured run
  else
    n0=$(rows_promised)   # rows the deliveries accepted so far will make, loaded or not
  fi
  m0=$(metrics_json)

  local jtmp=$OUT_DIR/.$tag.json; rm -f "$jtmp"
  snap0=$OUT_DIR/.procs0; snap1=$OUT_DIR/.procs1
  all_ticks >"$snap0"
  cpu0=$(proc_ticks "$SERVER_PID"); t0=$(date +%s%N)
  times >"$OUT_DIR/.times0"
  wrk_unique "$c" "$DURATION" "$jtmp" "$OUT_DIR/$tag.wrk.txt"
  times >"$OUT_DIR/.times1"
  local tw; tw=$(date +%s%N)   # wrk's end
  w0=$(children_cpu_ms "$OUT_DIR/.times0"); w1=$(children_cpu_ms "$OUT_DIR/.times1")
  rm -f "$OUT_DIR/.times0" "$OUT_DIR/.times1"
  sleep "$SETTLE_S"
  cpu1=$(proc_ticks "$SERVER_PID"); t1=$(date +%s%N)
  all_ticks >"$snap1"
  # exclude the server and this shell's own helpers (wrk has exited and is in $w1 - $w0)
  foreign=$(foreign_ticks "$snap0" "$snap1" "$SERVER_PID" $$ $BASHPID)
  rm -f "$snap0" "$snap1"
  wall_ms=$(((t1 - t0) / 1000000))
  # The same window's deliveries may still be on their way into the jobs table: wait for
  # that too, so the CPU it costs is known ("until loaded"), then stop.
  local loaded_after=true cpu2 t2
  if [[ "$WAIT_LOADED" == 1 ]]; then
    n_live=$(wait_loaded "$db") || loaded_after=false
  else
    n_live=$(rows_promised); loaded_after=false
  fi
  cpu2=$(proc_ticks "$SERVER_PID"); t2=$(date +%s%N)
  mem=$(mem_kb "$SERVER_PID")
  m1=$(metrics_json)
  stop_server
  n1=$(db_count "$db" "$STORED_SQL")
  events=$(db_count "$db" "SELECT count(*) FROM events")
  local db_mb; db_mb=$(du -sm "$DATA_DIR" | awk '{print $1}')
  [[ "$KEEP_DATA" == 1 ]] && log "  data kept: $DATA_DIR" || rm -rf "$DATA_DIR"
  DATA_DIR=""
  [[ -s "$jtmp" ]] || die "wrk produced no summary for $tag (see $OUT_DIR/$tag.wrk.txt)"
  json=$(cat "$jtmp"); rm -f "$jtmp"
  printf '{"peer":"switchboard","label":"valid","conns":%d,"round":%d,"threads":%d,"duration":"%s","warmup":"%s","jobs_before":%d,"jobs_live":%d,"jobs_after":%d,"stored":%d,"events_after":%d,"xlen":null,"server_cpu_s":%s,"server_cpu_loaded_s":%s,"load_lag_ms":%d,"loaded_after":%s,"server_rss_kb":%d,"server_hwm_kb":%d,"server_measured":true,"window_ms":%d,"wrk_cpu_s":%s,"foreign_cpu_s":%s,"stop_rc":%s,"stop_ms":%d,"smoke_ok":%s,"baseline_loaded":%s,"db_mb":%d,"metrics_before":%s,"metrics_after":%s,"loadavg":"%s","wrk":%s}\n' \
    "$c" "$ROUND" "$THREADS" "$DURATION" "$WARMUP" "$n0" "$n_live" "$n1" $((n1 - n0)) "$events" \
    "$(awk -v t=$((cpu1 - cpu0)) -v h="$CLK_TCK" 'BEGIN{printf "%.2f", t/h}')" \
    "$(awk -v t=$((cpu2 - cpu0)) -v h="$CLK_TCK" 'BEGIN{printf "%.2f", t/h}')" \
    $(((t2 - tw) / 1000000)) "$loaded_after" \
    "${mem% *}" "${mem#* }" "$wall_ms" \
    "$(awk -v t=$((w1 - w0)) 'BEGIN{printf "%.3f", t/1000}')" \
    "$(awk -v t="$foreign" -v h="$CLK_TCK" 'BEGIN{printf "%.2f", t/h}')" \
    "${STOP_RC:-null}" "$STOP_MS" "$smoke_ok" "$loaded" "$db_mb" "$m0" "$m1" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$json" >>"$RESULTS"
  log "  $tag: $(grep -E 'Requests/sec' "$OUT_DIR/$tag.wrk.txt" | tr -s ' ') stored=$((n1 - n0)) 2xx=$("$PYTHON" -c 'import json,sys; w=json.loads(sys.argv[1]); print(w["requests"]-w["non2xx3xx"])' "$json") stop=${STOP_MS}ms rc=$STOP_RC"
}

# ------------------------------------------------------------------ peers
PEERS_RC=0
peers_run() { # name peers wrk-script out-dir
  local name=$1 peers=$2 script=$3 out=$4 n c bound
  n=$(wc -w <<<"$peers"); c=$(wc -w <<<"$CONNS_LIST")
  # generous bound: start-up + smoke + warm-up + runs + stop per server, plus npm ci once
  bound=$((600 + n * (60 + WARM_S + c * (DUR_S + 15))))
  log "== round $ROUND/$REPEAT: $name: PEERS=\"$peers\" ($(basename "$script"))"
  local snap0=$OUT_DIR/.procs0 snap1=$OUT_DIR/.procs1 t0 t1 foreign
  all_ticks >"$snap0"; t0=$(date +%s%N)
  PEERS="$peers" DURATION="$DURATION" WARMUP="$WARMUP" CONNS_LIST="$CONNS_LIST" THREADS="$THREADS" \
    REPEAT=1 BAD_SIG_CONNS="" WRK_SCRIPT="$script" BODY_FILE="$BODY_FILE" OUT_DIR="$out" \
    run_child timeout -k 20 "$bound" bash "$PEERS_SCRIPT" >"$out.log" 2>&1
  # Other processes' CPU over the whole invocation (the peers' own processes have
  # exited by now, so only what lived on outside it remains in both snapshots).
  all_ticks >"$snap1"; t1=$(date +%s%N)
  foreign=$(foreign_ticks "$snap0" "$snap1" $$ $BASHPID)
  rm -f "$snap0" "$snap1"
  printf '{"foreign_cpu_s":%s,"wall_s":%s}\n' \
    "$(awk -v t="$foreign" -v h="$CLK_TCK" 'BEGIN{printf "%.2f", t/h}')" \
    "$(awk -v t=$((t1 - t0)) 'BEGIN{printf "%.1f", t/1e9}')" >"$out.foreign.json"
  if ((CHILD_RC != 0)); then
    PEERS_RC=1
    log "WARN: $name exited $CHILD_RC (see $out.log)"
    tail -n 5 "$out.log" >&2 || true
  fi
}

# ------------------------------------------------------------- machine facts
{
  echo "date: $(date -Is)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "kernel: $(uname -r)"
  echo "wrk: $(wrk -v 2>&1 | head -1)"
  echo "libcrypto: $(openssl version)"
  echo "switchboard: $SB_BIN ($(stat -c '%y' "$SB_BIN"), git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo '+dirty src'))"
  echo "data dir fs: $(df -T "$DATA_PARENT" | awk 'NR==2{print $2}')"
  echo "body: $BODY_FILE ($(wc -c <"$BODY_FILE") bytes), message id made unique per request"
  echo "params: DURATION=$DURATION WARMUP=$WARMUP THREADS=$THREADS CONNS_LIST='$CONNS_LIST' REPEAT=$REPEAT PEERS='$PEERS' GEN_CHECK='$GEN_CHECK' SB_LOG_LEVEL=$SB_LOG_LEVEL SB_DB_SYNC=${SB_DB_SYNC:-default} WRK_HMAC=${WRK_HMAC:-ctx}"
  echo "loadavg at start: $(cat /proc/loadavg)"
} >"$OUT_DIR/machine.txt"
log "output: $OUT_DIR"
log "switchboard: $SB_BIN"

# ---------------------------------------------------------------------- main
for ((ROUND = 1; ROUND <= REPEAT; ROUND++)); do
  log "== round $ROUND/$REPEAT: switchboard"
  for c in $CONNS_LIST; do sb_run "$c"; done
  if [[ -n "$PEERS" ]]; then peers_run peers "$PEERS" "$UNIQUE_LUA" "$OUT_DIR/peers-r$ROUND"; fi
  if [[ -n "$GEN_CHECK" ]]; then
    peers_run "generator check" "$GEN_CHECK" "$STATIC_LUA" "$OUT_DIR/genchk-r$ROUND"
    if [[ " $PEERS " != *" $GEN_CHECK "* ]]; then # its unique-script twin, if PEERS lacks it
      peers_run "generator check" "$GEN_CHECK" "$UNIQUE_LUA" "$OUT_DIR/genchk-unique-r$ROUND"
    fi
  fi
done

status=0
"$PYTHON" "$HERE/webhook_summary.py" "$OUT_DIR" --gen-check-peer "${GEN_CHECK:-}" | tee "$OUT_DIR/summary.md" || status=$?
((PEERS_RC == 0)) || { log "a peers run reported a failure (see peers-r*.log)"; status=1; }
log "done: $OUT_DIR"
exit $status
