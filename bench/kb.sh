#!/usr/bin/env bash
# Knowledge-base retrieval benchmark (issue 6): a generated 10,000-chunk knowledge base,
# kb_search() p50/p99 per query (target: p50 under 1 ms), the retrieval-only answer, and the
# time to assemble a full LLM prompt (search, persona, rules, passages, 12 turns, tools, JSON).
#
#   bash bench/kb.sh                 # RUNS=5 QUERIES=1000 (medians of the runs are printed)
#   RUNS=1 QUERIES=200 bash bench/kb.sh
#
# Builds bench/kb_bench.c against the release objects (make build/switchboard first), writes
# the knowledge base and its store in a temporary folder, removed afterwards. Prints figures;
# asserts nothing. On a shared machine read the medians, and run it twice.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
QUERIES=${QUERIES:-1000}
PKGS="libmicrohttpd jansson openssl sqlite3 libcurl libsodium vips libdeflate"
make -s "$BUILD/switchboard"
mkdir -p "$BUILD/bench"
objs=$(find "$BUILD/rel/src" -name '*.o' ! -path "$BUILD/rel/src/main.o" | sort)
# shellcheck disable=SC2046,SC2086
cc -std=c17 -D_GNU_SOURCE -O2 -g -Isrc $(pkg-config --cflags $PKGS) -o "$BUILD/bench/kb_bench" \
    bench/kb_bench.c $objs $(pkg-config --libs $PKGS) -lpthread -lm
work=$(mktemp -d "${TMPDIR:-/tmp}/sb-kb-bench.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
echo "work: $work"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
SB_LOG_LEVEL=warn "$BUILD/bench/kb_bench" "$work" "$RUNS" "$QUERIES" 2>/dev/null
