#!/usr/bin/env bash
# Runs the test suites and ends with one line: "N passed, N failed".
#   SUITES="unit fuzz integration browser" (default all), BUILD=build, PYTHON=python3
# Unit tests are cmocka binaries under $BUILD/tests; fuzz replays run every seed and
# regression input of each target's corpus; integration tests drive the real binary.
set -uo pipefail
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-python3}
SUITES=${SUITES:-"unit fuzz integration browser"}
passed=0 failed=0
failures=()

run_unit() {
  local bin out p f
  while IFS= read -r bin; do
    out=$("$bin" 2>&1); local rc=$?
    p=$(grep -oE '\[  PASSED  \] [0-9]+' <<<"$out" | awk '{s+=$4} END{print s+0}')
    f=$(grep -oE '\[  FAILED  \] [0-9]+' <<<"$out" | awk '{s+=$4} END{print s+0}')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed before its summary
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -ne 0 ]; then failures+=("unit: ${bin#$BUILD/tests/}"); printf '%s\n' "$out" | tail -n 40; fi
    printf 'unit  %-40s %3d passed %3d failed\n' "${bin#$BUILD/tests/}" "$p" "$f"
  done < <(find "$BUILD/tests" -type f -name 'test_*' -perm -u+x | sort)
}

run_fuzz() {
  local bin name corpus out
  for bin in "$BUILD"/replay/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin"); corpus="tests/fuzz/corpus/${name#fuzz_}"
    if out=$("$bin" "$corpus" 2>&1); then
      passed=$((passed + 1)); printf 'fuzz  %-40s replayed %s\n' "$name" "$(tail -n1 <<<"$out")"
    else
      failed=$((failed + 1)); failures+=("fuzz: $name"); printf '%s\n' "$out" | tail -n 40
    fi
  done
}

run_integration() {
  local out
  out=$(SB_BIN=${SB_BIN:-$BUILD/asan/switchboard} "$PYTHON" tests/integration/run.py 2>&1)
  local rc=$?
  printf '%s\n' "$out"
  local line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -n1)
  p=$(awk '{print $1}' <<<"${line:-0 passed, 1 failed}"); f=$(awk '{print $3}' <<<"${line:-0 passed, 1 failed}")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" -eq 0 ] || failures+=("integration")
}

# The dashboard in Debian's chromium, driven by playwright-core (tests/browser, installed from
# its package-lock.json into tests/browser/node_modules, which git ignores). Screenshots go
# to $BUILD/browser-screenshots.
run_browser() {
  local out rc p f
  if [ ! -d tests/browser/node_modules/playwright-core ]; then
    npm ci --prefix tests/browser --no-audit --no-fund >/dev/null 2>&1 \
      || { failed=$((failed + 1)); failures+=("browser: npm ci"); echo "browser: npm ci failed"; return; }
  fi
  out=$(cd tests/browser && SB_BIN=$(realpath "../../${SB_BIN:-$BUILD/asan/switchboard}") \
        node --test --test-reporter=spec dashboard.test.mjs 2>&1)
  rc=$?
  printf '%s\n' "$out" | grep -E '^(✔|✖)|^ℹ (pass|fail)' || printf '%s\n' "$out" | tail -n 40
  p=$(grep -oE '^ℹ pass [0-9]+' <<<"$out" | awk '{print $3}'); f=$(grep -oE '^ℹ fail [0-9]+' <<<"$out" | awk '{print $3}')
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  [ "$f" -eq 0 ] || { failures+=("browser"); printf '%s\n' "$out" | grep -vE '^ +at ' | tail -n 60; }
  passed=$((passed + p)); failed=$((failed + f))
}

for s in $SUITES; do "run_$s"; done
for x in "${failures[@]+"${failures[@]}"}"; do echo "FAILED: $x"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
