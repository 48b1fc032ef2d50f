#!/usr/bin/env bash
# A private PostgreSQL 15 cluster on a loopback port, run as the postgres user.
#   scripts/cluster.sh start NAME PORT   initialise if needed, start if stopped
#   scripts/cluster.sh stop NAME
# Data lives in $PERSONA_STATE/NAME (default /var/tmp/persona/NAME). pg_cron is preloaded;
# its scheduler lives in database postgres (jobs use cron.schedule_in_database), so that
# test databases can be dropped and re-created while it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

cmd=${1:?start|stop}; name=${2:?cluster name}
dir=$PERSONA_STATE/$name
data=$dir/pgdata

case $cmd in
start)
    port=${3:?port}
    mkdir -p "$dir"; chown postgres:postgres "$dir"; chmod 755 "$PERSONA_STATE" "$dir"
    if [ ! -f "$data/PG_VERSION" ]; then
        log "initialising cluster $name in $data"
        as_postgres "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
        cat >>"$data/postgresql.conf" <<CONF
# persona private cluster
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_cron,persona'
cron.database_name = 'postgres'
max_worker_processes = 16
max_parallel_workers_per_gather = 2
CONF
    fi
    if ! as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        # The server outlives this script: it must not inherit descriptors
        # beyond the standard three (a caller's flock would stay held by it).
        (
            for fd in /proc/self/fd/*; do
                fd=${fd##*/}
                if ((fd > 2 && fd != 255)); then eval "exec $fd>&-"; fi
            done 2>/dev/null
            as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null
        )
    fi
    ;;
stop)
    if [ -f "$data/PG_VERSION" ] && as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_postgres "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
    ;;
*) echo "usage: $0 start NAME PORT | stop NAME" >&2; exit 2 ;;
esac
