#!/usr/bin/env bash
# A throwaway MariaDB (Debian's mariadb-server package, no systemd) for the kine tests: a server with its data in DIR
# listening on 127.0.0.1:PORT only, a database and user "kine" for kine, then the kine endpoint on stdout (logs on stderr).
#   scripts/kine-mariadb.sh start DIR PORT   prints mysql://kine:kine@tcp(127.0.0.1:PORT)/kine
#   scripts/kine-mariadb.sh stop DIR
# mariadbd refuses to run as root: as root the server runs as the "mysql" user the package created.
set -euo pipefail

PATH="$PATH:/usr/sbin:/usr/bin"
for b in mariadbd mariadb-install-db mariadb-admin mariadb; do
    if ! command -v "$b" >/dev/null 2>&1; then
        echo "scripts/kine-mariadb.sh: no MariaDB server ($b missing: apt-get install mariadb-server; scripts/test.sh does)" >&2
        exit 1
    fi
done

case "${1:-}" in
stop)
    pidfile="$2/myrun/mariadb.pid"
    if [ -f "$pidfile" ]; then
        pid="$(cat "$pidfile")"
        kill "$pid" 2>/dev/null || true
        # a test database: no need to wait out a long clean shutdown
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    exit 0
    ;;
start) ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
mkdir -p "$2"
dir="$(cd "$2" && pwd)"
port="$3"
mkdir -p "$dir/mydata" "$dir/myrun"
if [ "$(id -u)" -eq 0 ]; then
    user=mysql
    admin=root
    # the server user must reach its dirs through the test's temp dir, and write its pid file and log in myrun
    # (mariadbd crashes at start, with no log, when it cannot)
    chmod o+x "$dir"
    chown mysql: "$dir/mydata" "$dir/myrun"
else
    user="$(id -un)"
    admin="$user" # mariadb-install-db gives the OS user running it an account that logs in over the socket
fi
sock="$dir/myrun/mysqld.sock"
# --no-defaults: /etc/mysql/*.cnf would move the socket to /run/mysqld and more
mariadb-install-db --no-defaults --user="$user" --datadir="$dir/mydata" --auth-root-authentication-method=socket \
    --skip-test-db >"$dir/myrun/install-db.log" 2>&1 || { cat "$dir/myrun/install-db.log" >&2; exit 1; }
# durability off (a test database lives for a minute); the character set of Debian's 50-server.cnf
mariadbd --no-defaults --user="$user" --datadir="$dir/mydata" --bind-address=127.0.0.1 --port="$port" \
    --socket="$sock" --pid-file="$dir/myrun/mariadb.pid" --log-error="$dir/myrun/mariadb.err" --skip-log-bin \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --innodb-buffer-pool-size=64M \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    </dev/null >/dev/null 2>&1 &
server=$!
for _ in $(seq 1 600); do
    if mariadb-admin --no-defaults --socket="$sock" -u "$admin" ping >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$server" 2>/dev/null; then
        echo "scripts/kine-mariadb.sh: mariadbd exited at start:" >&2
        tail -20 "$dir/myrun/mariadb.err" >&2 || true
        exit 1
    fi
    sleep 0.1
done
mariadb --no-defaults --socket="$sock" -u "$admin" >&2 <<'SQL'
CREATE DATABASE kine;
CREATE USER 'kine'@'127.0.0.1' IDENTIFIED BY 'kine';
GRANT ALL PRIVILEGES ON kine.* TO 'kine'@'127.0.0.1';
SQL
echo "mysql://kine:kine@tcp(127.0.0.1:$port)/kine"
