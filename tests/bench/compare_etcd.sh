#!/usr/bin/env bash
# compare_etcd.sh: Atlas next to etcd 3.4 on this machine, same client, same
# payloads, same durability (both fsync before acknowledging a write).
#
# For every workload (row) it starts a fresh atlas-server and a fresh etcd on
# free loopback ports in temporary directories, runs the workload against one
# and then right away the other with atlas-bench (the order alternates
# between rounds), measures the bare unary-RPC ceiling of an atlas-server
# process with h2load (grpc.health.v1.Health/Check; for the write rows on
# that row's own server, right before it), plus h2load references for etcd
# Put/Range and
# Atlas GetEntity, and stops the servers. At the end it prints one table of
# medians over the rounds with the ratios Atlas/etcd and each Atlas figure as
# a fraction of the ceiling, and the goals of the benchmark issue.
#
# Usage: tests/bench/compare_etcd.sh [options]
#   --build DIR        build dir with clients/atlas-bench and
#                      services/atlas-server (default: build-bench)
#   --server BIN       atlas-server binary to use instead of the build's
#                      (e.g. an experimental build)
#   --rounds N         rounds (default 3)
#   --duration S       measured seconds per workload (default 10)
#   --workloads LIST   comma-separated rows to run (default: all):
#                      write,write-100b,write-hot,write-h2,write-100b-h2,
#                      write-basic-h2,
#                      read,read-h2,apply,apply-100b,
#                      apply-basic,apply-basic-100b,
#                      fanout,fanout-h2,fanout-100b,fanout-shared,idle,
#                      idle-shared,
#                      catchup,catchup-b100,h2load
#   --out DIR          keep results here (default: a temp dir, printed)
#   --summary-only DIR re-print the summary of a previous --out DIR
# Needs: etcd (Debian etcd-server), h2load (nghttp2-client), python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$ROOT/build-bench"
ROUNDS=3
DURATION=10
WORKLOADS="write,write-100b,write-hot,write-h2,write-100b-h2,write-basic-h2,read,read-h2,apply,apply-100b,apply-basic,apply-basic-100b,fanout,fanout-h2,fanout-100b,fanout-shared,idle,idle-shared,catchup,catchup-b100,h2load"
OUT=""
SUMMARY_ONLY=""
SERVER=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --server) SERVER="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --workloads) WORKLOADS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --summary-only) SUMMARY_ONLY="$2"; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "compare_etcd.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
SUMMARY="$ROOT/tests/bench/compare_summary.py"
if [[ -n "$SUMMARY_ONLY" ]]; then
  exec python3 "$SUMMARY" "$SUMMARY_ONLY"
fi

BENCH="$BUILD/clients/atlas-bench"
SERVER="${SERVER:-$BUILD/services/atlas-server}"
for tool in "$BENCH" "$SERVER" "$(command -v etcd || true)" \
            "$(command -v h2load || true)"; do
  if [[ -z "$tool" || ! -x "$tool" ]]; then
    echo "compare_etcd.sh: missing $tool (build atlas-bench and atlas-server;" \
         "apt-get install etcd-server nghttp2-client)" >&2
    exit 2
  fi
done
ulimit -n "$(ulimit -Hn)"

WORK="$(mktemp -d /tmp/atlas-vs-etcd.XXXXXX)"
OUT="${OUT:-$WORK/results}"
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK/data"
}
trap cleanup EXIT

# shellcheck source=tests/bench/bench_servers.sh
source "$ROOT/tests/bench/bench_servers.sh"

has() { [[ ",$WORKLOADS," == *",$1,"* ]]; }

log() { echo "[$(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)] $*" >&2; }

# gRPC-framed request bodies for h2load: 1 byte flags, 4 bytes length, message.
python3 - "$WORK" <<'EOF'
import struct, sys
d = sys.argv[1]
def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out
def field(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data
def frame(msg):
    return b"\x00" + struct.pack(">I", len(msg)) + msg
bodies = {
    "health.bin": frame(b""),  # grpc.health.v1.HealthCheckRequest{}
    # etcdserverpb.PutRequest{key, value: 1 KiB}
    "etcd_put.bin": frame(field(1, b"/bench/h/0") + field(2, b"x" * 1024)),
    # etcdserverpb.RangeRequest{key, serializable: true}
    "etcd_range.bin": frame(field(1, b"/bench/r/0") + varint(7 << 3) + b"\x01"),
    # atlas.v1.GetEntityRequest{name}
    "atlas_get.bin": frame(field(1, b"documents/bench-r0")),
}
for name, body in bodies.items():
    open(f"{d}/{name}", "wb").write(body)
EOF

# h2load LABEL TARGET PORT PATH BODY: appends one JSON line.
run_h2load() {
  local label="$1" target="$2" port="$3" path="$4" body="$5" round="$6"
  local out
  out="$(h2load -D "$DURATION" --warm-up-time=1 -c 8 -m 32 \
           -H 'content-type: application/grpc' -H 'te: trailers' \
           -d "$WORK/$body" "http://127.0.0.1:$port$path" 2>&1)" || true
  printf '%s\n' "$out" | python3 "$SUMMARY" --h2load "$label" "$target" \
    "$round" "$RESULTS"
}

# bench LABEL TARGET PORT ROUND ARGS...: one atlas-bench run, JSON appended.
bench() {
  local label="$1" target="$2" port="$3" round="$4"
  shift 4
  log "round $round: $label on $target"
  local line
  line="$("$BENCH" --target "$target" --server "127.0.0.1:$port" --json \
            --duration "$DURATION" "$@" 2>>"$OUT/bench.log" | tail -n 1)" || true
  if [[ "$line" != \{* ]]; then
    line="{\"workload\":\"$label\",\"target\":\"$target\",\"ops_per_s\":0,\"p50_ms\":null,\"p99_ms\":null,\"errors\":1,\"note\":\"atlas-bench failed (see bench.log)\"}"
  fi
  record_result "$RESULTS" "$line" label="$label" round="$round"
  echo "  $line" >&2
}

start_atlas() {  # sets ATLAS_PORT ATLAS_PID
  ATLAS_PORT="$(free_port)"
  mkdir -p "$WORK/data/atlas"
  "$SERVER" --listen "127.0.0.1:$ATLAS_PORT" --data_dir "$WORK/data/atlas" \
    > "$OUT/atlas-server.log" 2>&1 &
  ATLAS_PID=$!
  PIDS+=("$ATLAS_PID")
  "$BENCH" --target atlas --server "127.0.0.1:$ATLAS_PORT" -w ready \
    --ready_timeout 30 > /dev/null 2>&1
}

start_etcd() {  # sets ETCD_PORT ETCD_PID
  ETCD_PORT="$(free_port)"
  mkdir -p "$WORK/data/etcd"
  launch_etcd "$WORK/data/etcd" "$ETCD_PORT" "$OUT/etcd.log"
  ETCD_PID=$!
  PIDS+=("$ETCD_PID")
  "$BENCH" --target etcd --server "127.0.0.1:$ETCD_PORT" -w ready \
    --ready_timeout 30 > /dev/null 2>&1
}

# Rows held against the ceiling: on Atlas, the ceiling is measured on the
# row's own fresh server right before the row (label ceiling-ROW), so the
# fraction compares two figures of one process at one time.
CEILING_ROWS=" write write-100b write-h2 write-100b-h2 write-basic-h2 "

# run_row ROW TARGET PORT PID ROUND: one row of the table on one target.
run_row() {
  local row="$1" target="$2" port="$3" pid="$4" round="$5"
  if [[ "$target" == atlas && "$CEILING_ROWS" == *" $row "* ]]; then
    run_h2load "ceiling-$row" atlas "$port" /grpc.health.v1.Health/Check \
      health.bin "$round"
  fi
  case "$row" in
    idle)
      bench idle "$target" "$port" "$round" -w idle --streams 10000 \
        --watch_channels 32 --server_pid "$pid" --hold 5 ;;
    idle-shared)
      # The same 10,000 watches, 100 to a stream (Atlas WatchMany; etcd's
      # Watch stream carries several watchers the same way).
      bench idle-shared "$target" "$port" "$round" -w idle --streams 10000 \
        --watches_per_stream 100 --watch_channels 32 --server_pid "$pid" \
        --hold 5 ;;
    write)
      bench write "$target" "$port" "$round" -w write -c 256 \
        --payload_bytes 1024 --server_pid "$pid" ;;
    write-100b)
      bench write-100b "$target" "$port" "$round" -w write -c 256 \
        --payload_bytes 100 --server_pid "$pid" ;;
    write-hot)
      bench write-hot "$target" "$port" "$round" -w write -c 256 \
        --payload_bytes 1024 --keys 1 \
        --server_pid "$pid" ;;
    read)
      bench read "$target" "$port" "$round" -w read -c 256 \
        --payload_bytes 1024 --read_keys 10000 \
        --server_pid "$pid" ;;
    # The same calls sent by atlas-bench's light HTTP/2 client (nghttp2, one
    # thread), spread like h2load -c 8 -m 32: it costs a fraction of gRPC's
    # client CPU, which otherwise takes cores from the server under test.
    write-h2)
      bench write-h2 "$target" "$port" "$round" -w write -c 256 \
        --client h2 --channels 8 --payload_bytes 1024 \
        --server_pid "$pid" ;;
    write-100b-h2)
      bench write-100b-h2 "$target" "$port" "$round" -w write -c 256 \
        --client h2 --channels 8 --payload_bytes 100 \
        --server_pid "$pid" ;;
    write-basic-h2)
      # Atlas answers with the revision and the entity's output-only fields
      # (WRITE_VIEW_BASIC), as etcd's Put answers with the revision.
      bench write-basic-h2 "$target" "$port" "$round" -w write -c 256 \
        --client h2 --channels 8 --payload_bytes 1024 --write_basic_view \
        --server_pid "$pid" ;;
    read-h2)
      bench read-h2 "$target" "$port" "$round" -w read -c 256 \
        --client h2 --channels 8 --payload_bytes 1024 \
        --read_keys 10000 --server_pid "$pid" ;;
    apply)
      [[ "$target" == atlas ]] || return 0
      bench apply "$target" "$port" "$round" -w apply -c 16 --batch 100 \
        --payload_bytes 1024 --server_pid "$pid" ;;
    apply-100b)
      [[ "$target" == atlas ]] || return 0
      bench apply-100b "$target" "$port" "$round" -w apply -c 16 --batch 100 \
        --payload_bytes 100 --server_pid "$pid" ;;
    apply-basic)
      # The same, with results that leave out the content (APPLY_VIEW_BASIC).
      [[ "$target" == atlas ]] || return 0
      bench apply-basic "$target" "$port" "$round" -w apply -c 16 --batch 100 \
        --payload_bytes 1024 --apply_basic_view \
        --server_pid "$pid" ;;
    apply-basic-100b)
      [[ "$target" == atlas ]] || return 0
      bench apply-basic-100b "$target" "$port" "$round" -w apply -c 16 \
        --batch 100 --payload_bytes 100 --apply_basic_view \
        --server_pid "$pid" ;;
    fanout)
      bench fanout "$target" "$port" "$round" -w fanout --subscribers 1000 \
        --topics 10 --rate 1000 --payload_bytes 1024 --watch_channels 16 ;;
    fanout-h2)
      # As fanout, through the light HTTP/2 client (streams and writes).
      bench fanout-h2 "$target" "$port" "$round" -w fanout --client h2 \
        --subscribers 1000 --topics 10 --rate 1000 --payload_bytes 1024 \
        --watch_channels 16 ;;
    fanout-100b)
      bench fanout-100b "$target" "$port" "$round" -w fanout \
        --subscribers 1000 --topics 10 --rate 1000 --payload_bytes 100 \
        --watch_channels 16 ;;
    fanout-shared)
      # The same 1,000 subscribers, 100 to a stream (Atlas WatchMany; etcd
      # watchers on one Watch stream).
      bench fanout-shared "$target" "$port" "$round" -w fanout \
        --subscribers 1000 --topics 10 --rate 1000 --payload_bytes 1024 \
        --watches_per_stream 100 --watch_channels 10 ;;
    catchup)
      bench catchup "$target" "$port" "$round" -w catchup \
        --catchup_events "${CATCHUP_EVENTS:-30000}" --catchup_batch 1 \
        --payload_bytes 1024 ;;
    catchup-b100)
      [[ "$target" == atlas ]] || return 0
      bench catchup-b100 "$target" "$port" "$round" -w catchup \
        --catchup_events "${CATCHUP_B100_EVENTS:-200000}" \
        --catchup_batch 100 --payload_bytes 1024 ;;
    h2load)
      # The keys GetEntity and Range ask for (read's preload), then h2load.
      "$BENCH" --target "$target" --server "127.0.0.1:$port" -w read \
        --read_keys 10000 --duration 1 --warmup 0 > /dev/null 2>&1 || true
      if [[ "$target" == atlas ]]; then
        run_h2load ceiling atlas "$port" /grpc.health.v1.Health/Check \
          health.bin "$round"
        run_h2load h2load-get atlas "$port" /atlas.v1.Atlas/GetEntity \
          atlas_get.bin "$round"
      else
        run_h2load h2load-put etcd "$port" /etcdserverpb.KV/Put \
          etcd_put.bin "$round"
        run_h2load h2load-range etcd "$port" /etcdserverpb.KV/Range \
          etcd_range.bin "$round"
      fi ;;
  esac
}

# Every row starts from a fresh atlas-server and a fresh etcd (new data
# directories), so no row inherits another's data or compaction debt. Both
# servers run side by side; the row runs on one and then right away on the
# other (the order alternates between rounds), so the two figures of a row
# see the same machine load.
ROWS=(idle idle-shared write write-100b write-hot write-h2 write-100b-h2
      write-basic-h2
      read read-h2 apply apply-100b
      apply-basic apply-basic-100b fanout fanout-h2 fanout-100b
      fanout-shared
      catchup catchup-b100 h2load)
log "results in $OUT (work dir $WORK); $(nproc) cores"
for ((round = 1; round <= ROUNDS; round++)); do
  order=(atlas etcd)
  if ((round % 2 == 0)); then order=(etcd atlas); fi
  for row in "${ROWS[@]}"; do
    has "$row" || continue
    start_atlas
    start_etcd
    for target in "${order[@]}"; do
      if [[ "$target" == atlas ]]; then
        run_row "$row" atlas "$ATLAS_PORT" "$ATLAS_PID" "$round"
      else
        run_row "$row" etcd "$ETCD_PORT" "$ETCD_PID" "$round"
      fi
    done
    stop_server "$ATLAS_PID"
    stop_server "$ETCD_PID"
    rm -rf "$WORK/data"
  done
done
log "done"
python3 "$SUMMARY" "$OUT"
