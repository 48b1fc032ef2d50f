#!/usr/bin/env bash
# persona.kmeans_train from another session's point of view:
#  1. it reports a NOTICE per iteration (inertia, moved rows, time);
#  2. pg_cancel_backend() stops it within about one iteration, the backend
#     stays usable, and the previous version of the model stays current.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

PORT=${PERSONA_TEST_PORT:-55498}
scripts/cluster.sh start regress "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
DB=persona_e2e_kmeans
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
sql -c "CREATE EXTENSION persona" \
    -c "CREATE TABLE v AS SELECT i AS id, ARRAY(SELECT (sin(i * 0.37 + d) * 3 + (i % 7))::real FROM generate_series(1, 32) d) AS v
        FROM generate_series(1, 200000) i"

# Version 1, trained on a few rows; its NOTICEs show one line per iteration.
notices=$("${PSQL[@]}" -d "$DB" -c "SELECT version FROM persona.kmeans_train('m', '(SELECT * FROM v WHERE id <= 2000)', 'v', key_col => 'id', k => 5, n_init => 1)" 2>&1)
echo "$notices" | grep -Eq "NOTICE:  kmeans_train: run 1/1, iteration 1: inertia [0-9.]+, moved 2000, [0-9.]+ s" \
    || fail "no per-iteration NOTICE: $notices"

# Version 2 on all rows, with many iterations: cancelled from another session.
(sleep 4; sql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'e2e_kmeans' AND state = 'active'" >/dev/null; date +%s.%N >"$PERSONA_STATE/kmeans_cancel_at") &
set +e
PGAPPNAME=e2e_kmeans "${PSQL[@]}" -d "$DB" -c "SET client_min_messages = warning" \
    -c "SELECT version FROM persona.kmeans_train('m', 'v', 'v', key_col => 'id', k => 50, n_init => 100, max_iter => 1000, tol => 0)" \
    >"$PERSONA_STATE/e2e_kmeans.out" 2>&1
rc=$?
set -e
ended=$(date +%s.%N)
wait
grep -q "canceling statement due to user request" "$PERSONA_STATE/e2e_kmeans.out" \
    || fail "not cancelled (rc $rc): $(cat "$PERSONA_STATE/e2e_kmeans.out")"
lag=$(awk -v a="$ended" -v b="$(cat "$PERSONA_STATE/kmeans_cancel_at")" 'BEGIN { print a - b }')
printf 'kmeans_train cancelled %.2f s after pg_cancel_backend\n' "$lag"
awk -v l="$lag" 'BEGIN { exit !(l < 2) }' || fail "took $lag s to stop"
[ "$(sql -c 'SELECT max(version) FROM persona.kmeans_models WHERE name = $$m$$')" = 1 ] || fail "version 1 is no longer current"
[ "$(sql -c 'SELECT count(*) FROM persona.segment_members WHERE model = $$m$$')" = 2000 ] || fail "version 1's members changed"
[ "$(sql -c 'SELECT 42')" = 42 ] || fail "backend unusable"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
echo "e2e kmeans_cancel: ok"
