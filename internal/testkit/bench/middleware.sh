#!/usr/bin/env bash
# Instructions per request of server's middleware stacks, counted by
# callgrind, which the load of a shared machine does not disturb:
# internal/testkit/bench/mwcount serves STACKS on one locked thread, GC off
# (GC=on to leave it on), for N1 and N2 requests; the difference of the two
# counts over N2-N1 is the stack's cost per request. Prints a Markdown table
# with the allocations per request.
#
#   bash internal/testkit/bench/middleware.sh
#   STACKS="log-off log-json" N1=10000 N2=30000 bash internal/testkit/bench/middleware.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."

STACKS=${STACKS:-"bare request-id log-off log-json slog-json tint"}
N1=${N1:-20000}
N2=${N2:-60000}
GC=${GC:-off}

command -v valgrind >/dev/null || { echo "bench: valgrind is needed (Debian package valgrind)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# No cgo: valgrind follows the runtime's own threads; asynchronous
# preemption's signals upset callgrind.
CGO_ENABLED=0 go build -o "$tmp/mwcount" ./internal/testkit/bench/mwcount
gcflag=()
if [ "$GC" = off ]; then gcflag=(-gc-off); fi

count() { # count STACK N: callgrind's instruction count of the whole run
  # valgrind 3.19 lacks RDTSCP: a run dies of SIGILL whenever the runtime
  # reads the clock with it (runtime.cputicks), which happens now and then
  # (lock timing, the GC's pacing); such a run is made again.
  local try
  for try in 1 2 3 4 5 6; do
    if GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      "$tmp/mwcount" "${gcflag[@]}" -stack "$1" -n "$2" 2>"$tmp/vg" >"$tmp/out" && [ -s "$tmp/out" ]; then
      awk '/Collected :/ {print $NF}' "$tmp/vg"
      return
    fi
  done
  echo "bench: mwcount -stack $1 -n $2 failed under valgrind 6 times:" >&2
  tail -5 "$tmp/vg" >&2
  exit 1
}

echo "| stack | instructions per request | allocs | bytes |"
echo "| --- | --- | --- | --- |"
for s in $STACKS; do
  a=$(count "$s" "$N1"); b=$(count "$s" "$N2")
  read -r _ allocs _ bytes _ <"$tmp/out"
  echo "| $s | $(( (b - a) / (N2 - N1) )) | $allocs | $bytes |"
done
