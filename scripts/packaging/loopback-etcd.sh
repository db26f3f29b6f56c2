# shellcheck shell=bash
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
# start_loopback_etcd_cluster DIR N: a throw-away N-member etcd cluster on free loopback ports (data in DIR), for the
# demos; sets the arrays etcd_clients (one client URL per member) and etcd_pids, and waits until every member answers.
start_loopback_etcd_cluster() {
  local dir=$1 n=$2 cluster="" i
  local -a peers=()
  etcd_clients=() etcd_pids=()
  mkdir -p "$dir"
  for ((i = 0; i < n; i++)); do
    etcd_clients[i]=http://127.0.0.1:$(free_port); peers[i]=http://127.0.0.1:$(free_port)
    cluster+="${cluster:+,}m$i=${peers[i]}"
  done
  for ((i = 0; i < n; i++)); do
    "$(etcd_binary)" --name "m$i" --data-dir "$dir/m$i" \
      --listen-client-urls "${etcd_clients[i]}" --advertise-client-urls "${etcd_clients[i]}" \
      --listen-peer-urls "${peers[i]}" --initial-advertise-peer-urls "${peers[i]}" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "demo-$$" \
      >"$dir/m$i.log" 2>&1 &
    etcd_pids[i]=$!
  done
  for ((i = 0; i < n; i++)); do
    local up=0
    for _ in $(seq 1 100); do
      if curl -fs "${etcd_clients[i]}/health" 2>/dev/null | grep -q '"health":"true"'; then up=1; break; fi
      sleep 0.2
    done
    if [ "$up" -ne 1 ]; then
      echo "Error: etcd member m$i did not start; its log is $dir/m$i.log" >&2
      return 1
    fi
  done
}
