#!/usr/bin/env bash
# A throwaway PostgreSQL (Debian's postgresql package, no systemd) for the kine tests: a cluster in DIR listening on
# 127.0.0.1:PORT only, a role and database "kine" for kine, then the kine endpoint on stdout (logs on stderr).
#   scripts/kine-postgres.sh start DIR PORT   prints postgres://kine:kine@127.0.0.1:PORT/kine?sslmode=disable
#   scripts/kine-postgres.sh stop DIR
# PostgreSQL refuses to run as root: as root the server runs as the "postgres" user the package created.
set -euo pipefail

bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ ! -x "$bin/initdb" ]; then
    echo "scripts/kine-postgres.sh: no PostgreSQL server (apt-get install postgresql; scripts/test.sh does)" >&2
    exit 1
fi
as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "${1:-}" in
stop)
    as_server_user "$bin/pg_ctl" -D "$2/pgdata" -m immediate -w stop >&2 || true
    exit 0
    ;;
start) ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
dir="$(cd "$2" && pwd)"
port="$3"
mkdir -p "$dir/pgdata" "$dir/pgsock"
if [ "$(id -u)" -eq 0 ]; then
    # the server user must reach its dirs through the test's temp dir
    chmod o+x "$dir"
    chown postgres: "$dir/pgdata" "$dir/pgsock"
fi
chmod 700 "$dir/pgdata"
# trust on the socket (only the server user reaches it, in DIR); kine logs in over TCP with a password
as_server_user "$bin/initdb" -D "$dir/pgdata" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 \
    --locale=C --no-sync >&2
# durability off: a test database lives for a minute
as_server_user "$bin/pg_ctl" -D "$dir/pgdata" -l "$dir/pgdata/server.log" -w -t 60 -o "-c listen_addresses=127.0.0.1 \
    -p $port -k $dir/pgsock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >&2
as_server_user "$bin/psql" -h "$dir/pgsock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q >&2 <<'SQL'
CREATE ROLE kine LOGIN PASSWORD 'kine';
CREATE DATABASE kine OWNER kine;
SQL
echo "postgres://kine:kine@127.0.0.1:$port/kine?sslmode=disable"
