# bench_servers.sh: sourced by the benchmark scripts of tests/bench/, so that
# they find ports, start etcd, stop servers and record atlas-bench's results
# the same way.

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# launch_etcd DATA_DIR PORT LOG: starts a single-member etcd 3.4 in the
# background, clients on 127.0.0.1:PORT; $! is its PID. Durable as Atlas
# is: etcd's defaults fsync every commit before acknowledging it (no
# --unsafe-no-fsync). The backend quota is raised so that long write runs
# do not hit etcd's 2 GB default.
launch_etcd() {
  local data_dir="$1" port="$2" log="$3" peer
  peer="$(free_port)"
  etcd --name bench --data-dir "$data_dir" \
    --listen-client-urls "http://127.0.0.1:$port" \
    --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "bench=http://127.0.0.1:$peer" \
    --quota-backend-bytes 8589934592 --log-level error \
    > "$log" 2>&1 &
}

# stop_server PID: stops a server started in the background and waits for
# it; nothing if PID is empty or already gone.
stop_server() {
  [[ -n "$1" ]] || return 0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# record_result RESULTS LINE KEY=VALUE...: appends atlas-bench's JSON line
# LINE to the file RESULTS with the fields given added, in that order
# ("round" as a number). A LINE that is not JSON (atlas-bench failed) is
# recorded as a run with errors and nothing done.
record_result() {
  local results="$1" line="$2"
  shift 2
  [[ "$line" == \{* ]] || line='{"ops_per_s":0,"errors":1}'
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])
for field in sys.argv[2:]:
    key, value = field.split("=", 1)
    r[key] = int(value) if key == "round" else value
print(json.dumps(r))' "$line" "$@" >> "$results"
}
