#!/usr/bin/env bash
# persona.progress from other sessions' point of view:
#  1. a running kmeans_train has a row (job, database, role, phase, iterations
#     done of the total, rate, time left) whose count advances between reads;
#  2. a role that is neither the job's nor in pg_monitor sees no row of it,
#     a member of pg_monitor does;
#  3. after pg_cancel_backend() the row is gone (the backend lives on);
#  4. after a job ends normally its row is gone;
#  5. a row goes when its backend exits.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

PORT=${PERSONA_TEST_PORT:-55498}
scripts/cluster.sh start regress "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
DB=persona_e2e_progress
fail() { echo "FAIL: $*" >&2; exit 1; }
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }
as_role() { local role=$1; shift; "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U "$role" -d "$DB" -At "$@"; }
# Polls a query every 0.1 s until it prints t, for at most $2 seconds.
wait_for() {
    local query=$1 limit=$2 i
    for ((i = 0; i < limit * 10; i++)); do
        [ "$(sql -c "$query")" = t ] && return 0
        sleep 0.1
    done
    return 1
}

"${PSQL[@]}" -d postgres -At -c "SHOW shared_preload_libraries" | grep -Eq '(^|,) *persona *(,|$)' \
    || fail "persona is not in shared_preload_libraries of cluster regress (initialised before scripts/cluster.sh preloaded it? stop it and remove $PERSONA_STATE/regress)"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" \
    -c "DROP ROLE IF EXISTS progress_nobody" -c "DROP ROLE IF EXISTS progress_watch" \
    -c "CREATE ROLE progress_nobody LOGIN" -c "CREATE ROLE progress_watch LOGIN IN ROLE pg_monitor"
# Random vectors (the subquery refers to i, so each row gets its own).
sql -c "CREATE EXTENSION persona" \
    -c "CREATE TABLE v AS SELECT i AS id, ARRAY(SELECT (random() + i * 0)::real FROM generate_series(1, 32)) AS v
        FROM generate_series(1, 100000) i"

# 4. A job that ends normally: its own session has no row right after it.
left=$(sql -c "SET client_min_messages = warning" -c "SELECT version FROM persona.kmeans_train('small', '(SELECT * FROM v WHERE id <= 2000)', 'v', key_col => 'id', k => 5, n_init => 1)" \
           -c "SELECT count(*) FROM persona.progress WHERE pid = pg_backend_pid()" 2>&1 | tail -1) \
    || fail "the short kmeans_train failed: $left"
[ "$left" = 0 ] || fail "a finished kmeans_train left $left rows in persona.progress"

# 1. A long job: 50 clusters, restarts of up to 1000 iterations each (tol 0
# never converges early). Without ON_ERROR_STOP, so that its session goes on
# after the cancel and reports whether it still has a row.
job_out=$PERSONA_STATE/e2e_progress_job.out
PGAPPNAME=e2e_progress "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$PORT" -U postgres -d "$DB" -c "SET client_min_messages = warning" \
    -c "SELECT version FROM persona.kmeans_train('big', 'v', 'v', key_col => 'id', k => 50, n_init => 100, max_iter => 1000, tol => 0)" \
    -c "SELECT 'rows after the cancel: ' || count(*) FROM persona.progress WHERE pid = pg_backend_pid()" \
    >"$job_out" 2>&1 &
job_psql=$!
# On a failure below, the job must not go on burning the server's cores.
stop_job() { sql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'e2e_progress'" >/dev/null 2>&1 || true; }
trap stop_job EXIT
wait_for "SELECT EXISTS (SELECT FROM persona.progress p JOIN pg_stat_activity a USING (pid)
          WHERE a.application_name = 'e2e_progress' AND p.phase LIKE 'run %, iteration %')" 60 \
    || fail "no kmeans_train row in an iteration phase within 60 s: $(sql -c 'SELECT * FROM persona.progress'; cat "$job_out")"
pid=$(sql -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'e2e_progress'")
row() { sql -F'|' -c "SELECT job, database, role, unit, total, done, rate > 0, time_left > interval '0', started_at <= updated_at
                      FROM persona.progress WHERE pid = $pid"; }
first=$(row)
echo "row: $first"
IFS='|' read -r job database role unit total done1 rate_ok left_ok times_ok <<<"$first"
[ "$job|$database|$role|$unit|$total" = "kmeans_train|$DB|postgres|iterations|100000" ] \
    || fail "unexpected row: $first (want kmeans_train, $DB, postgres, iterations, 100000 = n_init x max_iter)"
[ "$rate_ok|$left_ok|$times_ok" = "t|t|t" ] || fail "rate, time left or times not as expected: $first"
done2=$done1
for _ in $(seq 50); do
    sleep 0.1
    done2=$(sql -c "SELECT done FROM persona.progress WHERE pid = $pid")
    [ "${done2:-0}" -gt "$done1" ] && break
done
[ "${done2:-0}" -gt "$done1" ] || fail "done did not advance in 5 s ($done1, then ${done2:-no row})"
echo "iterations done: $done1, then $done2"

# 2. Who sees the row.
[ "$(as_role progress_nobody -c "SELECT count(*) FROM persona.progress WHERE pid = $pid")" = 0 ] \
    || fail "a role outside the job's role and pg_monitor sees the job"
[ "$(as_role progress_watch -c "SELECT count(*) FROM persona.progress WHERE pid = $pid")" = 1 ] \
    || fail "a member of pg_monitor does not see the job"

# 3. Cancel: the job's session says it has no row left, and others see none.
sql -c "SELECT pg_cancel_backend($pid)" >/dev/null
wait "$job_psql" || true
trap - EXIT
grep -q "canceling statement due to user request" "$job_out" || fail "not cancelled: $(cat "$job_out")"
grep -q "^rows after the cancel: 0$" "$job_out" || fail "the cancelled job's row stayed: $(cat "$job_out")"
[ "$(sql -c "SELECT count(*) FROM persona.progress WHERE job = 'kmeans_train'")" = 0 ] || fail "a kmeans_train row is left"

# 5. Backend exit: an idle session's row (begun by the SQL functions, which
# keep it across commits) goes when the backend is terminated.
fifo=$PERSONA_STATE/e2e_progress.fifo
rm -f "$fifo"; mkfifo "$fifo"
PGAPPNAME=e2e_progress_idle "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U progress_nobody -d "$DB" <"$fifo" >/dev/null 2>&1 &
idle_psql=$!
exec 3>"$fifo"
echo "SELECT persona._progress_begin('report', 'waiting', 'steps', 1);" >&3
wait_for "SELECT EXISTS (SELECT FROM persona.progress p JOIN pg_stat_activity a USING (pid)
          WHERE a.application_name = 'e2e_progress_idle' AND a.state = 'idle' AND p.role = 'progress_nobody')" 10 \
    || fail "the idle session's row did not appear"
[ "$(as_role progress_nobody -c "SELECT count(*) FROM persona.progress WHERE job = 'report'")" = 1 ] \
    || fail "a role does not see its own job"
sql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'e2e_progress_idle'" >/dev/null
wait_for "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'e2e_progress_idle')" 10 \
    || fail "the idle session did not end"
[ "$(sql -c "SELECT count(*) FROM persona.progress WHERE job = 'report'")" = 0 ] || fail "an exited backend's row stayed"
exec 3>&-
wait "$idle_psql" || true
rm -f "$fifo"

[ "$(sql -c 'SELECT 42')" = 42 ] || fail "server unusable"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE progress_nobody" -c "DROP ROLE progress_watch"
echo "e2e progress: ok"
