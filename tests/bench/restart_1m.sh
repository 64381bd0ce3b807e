#!/usr/bin/env bash
# restart_1m.sh: how soon atlas-server serves again after a restart with
# 1M entities in its store.
#
# Starts a fresh atlas-server on a free loopback port, loads ENTITIES
# entities with atlas-bench (ApplyEntities, 100 a call), then stops it with
# SIGTERM and starts it again ROUNDS times; each time it measures from the
# exec of atlas-server until the first answered RPC (atlas-bench -w ready,
# polling every 2 ms), and once with SIGKILL right after ENTITIES/10 more
# writes instead of SIGTERM (crash restart: RocksDB replays its WAL).
#
# Usage: tests/bench/restart_1m.sh [--build DIR] [--entities N]
#                                  [--payload_bytes B] [--rounds R] [--keep]
#   --keep   leave the temporary directory (store, server.log) for a look at
#            RocksDB's LOG (recovery and flush times)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$ROOT/build-bench"
ENTITIES=1000000
PAYLOAD=1024
ROUNDS=3
KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --entities) ENTITIES="$2"; shift 2 ;;
    --payload_bytes) PAYLOAD="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "restart_1m.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
BENCH="$BUILD/clients/atlas-bench"
SERVER="$BUILD/services/atlas-server"
WORK="$(mktemp -d /tmp/atlas-restart.XXXXXX)"
PID=""
# shellcheck source=tests/bench/bench_servers.sh
source "$ROOT/tests/bench/bench_servers.sh"
cleanup() {
  stop_server "$PID"
  if [[ "$KEEP" == 1 ]]; then
    echo "restart_1m: kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
PORT="$(free_port)"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

start() {  # sets PID and UP_MS (ms from exec to the first answered call)
  local t0 t1
  t0="$(now_ms)"
  "$SERVER" --listen "127.0.0.1:$PORT" --data_dir "$WORK/data" \
    >> "$WORK/server.log" 2>&1 &
  PID=$!
  "$BENCH" --server "127.0.0.1:$PORT" -w ready --ready_timeout 120 \
    > /dev/null 2>&1
  t1="$(now_ms)"
  UP_MS=$((t1 - t0))
}

stop() {  # SIGNAL; sets DOWN_MS (ms until the process exited)
  local t0 t1
  t0="$(now_ms)"
  kill "-$1" "$PID"
  wait "$PID" 2>/dev/null || true
  t1="$(now_ms)"
  PID=""
  DOWN_MS=$((t1 - t0))
}

load() {  # COUNT: writes COUNT entities, 100 a call
  "$BENCH" --server "127.0.0.1:$PORT" -w apply --batch 100 -c 16 --warmup 0 \
    --duration 0 --max_ops $(( ($1 + 99) / 100 )) \
    --payload_bytes "$PAYLOAD" --timeout_ms 60000 2>&1 | tail -n 1 >&2
}

echo "restart_1m: loading $ENTITIES entities of $PAYLOAD B payload ..." >&2
start
load "$ENTITIES"
echo "restart_1m: data dir $(du -sh "$WORK/data" | cut -f1)," \
     "server RSS $(awk '/VmRSS/ {print $2, $3}' "/proc/$PID/status")" >&2

results=()
for ((r = 1; r <= ROUNDS; r++)); do
  stop TERM
  start
  results+=("$UP_MS")
  echo "restart_1m: round $r: SIGTERM took ${DOWN_MS} ms; serving ${UP_MS} ms after exec" >&2
done
# A crash with the WAL full of recent writes: RocksDB replays it on open.
load $(( ENTITIES / 10 ))
stop KILL
start
echo "restart_1m: after SIGKILL right after $(( ENTITIES / 10 )) more writes:" \
     "serving ${UP_MS} ms after exec" >&2
sorted=($(printf '%s\n' "${results[@]}" | sort -n))
median="${sorted[$(( ${#sorted[@]} / 2 ))]}"
echo "{\"workload\":\"restart\",\"target\":\"atlas\",\"entities\":$ENTITIES,\"payload_bytes\":$PAYLOAD,\"ready_ms_median\":$median,\"ready_ms\":[$(IFS=,; echo "${results[*]}")],\"ready_ms_after_kill\":$UP_MS}"
