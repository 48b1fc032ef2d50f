#!/usr/bin/env bash
# persona.recommend_all from another session's point of view:
#  1. it reports progress NOTICEs (users done, users/s);
#  2. pg_cancel_backend() stops it within about one block of users, the
#     backend stays usable, and the lists of the previous run stay readable.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

PORT=${PERSONA_TEST_PORT:-55498}; CLUSTER=${PERSONA_TEST_CLUSTER:-regress}
scripts/cluster.sh start "$CLUSTER" "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
DB=persona_e2e_recommend
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
sql -c "CREATE EXTENSION persona" \
    -c "CREATE TABLE items AS SELECT i AS item_id, ARRAY(SELECT sin(i * 0.37 + d)::real FROM generate_series(1, 32) d) AS v
        FROM generate_series(1, 40000) i" \
    -c "CREATE TABLE users AS SELECT u AS user_id, ARRAY(SELECT cos(u * 0.11 + d * 0.7)::real FROM generate_series(1, 32) d) AS v
        FROM generate_series(1, 150000) u"
sql -c "SET client_min_messages = warning" \
    -c "SELECT 1 FROM persona.train_recommender('m', method => 'vectors', user_vectors => 'users', item_vectors => 'items')" >/dev/null

# A first run on 2,000 users; its NOTICEs report progress.
sql -c "SELECT 1 FROM persona.train_recommender('m', method => 'vectors', user_vectors => '(SELECT * FROM users WHERE user_id <= 2000)', item_vectors => 'items')" >/dev/null 2>&1
notices=$("${PSQL[@]}" -d "$DB" -c "SELECT users FROM persona.recommend_all(5, 'm', batch_size => 500)" 2>&1)
echo "$notices" | grep -Eq "NOTICE:  recommend_all: 2000 of 2000 users, [0-9]+ users/s" || fail "no progress NOTICE: $notices"
[ "$(sql -c "SELECT count(*) FROM persona.recommendations WHERE model = 'm'")" = 10000 ] || fail "first run did not write 10000 rows"

# All 150,000 users, cancelled from another session while it runs.
sql -c "SET client_min_messages = warning" \
    -c "SELECT 1 FROM persona.train_recommender('m', method => 'vectors', user_vectors => 'users', item_vectors => 'items')" >/dev/null
(sleep 3; sql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'e2e_recommend' AND state = 'active'" >/dev/null; date +%s.%N >"$PERSONA_STATE/recommend_cancel_at") &
set +e
PGAPPNAME=e2e_recommend "${PSQL[@]}" -d "$DB" -c "SET client_min_messages = warning" \
    -c "SELECT users FROM persona.recommend_all(10, 'm', batch_size => 2000)" >"$PERSONA_STATE/e2e_recommend.out" 2>&1
rc=$?
set -e
ended=$(date +%s.%N)
wait
grep -q "canceling statement due to user request" "$PERSONA_STATE/e2e_recommend.out" \
    || fail "not cancelled (rc $rc): $(cat "$PERSONA_STATE/e2e_recommend.out")"
lag=$(awk -v a="$ended" -v b="$(cat "$PERSONA_STATE/recommend_cancel_at")" 'BEGIN { print a - b }')
printf 'recommend_all cancelled %.2f s after pg_cancel_backend\n' "$lag"
awk -v l="$lag" 'BEGIN { exit !(l < 2) }' || fail "took $lag s to stop"
[ "$(sql -c "SELECT count(*) FROM persona.recommendations WHERE model = 'm'")" = 10000 ] || fail "the previous lists are gone"
[ "$(sql -c 'SELECT 42')" = 42 ] || fail "backend unusable"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
echo "e2e recommend_cancel: ok"
