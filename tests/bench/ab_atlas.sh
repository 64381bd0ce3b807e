#!/usr/bin/env bash
# ab_atlas.sh: two atlas-server binaries (A and B, e.g. before and after a
# change) under the same atlas-bench workloads, in alternating order, a fresh
# server and data directory for every row; prints medians of A and B and B/A,
# and for write, apply and read the server's CPU time per write, entity or
# read (steadier than the rates on a shared, noisy machine).
#
# Usage: tests/bench/ab_atlas.sh --a SERVER_A --b SERVER_B [options]
#   --bench BIN        atlas-bench (default: build-bench/clients/atlas-bench)
#   --rounds N         rounds (default 3)
#   --duration S       measured seconds per workload (default 10)
#   --workloads LIST   rows, in this order, each on a fresh server (default
#                      write,write-hot,apply,read,fanout-100b): write,
#                      write-hot, apply, apply-100b, read, fanout,
#                      fanout-100b, catchup, catchup-b100, idle
#   --server_args "..." extra flags for both servers
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$ROOT/build-bench/clients/atlas-bench"
A=""
B=""
ROUNDS=3
DURATION=10
WORKLOADS="write,write-hot,apply,read,fanout-100b"
SERVER_ARGS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --a) A="$2"; shift 2 ;;
    --b) B="$2"; shift 2 ;;
    --bench) BENCH="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --workloads) WORKLOADS="$2"; shift 2 ;;
    --server_args) SERVER_ARGS="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "ab_atlas.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ ! -x "$A" || ! -x "$B" || ! -x "$BENCH" ]]; then
  echo "ab_atlas.sh: need --a and --b server binaries and atlas-bench" >&2
  exit 2
fi
PID=""  # the running server
# row_args ROW: sets ARGS to the row's atlas-bench arguments (the server's
# PID as PID holds when called); fails for an unknown row.
row_args() {
  case "$1" in
    idle) ARGS=(-w idle --streams 10000 --server_pid "$PID" --hold 5) ;;
    write) ARGS=(-w write -c 256 --server_pid "$PID") ;;
    write-hot) ARGS=(-w write -c 256 --keys 1 --server_pid "$PID") ;;
    apply) ARGS=(-w apply -c 16 --batch 100 --server_pid "$PID") ;;
    apply-100b)
      ARGS=(-w apply -c 16 --batch 100 --payload_bytes 100 --server_pid "$PID") ;;
    read) ARGS=(-w read -c 256 --server_pid "$PID") ;;
    fanout)
      ARGS=(-w fanout --subscribers 1000 --topics 10 --rate 1000
            --watch_channels 16) ;;
    fanout-100b)
      ARGS=(-w fanout --subscribers 1000 --topics 10 --rate 1000
            --payload_bytes 100 --watch_channels 16) ;;
    catchup) ARGS=(-w catchup --catchup_events 30000) ;;
    catchup-b100)  # long enough to compare servers (30k events take 0.1 s)
      ARGS=(-w catchup --catchup_events 200000 --catchup_batch 100) ;;
    *) return 1 ;;
  esac
}

IFS=, read -r -a requested <<< "$WORKLOADS"
for row in "${requested[@]}"; do
  if ! row_args "$row"; then
    echo "ab_atlas.sh: unknown workload $row" >&2
    exit 2
  fi
done

ulimit -n "$(ulimit -Hn)"
WORK="$(mktemp -d /tmp/atlas-ab.XXXXXX)"
RESULTS="$WORK/results.jsonl"
# shellcheck source=tests/bench/bench_servers.sh
source "$ROOT/tests/bench/bench_servers.sh"
cleanup() {
  stop_server "$PID"
  rm -rf "$WORK/data"
}
trap cleanup EXIT

bench() {  # VARIANT LABEL PORT ROUND ARGS...
  local variant="$1" label="$2" port="$3" round="$4"
  shift 4
  local line
  line="$("$BENCH" --server "127.0.0.1:$port" --json --duration "$DURATION" \
            "$@" 2>>"$WORK/bench.log" | tail -n 1)" || true
  record_result "$RESULTS" "$line" variant="$variant" label="$label" \
    round="$round"
  echo "[$(date +%T) load $(cut -d' ' -f1 /proc/loadavg)] $variant $label: $line" >&2
}

start_server() {  # VARIANT BINARY: sets PORT and PID
  PORT="$(free_port)"
  mkdir -p "$WORK/data"
  # shellcheck disable=SC2086
  "$2" --listen "127.0.0.1:$PORT" --data_dir "$WORK/data" $SERVER_ARGS \
    >> "$WORK/server-$1.log" 2>&1 &
  PID=$!
  "$BENCH" --server "127.0.0.1:$PORT" -w ready > /dev/null 2>&1
}

# Every row runs on a fresh server and data directory, so that no row
# inherits another's entities (an apply after an apply would update them)
# or compaction debt.
run_variant() {  # VARIANT BINARY ROUND
  local variant="$1" binary="$2" round="$3" row
  for row in "${requested[@]}"; do
    start_server "$variant" "$binary"
    row_args "$row"
    bench "$variant" "$row" "$PORT" "$round" "${ARGS[@]}"
    stop_server "$PID"
    PID=""
    rm -rf "$WORK/data"
  done
}

for ((round = 1; round <= ROUNDS; round++)); do
  if ((round % 2 == 1)); then
    run_variant A "$A" "$round"; run_variant B "$B" "$round"
  else
    run_variant B "$B" "$round"; run_variant A "$A" "$round"
  fi
done

echo "ab_atlas.sh: results in $RESULTS" >&2
python3 - "$RESULTS" "$A" "$B" <<'EOF'
import json, statistics, sys
from collections import defaultdict
rows = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[(r["label"], r["variant"])].append(r)
def med(label, v, key):
    xs = [r.get(key) for r in rows.get((label, v), []) if r.get(key) is not None]
    return statistics.median(xs) if xs else None
print(f"\nA = {sys.argv[2]}\nB = {sys.argv[3]}\nmedians per row:")
print(f"{'row':<12} {'A /s':>10} {'B /s':>10} {'B/A':>6} {'A p99 ms':>10} {'B p99 ms':>10}  extra (A | B)")
seen = []
for (label, _) in rows:
    if label not in seen:
        seen.append(label)
for label in seen:
    a, b = med(label, "A", "ops_per_s"), med(label, "B", "ops_per_s")
    ratio = f"{b / a:.2f}" if a and b else "-"
    extra = ""
    if label.startswith("fanout"):
        extra = " | ".join(f"writes/s {med(label, v, 'writes_per_s') or 0:.0f}, missing {med(label, v, 'missing') or 0:.0f}" for v in "AB")
    if label == "idle":
        extra = " | ".join(f"rss {med(label, v, 'rss_after_mb') or 0:.1f} MiB" for v in "AB")
    if med(label, "A", "server_cpu_us") is not None:
        extra = " | ".join(f"server {med(label, v, 'server_cpu_us') or 0:.1f} us/op, {med(label, v, 'server_cores') or 0:.2f} cores, client {med(label, v, 'client_cores') or 0:.2f}" for v in "AB")
        a_cpu, b_cpu = med(label, "A", "server_cpu_us"), med(label, "B", "server_cpu_us")
        if a_cpu and b_cpu:
            extra += f"; CPU/op B/A {b_cpu / a_cpu:.2f}"
    ap, bp = med(label, "A", "p99_ms"), med(label, "B", "p99_ms")
    print(f"{label:<12} {a or 0:>10.0f} {b or 0:>10.0f} {ratio:>6} {ap or 0:>10.1f} {bp or 0:>10.1f}  {extra}")
EOF
