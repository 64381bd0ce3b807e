#!/usr/bin/env bash
# writes_with_subscribers.sh: does write throughput hold while 1,000 Watch
# subscribers are attached? Each round starts a fresh atlas-server, runs the
# `write` workload alone, then again while a second atlas-bench holds N idle
# Watch streams (topic filters that the writes do not match: the hub's
# topic routing offers them nothing), in alternating order.
# Prints each run and the medians with the ratio attached/alone.
#
# Usage: tests/bench/writes_with_subscribers.sh [options]
#   --build DIR        build dir with clients/atlas-bench and
#                      services/atlas-server (default: build-bench)
#   --rounds N         rounds (default 5)
#   --duration S       measured seconds per write run (default 10)
#   --subscribers N    idle Watch streams held during the second run
#                      (default 1000)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$ROOT/build-bench"
ROUNDS=5
DURATION=10
SUBSCRIBERS=1000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --subscribers) SUBSCRIBERS="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "writes_with_subscribers.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
BENCH="$BUILD/clients/atlas-bench"
SERVER="$BUILD/services/atlas-server"
for tool in "$BENCH" "$SERVER"; do
  [[ -x "$tool" ]] || { echo "writes_with_subscribers.sh: missing $tool" >&2; exit 2; }
done

WORK=$(mktemp -d)
SERVER_PID=""
IDLE_PID=""
# shellcheck source=tests/bench/bench_servers.sh
source "$ROOT/tests/bench/bench_servers.sh"
cleanup() {
  stop_server "$IDLE_PID"
  stop_server "$SERVER_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT

# write_run PORT LABEL: one measured write run; prints "LABEL OPS P99".
write_run() {
  "$BENCH" --server "127.0.0.1:$1" -w write --duration "$DURATION" --json \
      2>/dev/null | /usr/bin/python3 -c '
import json, sys
row = json.loads(sys.stdin.readlines()[-1])
print(sys.argv[1], row["ops_per_s"], row["p99_ms"], row["errors"])' "$2"
}

results="$WORK/results"
for ((round = 1; round <= ROUNDS; round++)); do
  port=$(free_port)
  rm -rf "$WORK/data"
  "$SERVER" --listen "127.0.0.1:$port" --data_dir "$WORK/data" \
      --log_format text > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  "$BENCH" --server "127.0.0.1:$port" -w ready > /dev/null 2>&1
  order=(alone attached)
  ((round % 2 == 0)) && order=(attached alone)
  for mode in "${order[@]}"; do
    if [[ "$mode" == attached ]]; then
      "$BENCH" --server "127.0.0.1:$port" -w idle --streams "$SUBSCRIBERS" \
          --server_pid "$SERVER_PID" --hold $((DURATION * 3 + 30)) \
          > "$WORK/idle.out" 2>&1 &
      IDLE_PID=$!
      sleep 5  # the streams open in well under a second; leave margin
      write_run "$port" attached | tee -a "$results"
      stop_server "$IDLE_PID"
      IDLE_PID=""
    else
      write_run "$port" alone | tee -a "$results"
    fi
  done
  stop_server "$SERVER_PID"
  SERVER_PID=""
done

/usr/bin/python3 - "$results" "$SUBSCRIBERS" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
med = {}
for mode in ("alone", "attached"):
    ops = [float(r[1]) for r in rows if r[0] == mode]
    p99 = [float(r[2]) for r in rows if r[0] == mode]
    med[mode] = statistics.median(ops)
    print(f"{mode:9} writes/s median {med[mode]:9.0f}  p99_ms median "
          f"{statistics.median(p99):7.2f}  runs {len(ops)}")
print(f"attached ({sys.argv[2]} idle subscribers) / alone: "
      f"{med['attached'] / med['alone']:.2f}")
EOF
