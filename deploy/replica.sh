#!/usr/bin/env bash
# A throwaway PostgreSQL primary and its streaming read replica on this host, for
# the read-replica test (tests/test_replica.py) and for trying DATABASE_REPLICA_URL
# by hand. Never the portal's own cluster: its own primary on 5433 (initdb), the
# replica on 5434 made from it with pg_basebackup -R. Both are disposable (fsync
# off); nothing here is a way to run a bank's database.
#
#   bash deploy/replica.sh start          # make whatever is missing, start both, wait for streaming
#   bash deploy/replica.sh stop-replica   # stop the replica only (the fall-back test)
#   bash deploy/replica.sh start-replica  # start it again; it catches up from the primary
#   bash deploy/replica.sh status         # which of the two runs
#   bash deploy/replica.sh destroy        # stop both and remove their files
#
# Every subcommand can be run again: start starts what is stopped and makes what is
# missing; stop and destroy leave alone what is already gone.
#
# Then: DATABASE_URL=postgres://postgres@127.0.0.1:5433/<db>
#       DATABASE_REPLICA_URL=postgres://postgres@127.0.0.1:5434/<db>
set -euo pipefail

BASE=${CRM_REPLICA_DIR:-/var/tmp/crm-replica}
# the newest PostgreSQL installed (Debian's layout), unless PG_BIN says
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)}
PRIMARY_PORT=${CRM_REPLICA_PRIMARY_PORT:-5433}
REPLICA_PORT=${CRM_REPLICA_PORT:-5434}
PRIMARY="$BASE/primary"
if [ ! -x "$PG_BIN/initdb" ]; then
  echo "replica.sh: no PostgreSQL server programs in '$PG_BIN' (set PG_BIN)" >&2
  exit 1
fi
REPLICA="$BASE/replica"

# PostgreSQL's server programs refuse to run as root: as root, run them as postgres.
if [ "$(id -u)" = 0 ]; then
  as_owner() { runuser -u postgres -- "$@"; }
  owner=postgres
else
  as_owner() { "$@"; }
  owner=$(id -un)
fi

say() { printf 'replica.sh: %s\n' "$*"; }
running() { [ -f "$1/PG_VERSION" ] && as_owner "$PG_BIN/pg_ctl" status -D "$1" >/dev/null 2>&1; }
sql() { "$PG_BIN/psql" -h 127.0.0.1 -p "$1" -U postgres -d postgres -X -q -A -t -c "$2"; }

start_server() { # data dir, log file
  if running "$1"; then return 0; fi
  as_owner "$PG_BIN/pg_ctl" start -D "$1" -l "$2" -w -t 30 >/dev/null
}

stop_server() { # data dir
  if running "$1"; then
    as_owner "$PG_BIN/pg_ctl" stop -D "$1" -m fast -w -t 30 >/dev/null
  fi
}

make_primary() {
  [ -f "$PRIMARY/PG_VERSION" ] && return 0
  say "initdb $PRIMARY (port $PRIMARY_PORT)"
  rm -rf "$PRIMARY"
  as_owner "$PG_BIN/initdb" -D "$PRIMARY" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N >/dev/null
  cat >>"$PRIMARY/postgresql.conf" <<EOF

# deploy/replica.sh: a disposable primary for the read-replica test
port = $PRIMARY_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$BASE'
wal_level = replica
max_wal_senders = 4
max_connections = 50
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  echo "host replication postgres 127.0.0.1/32 trust" >>"$PRIMARY/pg_hba.conf"
}

make_replica() {
  [ -f "$REPLICA/PG_VERSION" ] && return 0
  say "pg_basebackup -R $PRIMARY_PORT -> $REPLICA (port $REPLICA_PORT)"
  rm -rf "$REPLICA"
  as_owner "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$REPLICA" \
    -R -X stream -c fast
  # the configuration came with the copy; the replica listens on its own port
  cat >>"$REPLICA/postgresql.conf" <<EOF

# deploy/replica.sh: the streaming replica
port = $REPLICA_PORT
hot_standby = on
hot_standby_feedback = on
EOF
}

wait_for_streaming() {
  for _ in $(seq 1 100); do
    if [ "$(sql "$PRIMARY_PORT" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null)" = 1 ] \
      && [ "$(sql "$REPLICA_PORT" "SELECT pg_is_in_recovery()" 2>/dev/null)" = t ]; then
      return 0
    fi
    sleep 0.1
  done
  say "the replica on $REPLICA_PORT does not stream from $PRIMARY_PORT (see $BASE/replica.log)" >&2
  return 1
}

case "${1:-}" in
  start)
    mkdir -p "$BASE"
    chown "$owner" "$BASE"
    chmod 700 "$BASE"
    make_primary
    start_server "$PRIMARY" "$BASE/primary.log"
    make_replica
    start_server "$REPLICA" "$BASE/replica.log"
    wait_for_streaming
    say "primary 127.0.0.1:$PRIMARY_PORT, replica 127.0.0.1:$REPLICA_PORT (streaming)"
    ;;
  stop-replica)
    if running "$REPLICA"; then
      stop_server "$REPLICA"
      say "replica stopped"
    else
      say "replica not running"
    fi
    ;;
  start-replica)
    if [ ! -f "$REPLICA/PG_VERSION" ]; then
      say "no replica in $REPLICA: run 'bash deploy/replica.sh start'" >&2
      exit 1
    fi
    start_server "$REPLICA" "$BASE/replica.log"
    if running "$PRIMARY"; then wait_for_streaming; fi
    say "replica started"
    ;;
  status)
    for dir in "$PRIMARY" "$REPLICA"; do
      if running "$dir"; then say "$(basename "$dir"): running"; else say "$(basename "$dir"): stopped"; fi
    done
    ;;
  destroy)
    stop_server "$REPLICA"
    stop_server "$PRIMARY"
    rm -rf "$BASE"
    say "removed $BASE"
    ;;
  *)
    echo "usage: $0 start | stop-replica | start-replica | status | destroy" >&2
    exit 2
    ;;
esac
