# bench_servers.sh: sourced by the benchmark scripts of tests/bench/, so that
# every comparison starts etcd the same way.

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
