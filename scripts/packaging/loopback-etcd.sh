# Sourced by the packaging scripts: start_loopback_etcd DIR starts a throw-away one-member etcd on free loopback
# ports with its data in DIR, sets $etcd_endpoint and $etcd_pid, and waits until it answers; stop it with
# stop_loopback_etcd. Needs Debian's etcd-server (/usr/bin/etcd) or $ETCD_BIN.
etcd_pid=
etcd_endpoint=
etcd_binary() { echo "${ETCD_BIN:-$(command -v etcd || echo /usr/bin/etcd)}"; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_loopback_etcd() {
  local dir=$1 client peer
  client=$(free_port); peer=$(free_port)
  mkdir -p "$dir"
  "$(etcd_binary)" --name pkg --data-dir "$dir/data" --listen-client-urls "http://127.0.0.1:$client" \
    --advertise-client-urls "http://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" --initial-cluster "pkg=http://127.0.0.1:$peer" \
    >"$dir/etcd.log" 2>&1 &
  etcd_pid=$!
  etcd_endpoint=http://127.0.0.1:$client
  for _ in $(seq 1 100); do
    if curl -fs "$etcd_endpoint/health" 2>/dev/null | grep -q true; then return 0; fi
    sleep 0.2
  done
  echo "Error: the loopback etcd did not start; its log is $dir/etcd.log" >&2
  return 1
}
stop_loopback_etcd() {
  if [ -n "$etcd_pid" ]; then kill "$etcd_pid" 2>/dev/null || true; wait "$etcd_pid" 2>/dev/null || true; fi
  etcd_pid=
}
