#!/usr/bin/env bash
# Finds or starts a PostgreSQL server for Lux and prints a database URL for database $1
# (default lux):
#   1. DATABASE_URL, when set;
#   2. the server on 127.0.0.1:5432, when one answers and lets user postgres in without a
#      password;
#   3. otherwise (or with LUX_PRIVATE_PG=1) a private cluster on port 55432, created on first
#      use from the installed PostgreSQL binaries: under .data/postgres, or — as root, when the
#      postgres user cannot reach the clone (a home directory such as /root is private) — under
#      the postgres user's home.
set -euo pipefail
db="${1:-lux}"
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/pglib.sh"

if [ -n "${DATABASE_URL:-}" ]; then
  echo "$DATABASE_URL"
  exit 0
fi

if [ -z "${LUX_PRIVATE_PG:-}" ] && usable_5432; then
  echo "postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
  exit 0
fi

pgbin=$(pg_bindir)
if [ -z "$pgbin" ]; then
  echo "No PostgreSQL Lux can use is running on 127.0.0.1:5432 and none is installed." >&2
  echo "Install it with:  sudo apt-get install -y postgresql   (or set DATABASE_URL)" >&2
  exit 1
fi

dir="$root/.data/postgres"
port=55432
as_pg() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$root/.data" && chmod 755 "$root/.data"
  if ! (cd / && runuser -u postgres -- test -x "$root/.data"); then
    # The clone is in a directory the postgres user may not enter: keep the cluster in its home.
    home=$(getent passwd postgres | cut -d: -f6)
    dir="${home:-/var/lib/postgresql}/lux-$(printf %s "$root" | sha256sum | cut -c1-12)"
  fi
fi
if ! ready 127.0.0.1 "$port"; then
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$dir/sock"
    if [ "$(id -u)" = 0 ]; then
      chown -R postgres:postgres "$dir"
    fi
    as_pg "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    echo "Created a private PostgreSQL cluster in $dir" >&2
  fi
  as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock" start >/dev/null ||
    { tail -20 "$dir/log" >&2; exit 1; }
  echo "Started the private PostgreSQL cluster on 127.0.0.1:$port (stop: $pgbin/pg_ctl -D $dir/data stop)" >&2
fi
echo "postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
