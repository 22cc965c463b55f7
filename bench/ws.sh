#!/usr/bin/env bash
# WebSocket fan-out benchmark: one event to CLIENTS connected dashboard clients.
#
#   bash bench/ws.sh                 # CLIENTS=1000 EVENTS=200 RUNS=3
#
# Each run: a fresh release server (build/switchboard) on a fresh data dir with one
# conversation, an operator signed in, CLIENTS WebSocket connections on /ws (bench/ws_fanout.c,
# one epoll loop), then EVENTS times an operator action (take over / hand back, alternately:
# one conversation.updated event each) and the time from sending that request until the last
# client has the event. Memory per connection: the server's RSS after the clients connected
# minus before, over CLIENTS. Prints each run and the medians; asserts nothing about time.
# The machine is shared: figures taken while others load it are noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-1000} EVENTS=${EVENTS:-200} RUNS=${RUNS:-3} PORT=${PORT:-18490}
BIN=${SB_BIN:-build/switchboard}
make -s "$BIN" >/dev/null
mkdir -p build/bench
cc -O2 -Wall -o build/bench/ws_fanout bench/ws_fanout.c
ulimit -n 65536 2>/dev/null || ulimit -n 8192
results=()
for run in $(seq 1 "$RUNS"); do
  dir=$(mktemp -d)
  export SB_DATA_DIR=$dir/data SB_LISTEN=127.0.0.1:$PORT SB_LOG_LEVEL=warn SB_META_APP_SECRET=bench
  "$BIN" migrate >/dev/null
  sqlite3 "$dir/data/switchboard.db" "
    INSERT INTO accounts (platform, external_id, name, created_at, updated_at)
      VALUES ('messenger', '104000000000001', 'Bench Page', 0, 0);
    INSERT INTO contacts (account_id, scoped_id, created_at, updated_at) VALUES (1, '9000001', 0, 0);
    INSERT INTO conversations (account_id, contact_id, created_at, updated_at) VALUES (1, 1, 0, 0);"
  printf 'bench password here\n' | "$BIN" user add --email bench@example.org >/dev/null
  "$BIN" serve 2>"$dir/server.log" & pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  login=$(curl -fs -D "$dir/headers" -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.org","password":"bench password here"}' "http://127.0.0.1:$PORT/api/login")
  cookie=$(grep -i '^set-cookie: sb_session=' "$dir/headers" | sed 's/^[^=]*=//; s/;.*//')
  csrf=$(sed 's/.*"csrf":"\([^"]*\)".*/\1/' <<<"$login")
  rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  build/bench/ws_fanout "$PORT" "$cookie" "http://127.0.0.1:$PORT" "$csrf" 1 "$CLIENTS" "$EVENTS" \
    >"$dir/client.out" & cpid=$!
  for _ in $(seq 600); do grep -q connected "$dir/client.out" 2>/dev/null && break; sleep 0.1; done
  rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  wait "$cpid"
  line=$(tail -n1 "$dir/client.out")
  per_conn=$(( (rss_after - rss_before) * 1024 / CLIENTS ))
  echo "run $run: $line; server RSS $((rss_before / 1024)) -> $((rss_after / 1024)) MiB, $per_conn bytes per connection"
  results+=("$(sed 's/.*p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms, max \([0-9.]*\) ms.*/\1 \2 \3/' <<<"$line") $per_conn")
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$dir"
done
printf '%s\n' "${results[@]}" | sort -n -k2 | awk -v n="$RUNS" -v c="$CLIENTS" -v e="$EVENTS" '
  { p50[NR]=$1; p99[NR]=$2; mx[NR]=$3; mem[NR]=$4 }
  END { m=int((n+1)/2); printf "median of %d runs, %d clients, %d events each: p99 %s ms (p50 %s, max %s); %s bytes per connection\n", n, c, e, p99[m], p50[m], mx[m], mem[m] }'
