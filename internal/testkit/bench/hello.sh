#!/usr/bin/env bash
# Compares examples/hello on relkit with internal/testkit/bench/plainhello (net/http + slog),
# on loopback only, in one run of about a minute:
#   boot-to-first-200 (median of BOOT_RUNS starts), requests per second with
#   wrk (ROUNDS rounds of DURATION each, median) and requests per CPU-second
#   of the server (its user + system time over the requests it served),
#   binary size, idle RSS.
# relkit runs with its default middleware on (request ID, recovery, access
# log as JSON to a file), and with the access log silenced (LOG_LEVEL=warn);
# plainhello runs without and with a JSON access log line per request
# (ACCESS_LOG=1), and setting an X-Request-Id response header as relkit's
# request ID middleware does (REQUEST_ID=1: what net/http itself charges
# for one header a handler sets). When taskset exists, the server runs on
# CPU 0 and wrk on CPU 1.
#
# Like for like: both answer GET / with the same body and Content-Type,
# routed through an http.ServeMux with the same three patterns (see
# plainhello's doc); relkit's answer also carries X-Request-Id.
#
# On a shared machine requests per CPU-second still swing ±30 % between
# rounds. Instructions per request are steadier: run a server under
# callgrind with GODEBUG=cpu.rdtscp=off,asyncpreemptoff=1 (valgrind 3.19
# knows neither Go 1.26's RDTSCP nor survives its preemption signals),
# zero the counters with callgrind_control -z after a warm-up wrk, dump
# with callgrind_control -d after a measured one, and divide by the
# requests wrk made.
#
#   bash internal/testkit/bench/hello.sh            # prints a Markdown table
set -euo pipefail
cd "$(dirname "$0")/../../.."

DURATION=${DURATION:-5s}
CONNS=${CONNS:-32}
ROUNDS=${ROUNDS:-3}
BOOT_RUNS=${BOOT_RUNS:-30}
PORT=${PORT:-4999}

command -v wrk >/dev/null || { echo "bench: wrk is needed (Debian package wrk)" >&2; exit 1; }
tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

server_cpu=() client_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_cpu=(taskset -c 0) client_cpu=(taskset -c 1)
fi

go build -o "$tmp/hello" ./examples/hello
go build -o "$tmp/plain" ./internal/testkit/bench/plainhello
go build -o "$tmp/boot" ./internal/testkit/bench/boot
go build -ldflags "-s -w" -o "$tmp/hello-stripped" ./examples/hello
go build -ldflags "-s -w" -o "$tmp/plain-stripped" ./internal/testkit/bench/plainhello

# args NAME: the command line arguments of server NAME.
args() { if [ "$1" = hello ]; then echo start; fi; }

# start NAME [ENV...]: start server NAME in the background with the extra
# environment, and wait for its first 200.
start() {
  local name=$1; shift
  # shellcheck disable=SC2046
  env PORT="$PORT" LOG_FORMAT=json "$@" "${server_cpu[@]}" "$tmp/$name" $(args "$name") >"$tmp/$name.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 500); do
    if curl_ok; then return; fi
    sleep 0.01
  done
  echo "bench: $name did not answer on port $PORT" >&2; cat "$tmp/$name.log" >&2; exit 1
}
# curl_ok: whether GET / answers 200, with bash's /dev/tcp (no curl needed).
curl_ok() (
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
  printf 'GET / HTTP/1.0\r\n\r\n' >&3
  head -c 12 <&3 | grep -q 200
) 2>/dev/null
stop() { kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

# cpu_ticks: the server's user + system CPU time so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rps() { # rps NAME [ENV...]: one wrk round, prints requests/sec and requests per CPU-second of the server
  local name=$1; shift
  start "$name" "$@"
  local t0 out t1
  t0=$(cpu_ticks)
  out=$("${client_cpu[@]}" wrk -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$PORT/")
  t1=$(cpu_ticks)
  stop
  # The CPU time a request costs the server is what it would serve on a
  # core of its own; on a shared machine it varies far less than requests/s.
  echo "$out" | awk -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
    '/Requests\/sec/ {r = $2} / requests in / {n = $1} END {printf "%s %.0f\n", r, n / (ticks / hz)}'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rss_kb() { # rss_kb NAME [ENV...]: RSS after boot, one request and a second of idling
  local name=$1; shift
  start "$name" "$@"
  sleep 1
  awk '/VmRSS/ {print $2}' "/proc/$pid/status"
  stop
}

boot_hello=$("$tmp/boot" -n "$BOOT_RUNS" -port "$PORT" "$tmp/hello" start)
boot_plain=$("$tmp/boot" -n "$BOOT_RUNS" -port "$PORT" "$tmp/plain")

# The machine may be shared: each round runs every variant back to back, and
# the ratios are taken per round (paired) before the median.
r_hello=() r_quiet=() r_plain=() r_plainlog=() r_plainrid=() q_plain=() q_plainlog=() q_quiet=()
c_hello=() c_quiet=() c_plain=() c_plainlog=() c_plainrid=() k_plain=() k_plainlog=() k_quiet=() k_rid=()
for _ in $(seq 1 "$ROUNDS"); do
  read -r h hc < <(rps hello); read -r q qc < <(rps hello LOG_LEVEL=warn)
  read -r p pc < <(rps plain); read -r pl plc < <(rps plain ACCESS_LOG=1)
  read -r pr prc < <(rps plain REQUEST_ID=1)
  r_hello+=("$h") r_quiet+=("$q") r_plain+=("$p") r_plainlog+=("$pl") r_plainrid+=("$pr")
  c_hello+=("$hc") c_quiet+=("$qc") c_plain+=("$pc") c_plainlog+=("$plc") c_plainrid+=("$prc")
  k_plain+=("$(awk -v a="$hc" -v b="$pc" 'BEGIN {print a/b}')")
  k_plainlog+=("$(awk -v a="$hc" -v b="$plc" 'BEGIN {print a/b}')")
  k_quiet+=("$(awk -v a="$qc" -v b="$pc" 'BEGIN {print a/b}')")
  k_rid+=("$(awk -v a="$qc" -v b="$prc" 'BEGIN {print a/b}')")
  q_plain+=("$(awk -v a="$h" -v b="$p" 'BEGIN {print a/b}')")
  q_plainlog+=("$(awk -v a="$h" -v b="$pl" 'BEGIN {print a/b}')")
  q_quiet+=("$(awk -v a="$q" -v b="$p" 'BEGIN {print a/b}')")
done
rps_hello=$(printf '%s\n' "${r_hello[@]}" | median)
rps_quiet=$(printf '%s\n' "${r_quiet[@]}" | median)
rps_plain=$(printf '%s\n' "${r_plain[@]}" | median)
rps_plainlog=$(printf '%s\n' "${r_plainlog[@]}" | median)
ratio_plain=$(printf '%s\n' "${q_plain[@]}" | median)
ratio_plainlog=$(printf '%s\n' "${q_plainlog[@]}" | median)
ratio_quiet=$(printf '%s\n' "${q_quiet[@]}" | median)
cps() { printf '%s\n' "$@" | median; }

rss_hello=$(rss_kb hello)
rss_plain=$(rss_kb plain)

size() { stat -c %s "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f×", a/b}'; }
mb() { awk -v a="$1" 'BEGIN {printf "%.2f MB", a/1e6}'; }
diffmb() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.2f MB", (a-b)/1e6}'; }

cat <<TABLE
$(go version | awk '{print $3}'), $(nproc) cores, wrk -t1 -c$CONNS -d$DURATION × $ROUNDS rounds (median), boot median of $BOOT_RUNS

| measure | relkit examples/hello | plain net/http + slog | relkit / plain | target |
| --- | --- | --- | --- | --- |
| boot to first 200 (median, min) | ${boot_hello% *} ms (${boot_hello#* } ms) | ${boot_plain% *} ms (${boot_plain#* } ms) | $(ratio "${boot_hello% *}" "${boot_plain% *}") | ≤ 1.3× |
| requests/s, default middleware on (access log as JSON to a file) | $rps_hello | $rps_plain (no access log) | $(ratio "$ratio_plain" 1) | ≥ 0.95× |
| requests/s, both writing a JSON access log line per request | $rps_hello | $rps_plainlog | $(ratio "$ratio_plainlog" 1) | |
| requests/s, relkit middleware on, access log off (LOG_LEVEL=warn) | $rps_quiet | $rps_plain (no access log) | $(ratio "$ratio_quiet" 1) | |
| requests per CPU-second of the server, default middleware on | $(cps "${c_hello[@]}") | $(cps "${c_plain[@]}") (no access log) | $(ratio "$(cps "${k_plain[@]}")" 1) | ≥ 0.95× |
| requests per CPU-second, both writing a JSON access log line | $(cps "${c_hello[@]}") | $(cps "${c_plainlog[@]}") | $(ratio "$(cps "${k_plainlog[@]}")" 1) | |
| requests per CPU-second, access log off (LOG_LEVEL=warn) | $(cps "${c_quiet[@]}") | $(cps "${c_plain[@]}") (no access log) | $(ratio "$(cps "${k_quiet[@]}")" 1) | |
| requests per CPU-second, access log off / plain setting X-Request-Id (REQUEST_ID=1) | $(cps "${c_quiet[@]}") | $(cps "${c_plainrid[@]}") | $(ratio "$(cps "${k_rid[@]}")" 1) | |
| binary size | $(mb "$(size "$tmp/hello")") | $(mb "$(size "$tmp/plain")") | $(diffmb "$(size "$tmp/hello")" "$(size "$tmp/plain")") | ≤ +1.5 MB |
| binary size, -ldflags "-s -w" | $(mb "$(size "$tmp/hello-stripped")") | $(mb "$(size "$tmp/plain-stripped")") | $(diffmb "$(size "$tmp/hello-stripped")" "$(size "$tmp/plain-stripped")") | |
| idle RSS | $((rss_hello / 1024)) MB ($rss_hello kB) | $((rss_plain / 1024)) MB ($rss_plain kB) | $(ratio "$rss_hello" "$rss_plain") | ≤ 1.2× |

Ratios of requests/s are medians of per-round ratios. Rounds, requests/s:
relkit ${r_hello[*]}; relkit LOG_LEVEL=warn ${r_quiet[*]};
plain ${r_plain[*]}; plain with access log ${r_plainlog[*]}; plain REQUEST_ID=1 ${r_plainrid[*]}
Requests per CPU-second: relkit ${c_hello[*]}; relkit LOG_LEVEL=warn ${c_quiet[*]};
plain ${c_plain[*]}; plain with access log ${c_plainlog[*]}; plain REQUEST_ID=1 ${c_plainrid[*]}
Load average after the rounds: $(cut -d' ' -f1-3 /proc/loadavg)
TABLE
