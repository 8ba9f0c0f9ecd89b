#!/usr/bin/env bash
# The cost of a supervised start: examples/hello built by relkit build and
# unpacked (bin/hello start: the supervisor and the app as its child)
# against the same binary outside a release (one process) and
# internal/testkit/bench/plainhello, in ROUNDS interleaved rounds; each round
# starts every contender once. Prints boot to first 200 (median of
# per-round ratios) and idle memory: RSS, which counts the binary's pages
# once per process although the supervisor and the app map the same file,
# and PSS, which shares them out (the memory the machine spends). The floor
# row is what any start that runs one more process of the binary first
# costs: the one-process boot plus a run of "version". CPU time up to the
# first 200 (all threads, schedstat) is the boot's cost that the load of a
# shared machine disturbs least. The last row is the supervisor's share:
# its CPU time up to the first 200 and its own idle RSS (once the app is
# ready it gives back its copy of the binary's read-only pages, which the
# app maps too).
#
# With wrk installed, LOAD_ROUNDS interleaved rounds of LOAD_DURATION also
# serve GET / under wrk (CONNS keep-alive connections, pinned to the
# other core when taskset exists), each server logging its access lines
# to a file: requests/s supervised against one process (median of
# per-round ratios) and the supervisor's CPU time per request, which is
# what passing the app's access line on costs it.
#
#   bash internal/testkit/bench/supervised.sh
#   ROUNDS=10 LOAD_ROUNDS=5 bash internal/testkit/bench/supervised.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."

ROUNDS=${ROUNDS:-20}
MEM_ROUNDS=${MEM_ROUNDS:-$(( (ROUNDS + 1) / 2 ))}
PORT=${PORT:-4997}
LOAD_ROUNDS=${LOAD_ROUNDS:-3}
LOAD_DURATION=${LOAD_DURATION:-4}
CONNS=${CONNS:-16}

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/relkit" ./cmd/relkit
go build -o "$tmp/boot" ./internal/testkit/bench/boot
go build -ldflags "-s -w" -o "$tmp/plain" ./internal/testkit/bench/plainhello
export SOURCE_DATE_EPOCH="$(git log -1 --format=%ct 2>/dev/null || date +%s)"
"$tmp/relkit" build -tar -version 1.0.0 -o "$tmp/build" ./examples/hello >/dev/null 2>&1
mkdir -p "$tmp/root"
tar -xzf "$tmp"/build/hello-1.0.0-*.tar.gz -C "$tmp/root"
cp "$tmp/root/releases/1.0.0/hello" "$tmp/solo"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { "$tmp/boot" -n 1 -port "$PORT" "$@" | cut -d' ' -f1; }

# mem KIND PROGRAM [ARGS...]: the program's RSS and PSS in kB (summed over
# it and its children) after its first 200 and a second of idling.
# serve OUT PROGRAM [ARGS...]: starts the program, its output to OUT, and
# waits for its first 200; its PID is left in $served.
serve() {
  local out=$1 ok=
  shift
  PORT=$PORT LOG_FORMAT=json "$@" >"$out" 2>&1 &
  served=$!
  pids+=("$served")
  for _ in $(seq 1 500); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && head -c 12 <&3 | grep -q 200) 2>/dev/null; then ok=1; break; fi
    sleep 0.01
  done
  [ -n "$ok" ] || { echo "bench: $1 did not answer on port $PORT" >&2; exit 1; }
}

mem() {
  serve /dev/null "$@"
  local pid=$served
  # CPU time spent up to the first 200, summed over every thread of the
  # program and its children (schedstat: nanoseconds on a CPU).
  local cpu cpu1
  cpu=$(cat "/proc/$pid/task/"*/schedstat $(pgrep -P "$pid" | sed 's|.*|/proc/&/task/*/schedstat|') 2>/dev/null | awk '{s += $1} END {printf "%.2f", s / 1e6}')
  cpu1=$(cat "/proc/$pid/task/"*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.2f", s / 1e6}')
  sleep 1
  local all="$pid $(pgrep -P "$pid" | tr '\n' ' ')"
  local rss=0 pss=0 p rss1
  for p in $all; do
    rss=$((rss + $(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup")))
    pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
  done
  rss1=$(awk '/^Rss:/ {print $2}' "/proc/$pid/smaps_rollup")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  # Both processes, then the first alone (for bin/hello start: the
  # supervisor; its child is the rest).
  echo "$rss $pss $cpu $rss1 $cpu1"
}

b_sup=() b_solo=() b_plain=() b_ver=() q_solo=() q_plain=() q_floor=()
m_sup=() m_solo=() m_plain=() p_sup=() p_solo=() p_plain=() qr=() qp=() qrs=() qps=()
t_sup=() t_solo=() t_plain=() qcs=() qcp=() m_sup1=() t_sup1=()
for _ in $(seq 1 "$ROUNDS"); do
  s=$(ms "$tmp/root/bin/hello" start); o=$(ms "$tmp/solo" start); p=$(ms "$tmp/plain")
  # The floor: one more start of the same binary, one that exits at once.
  t0=$(date +%s%N); "$tmp/solo" version >/dev/null; t1=$(date +%s%N)
  v=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e6}')
  b_sup+=("$s") b_solo+=("$o") b_plain+=("$p") b_ver+=("$v")
  q_floor+=("$(awk -v a="$v" -v b="$o" 'BEGIN {print (a + b) / b}')")
  q_solo+=("$(awk -v a="$s" -v b="$o" 'BEGIN {print a/b}')")
  q_plain+=("$(awk -v a="$s" -v b="$p" 'BEGIN {print a/b}')")
done
for _ in $(seq 1 "$MEM_ROUNDS"); do
  read -r rs ps cs rs1 cs1 < <(mem "$tmp/root/bin/hello" start)
  read -r ro po co _ _ < <(mem "$tmp/solo" start)
  read -r rp pp cp _ _ < <(mem "$tmp/plain")
  m_sup1+=("$rs1") t_sup1+=("$cs1")
  m_sup+=("$rs") m_solo+=("$ro") m_plain+=("$rp") p_sup+=("$ps") p_solo+=("$po") p_plain+=("$pp")
  t_sup+=("$cs") t_solo+=("$co") t_plain+=("$cp")
  qcs+=("$(awk -v a="$cs" -v b="$co" 'BEGIN {print a/b}')") qcp+=("$(awk -v a="$cs" -v b="$cp" 'BEGIN {print a/b}')")
  qrs+=("$(awk -v a="$rs" -v b="$ro" 'BEGIN {print a/b}')") qps+=("$(awk -v a="$ps" -v b="$po" 'BEGIN {print a/b}')")
  qr+=("$(awk -v a="$rs" -v b="$rp" 'BEGIN {print a/b}')") qp+=("$(awk -v a="$ps" -v b="$pp" 'BEGIN {print a/b}')")
done
# load PROGRAM [ARGS...]: requests/s under wrk, and the CPU time per
# request (µs) of the program's first process (for bin/hello start: the
# supervisor).
load() {
  serve "$tmp/access.log" "$@"
  local pid=$served
  local c0 c1 n
  c0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  n=$("${client_cpu[@]}" wrk -t1 -c"$CONNS" -d"${LOAD_DURATION}s" "http://127.0.0.1:$PORT/" | awk '/requests in/ {print $1}')
  c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  awk -v n="$n" -v d="$LOAD_DURATION" -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f %.2f\n", n / d, c * 1e6 / hz / n}'
}
l_sup=() l_solo=() ql=() u_sup=()
client_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then client_cpu=(taskset -c 1); fi
if command -v wrk >/dev/null; then
  for _ in $(seq 1 "$LOAD_ROUNDS"); do
    read -r rs us < <(load "$tmp/root/bin/hello" start)
    read -r ro _ < <(load "$tmp/solo" start)
    l_sup+=("$rs") l_solo+=("$ro") u_sup+=("$us")
    ql+=("$(awk -v a="$rs" -v b="$ro" 'BEGIN {print a/b}')")
  done
fi

med() { printf '%s\n' "$@" | median; }
x() { awk -v a="$1" 'BEGIN {printf "%.2f×", a}'; }

cat <<TABLE
$(go version | awk '{print $3}'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $ROUNDS boot rounds, $MEM_ROUNDS memory and CPU rounds (medians)

| measure | supervised bin/hello start | same binary, one process | plainhello | supervised / one process | supervised / plainhello |
| --- | --- | --- | --- | --- | --- |
| boot to first 200 | $(med "${b_sup[@]}") ms | $(med "${b_solo[@]}") ms | $(med "${b_plain[@]}") ms | $(x "$(med "${q_solo[@]}")") | $(x "$(med "${q_plain[@]}")") |
| floor: one process plus a start of the same binary that exits at once (\`version\`, $(med "${b_ver[@]}") ms) | | | | $(x "$(med "${q_floor[@]}")") | |
| CPU time up to the first 200 (all threads of both processes) | $(med "${t_sup[@]}") ms | $(med "${t_solo[@]}") ms | $(med "${t_plain[@]}") ms | $(x "$(med "${qcs[@]}")") | $(x "$(med "${qcp[@]}")") |
| idle RSS (both processes) | $(med "${m_sup[@]}") kB | $(med "${m_solo[@]}") kB | $(med "${m_plain[@]}") kB | $(x "$(med "${qrs[@]}")") | $(x "$(med "${qr[@]}")") |
| idle PSS (both processes) | $(med "${p_sup[@]}") kB | $(med "${p_solo[@]}") kB | $(med "${p_plain[@]}") kB | $(x "$(med "${qps[@]}")") | $(x "$(med "${qp[@]}")") |
| of which the supervisor: CPU up to the first 200, idle RSS | $(med "${t_sup1[@]}") ms, $(med "${m_sup1[@]}") kB | | | | |
TABLE
if [ "${#l_sup[@]}" -gt 0 ]; then
  cat <<TABLE
| requests/s under wrk ($CONNS connections, access log to a file; $LOAD_ROUNDS rounds of ${LOAD_DURATION}s) | $(med "${l_sup[@]}") | $(med "${l_solo[@]}") | | $(x "$(med "${ql[@]}")") | |
| of which the supervisor: CPU time per request | $(med "${u_sup[@]}") µs | | | | |
TABLE
fi
