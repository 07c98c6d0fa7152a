# Shared by setup.sh and postgres.sh (sourced): how to tell that PostgreSQL is usable here.

# ready HOST PORT: a server accepts connections there.
ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$1" -p "$2" 2>/dev/null
  else
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
  fi
}

# usable_5432: the server on 127.0.0.1:5432 lets user postgres in without a password, as the
# URLs Lux builds expect. A server that asks for one (a distribution's default cluster with
# scram-sha-256 on host connections) is not used: Lux starts its own cluster instead. Without
# psql to ask, a server that answers is taken as it is.
usable_5432() {
  ready 127.0.0.1 5432 || return 1
  command -v psql >/dev/null 2>&1 || return 0
  PGCONNECT_TIMEOUT=5 psql -w -q -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atc 'SELECT 1' >/dev/null 2>&1
}

# pg_bindir: the directory of the installed server binaries (initdb, pg_ctl), or nothing.
pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$d" ] && command -v pg_config >/dev/null 2>&1; then d=$(pg_config --bindir 2>/dev/null || true); fi
  if [ -z "$d" ] && command -v initdb >/dev/null 2>&1; then d=$(dirname "$(command -v initdb)"); fi
  if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; fi
}
