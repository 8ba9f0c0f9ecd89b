#!/usr/bin/env bash
# Upgrades under load: examples/hello built as 1.0.0 and 2.0.0 (two
# separate relkit build -tar runs), 1.0.0 installed from its tarball and
# started in the foreground (bin/hello start, as systemd runs it), then
# internal/testkit/bench/upgradeload sends loopback load (keep-alive POST clients
# and connection-per-request POST clients) for a steady-state period and
# during UPGRADES switches alternating upgrade 2.0.0 / downgrade 1.0.0.
# It prints a Markdown table: requests, failed requests, refused
# connections, p50/p99/p99.9 latency in steady state and during the
# switches, and the time from starting the upgrade to 2.0.0 answering.
# Bounded: about STEADY + UPGRADES x (GAP + the switch) in all, loopback
# only. With PIN=1 (and taskset) the server runs on CPU 0 and the load on
# CPU 1; then the new release boots on the core the old one serves from,
# which shows in the latency during the switches.
#
#   bash internal/testkit/bench/upgrade.sh
#   UPGRADES=20 STEADY=5s bash internal/testkit/bench/upgrade.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."

UPGRADES=${UPGRADES:-100}
STEADY=${STEADY:-10s}
GAP=${GAP:-200ms}
KEEPALIVE=${KEEPALIVE:-8}
PER_REQUEST=${PER_REQUEST:-8}
PORT=${PORT:-4998}
LOG_LEVEL=${LOG_LEVEL:-info}

tmp=$(mktemp -d)
root="$tmp/root"
cleanup() {
  if [ -x "$root/bin/hello" ]; then "$root/bin/hello" stop >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

server_cpu=() load_cpu=()
if [ "${PIN:-0}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_cpu=(taskset -c 0) load_cpu=(taskset -c 1)
fi

echo "building relkit, the load driver and hello 1.0.0 and 2.0.0 ..." >&2
go build -o "$tmp/relkit" ./cmd/relkit
go build -o "$tmp/upgradeload" ./internal/testkit/bench/upgradeload
export SOURCE_DATE_EPOCH="$(git log -1 --format=%ct 2>/dev/null || date +%s)"
"$tmp/relkit" build -tar -version 1.0.0 -o "$tmp/build-1" ./examples/hello >/dev/null 2>&1
"$tmp/relkit" build -tar -version 2.0.0 -o "$tmp/build-2" ./examples/hello >/dev/null 2>&1

mkdir -p "$root/releases/2.0.0"
tar -xzf "$tmp"/build-1/hello-1.0.0-*.tar.gz -C "$root"
cp "$tmp"/build-2/hello-2.0.0-*.tar.gz* "$root/releases/2.0.0/"

# The access log stays on (LOG_LEVEL=info), written to a file as in
# production; the supervisor passes the app's output through.
PORT=$PORT LOG_FORMAT=json LOG_LEVEL=$LOG_LEVEL "${server_cpu[@]}" "$root/bin/hello" start >"$tmp/server.log" 2>&1 &
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "load: $STEADY steady, then $UPGRADES switches ..." >&2
"${load_cpu[@]}" "$tmp/upgradeload" -root "$root" -port "$PORT" -n "$UPGRADES" -steady "$STEADY" -gap "$GAP" \
  -keepalive "$KEEPALIVE" -per-request "$PER_REQUEST"
echo
echo "($(nproc) CPUs, $(go version | cut -d' ' -f3), $(uname -sr); server pid unchanged: $("$root/bin/hello" pid))"
