#!/usr/bin/env bash
# Installs the Debian 12 packages Switchboard builds, tests and benchmarks with.
# Idempotent: does nothing when everything is present. Needs root to install.
set -euo pipefail

PKGS=(
  build-essential pkg-config clang llvm libclang-rt-14-dev clang-format clang-tidy cppcheck
  libmicrohttpd-dev libwslay-dev libcurl4-openssl-dev libjansson-dev libssl-dev
  libsodium-dev libsqlite3-dev sqlite3 libpq-dev libhiredis-dev libvips-dev libdeflate-dev
  libcmocka-dev
  postgresql redis-server wrk nginx-light curl ca-certificates openssl python3 procps
  chromium fonts-dejavu-core
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere (with its own npm); only ask Debian for it when absent.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing Debian packages: ${missing[*]}" >&2
  echo "deps: run 'sudo bash scripts/deps.sh' (or install them) and try again" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages start these services; tests run their own instances in temp dirs.
for svc in postgresql redis-server nginx; do
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
done
