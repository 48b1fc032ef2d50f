#!/usr/bin/env bash
# persona.refresh_profiles scheduled with the real pg_cron (Debian's
# postgresql-15-cron, preloaded by scripts/cluster.sh; its scheduler lives in
# database postgres and runs jobs elsewhere with cron.schedule_in_database):
# events arrive, the job runs on its own, cron.job_run_details shows success,
# and the profiles have changed. pg_cron 1.4 schedules by the minute, so this
# waits up to about two minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

PORT=${PERSONA_TEST_PORT:-55498}
scripts/cluster.sh start regress "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
DB=persona_cron
JOB=persona_e2e_refresh
fail() { echo "FAIL: $*" >&2; exit 1; }
cron() { "${PSQL[@]}" -d postgres -At "$@"; }
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }

cron -c "CREATE EXTENSION IF NOT EXISTS pg_cron"
cron -c "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = '$JOB'" >/dev/null
cron -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql -c "CREATE EXTENSION persona" \
    -c "CREATE TABLE events (user_id bigint, item_id int, event_type text, event_time timestamptz, price numeric)" \
    -c "INSERT INTO events SELECT u, u % 7, 'view', now() - interval '10 days' + u * interval '1 hour' FROM generate_series(1, 50) u" \
    -c "SELECT profiles FROM persona.build_profiles('shop', 'events', price_col => 'price')" >/dev/null
[ "$(sql -c "SELECT count(*) FROM persona.profiles WHERE frequency = 0")" = 50 ] || fail "build did not write 50 profiles"

jobid=$(cron -c "SELECT cron.schedule_in_database('$JOB', '* * * * *', \$\$SELECT persona.refresh_profiles('shop')\$\$, '$DB')")
trap 'cron -c "SELECT cron.unschedule($jobid)" >/dev/null 2>&1 || true' EXIT
# New purchases by users 1-3 and a new user 51, after the build.
sql -c "INSERT INTO events SELECT u, 1, 'purchase', now(), 20 FROM unnest('{1,2,3,51}'::int[]) u"
inserted=$(sql -c "SELECT now()")
echo "scheduled job $jobid; waiting for a run that starts after $inserted"

deadline=$((SECONDS + 150))
status=
while ((SECONDS < deadline)); do
    status=$(cron -c "SELECT status FROM cron.job_run_details WHERE jobid = $jobid AND start_time > '$inserted' AND status IN ('succeeded', 'failed') ORDER BY start_time LIMIT 1")
    [ -n "$status" ] && break
    sleep 2
done
[ -n "$status" ] || fail "the job did not run within 150 s"
details=$(cron -c "SELECT status || ': ' || coalesce(return_message, '') FROM cron.job_run_details WHERE jobid = $jobid AND start_time > '$inserted' ORDER BY start_time LIMIT 1")
echo "job run: $details"
[ "$status" = succeeded ] || fail "job run: $details"

got=$(sql -c "SELECT string_agg(user_id || ':' || frequency || ':' || monetary, ' ' ORDER BY user_id) FROM persona.profiles WHERE frequency > 0")
[ "$got" = "1:1:20 2:1:20 3:1:20 51:1:20" ] || fail "profiles after the job: '$got'"
[ "$(sql -c "SELECT count(*) FROM persona.profiles")" = 51 ] || fail "expected 51 profiles"
[ "$(sql -c "SELECT refreshed_at IS NOT NULL FROM persona.profile_definitions WHERE name = 'shop'")" = t ] || fail "refreshed_at not set"
echo "pg_cron ran persona.refresh_profiles: users 1, 2, 3 and the new user 51 now show their purchases"
