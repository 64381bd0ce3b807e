#!/usr/bin/env bash
# rotate_writes.sh: durable light-client writes against a fresh etcd and a
# fresh atlas-server of each build given, all in one run, the order rotating
# from round to round; prints, for each build, the median of its per-round
# ratios to etcd and to the first build. On a VM whose speed drifts by up to
# 2x between minutes, ratios taken within a round are what can be compared.
#
# Usage: tests/bench/rotate_writes.sh [options] NAME=SERVER_BINARY...
#   --bench BIN        atlas-bench (default: build-bench/clients/atlas-bench)
#   --rounds N         rounds (default 5)
#   --duration S       measured seconds per run (default 10)
#   --payload_bytes N  payload of each write (default 1024)
#   --out FILE         keep the JSON lines here (default: a temp file)
# Each run: atlas-bench -w write -c 256 --client h2 --channels 8 (a new key
# per write), as the write-h2 row of compare_etcd.sh. Both servers sync
# before acknowledging. Needs: etcd (Debian etcd-server), python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$ROOT/build-bench/clients/atlas-bench"
ROUNDS=5
DURATION=10
PAYLOAD=1024
OUT=""
NAMES=(etcd)
BINARIES=(etcd)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bench) BENCH="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --payload_bytes) PAYLOAD="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *=*)
      NAMES+=("${1%%=*}")
      BINARIES+=("${1#*=}")
      shift ;;
    *) echo "rotate_writes.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if ((${#NAMES[@]} < 2)); then
  echo "rotate_writes.sh: give at least one NAME=SERVER_BINARY" >&2
  exit 2
fi
for tool in "$BENCH" "${BINARIES[@]:1}" "$(command -v etcd || true)"; do
  if [[ ! -x "$tool" ]]; then
    echo "rotate_writes.sh: not found or not executable: ${tool:-etcd}" >&2
    exit 2
  fi
done
WORK="$(mktemp -d /tmp/atlas-rotate.XXXXXX)"
OUT="${OUT:-$WORK/results.jsonl}"
PID=""
# shellcheck source=tests/bench/bench_servers.sh
source "$ROOT/tests/bench/bench_servers.sh"
cleanup() {
  stop_server "$PID"
  rm -rf "$WORK/data"
}
trap cleanup EXIT

run() {  # NAME BINARY ROUND
  local name="$1" binary="$2" round="$3" port target line
  port="$(free_port)"
  mkdir -p "$WORK/data"
  if [[ "$name" == etcd ]]; then
    target=etcd
    launch_etcd "$WORK/data/etcd" "$port" "$WORK/server-$name.log"
  else
    target=atlas
    "$binary" --listen "127.0.0.1:$port" --data_dir "$WORK/data/atlas" \
      > "$WORK/server-$name.log" 2>&1 &
  fi
  PID=$!
  "$BENCH" --target "$target" --server "127.0.0.1:$port" -w ready \
    --ready_timeout 30 > /dev/null 2>&1
  line="$("$BENCH" --target "$target" --server "127.0.0.1:$port" --json \
            -w write -c 256 --client h2 --channels 8 \
            --payload_bytes "$PAYLOAD" --duration "$DURATION" \
            --server_pid "$PID" 2>>"$WORK/bench.log" | tail -n 1)" || true
  record_result "$OUT" "$line" label="$name" round="$round"
  echo "[$(date +%T)] round $round $name: $line" >&2
  stop_server "$PID"
  PID=""
  rm -rf "$WORK/data"
}

count=${#NAMES[@]}
for ((round = 1; round <= ROUNDS; round++)); do
  for ((k = 0; k < count; k++)); do
    i=$(((k + round) % count))
    run "${NAMES[$i]}" "${BINARIES[$i]}" "$round"
  done
done

echo "rotate_writes.sh: results in $OUT" >&2
python3 - "$OUT" "${NAMES[@]}" <<'EOF'
import json, statistics, sys
from collections import defaultdict
rounds = defaultdict(dict)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("ops_per_s") and not r.get("errors"):
        rounds[r["round"]][r["label"]] = r
names, first = sys.argv[2:], sys.argv[3]
def med(xs):
    return statistics.median(xs) if xs else None
def fmt(x, spec):
    return format(x, spec) if x is not None else "-"
print(f"{'build':<10} {'writes/s':>9} {'server us':>9} {'x etcd':>7} "
      f"{'x ' + first:>9} {'rounds':>6}  per-round ratios to etcd")
for name in names:
    runs = [rs[name] for rs in rounds.values() if name in rs]
    to_etcd = [rs[name]["ops_per_s"] / rs["etcd"]["ops_per_s"]
               for rs in rounds.values() if name in rs and "etcd" in rs]
    to_first = [rs[name]["ops_per_s"] / rs[first]["ops_per_s"]
                for rs in rounds.values() if name in rs and first in rs]
    print(f"{name:<10} {fmt(med([r['ops_per_s'] for r in runs]), '9.0f')} "
          f"{fmt(med([r.get('server_cpu_us') or 0 for r in runs]), '9.1f')} "
          f"{fmt(med(to_etcd), '7.2f')} {fmt(med(to_first), '9.2f')} "
          f"{len(runs):>6}  " + " ".join(f"{x:.2f}" for x in to_etcd))
EOF
