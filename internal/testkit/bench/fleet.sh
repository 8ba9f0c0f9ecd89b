#!/usr/bin/env bash
# Rollouts to a fleet under load: the fleet test (internal/testkit/fleettest)
# run once, as root. Three hosts as network namespaces with their own sshd,
# haproxy in front, one PostgreSQL database; ansible-playbook runs the
# playbook `relkit gen ansible` writes for an upgrade 1.0.0 -> 2.0.0 and a
# downgrade back, while 6 clients (4 reading, 2 writing; keep-alive and a
# connection per request; each at most 10 requests/s) go through haproxy
# from 3 s before each run until 3 s after it.
# It prints a Markdown table per rollout: the playbook's time, each host's
# batch (drain, switch, gates, enable, prune), requests, failed requests,
# and the p99 latency through haproxy before, during and after the run.
# Bounded: a few minutes; traffic only to loopback and the namespaces.
#
#   sudo bash internal/testkit/bench/fleet.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
[ "$(id -u)" = 0 ] || { echo "Error: the fleet benchmark needs root (network namespaces, sshd)"; echo "Try: sudo bash $0"; exit 64; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
RELKIT_FLEET=1 go test -count=1 -timeout 30m -v -run 'TestFleet$' ./internal/testkit/fleettest/ | tee "$out" | grep -E '^\s+--- |ansible-playbook|load:' || true
echo
grep -E '^\s+\| ' "$out" | sed -E 's/^\s+//'
grep -q '^ok' "$out"
