#!/usr/bin/env bash
# Three sessions train the same K-Means model at once. Trainings of one name
# are serialised before any work (a lock on the name): each makes the next
# version, none fails with a duplicate key after training.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

PORT=${PERSONA_TEST_PORT:-55498}
scripts/cluster.sh start regress "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
DB=persona_e2e_concurrent
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
sql -c "CREATE EXTENSION persona" \
    -c "CREATE TABLE v AS SELECT i AS id, ARRAY(SELECT (sin(i * 0.37 + d) * 3 + (i % 7))::real FROM generate_series(1, 16) d) AS v
        FROM generate_series(1, 60000) i"

pids=()
for s in 1 2 3; do
    sql -c "SET client_min_messages = warning" \
        -c "SELECT version FROM persona.kmeans_train('same', 'v', 'v', key_col => 'id', k => 8, n_init => 2, seed => $s)" \
        >"$PERSONA_STATE/e2e_concurrent_$s.out" 2>&1 &
    pids+=($!)
done
failed=0
for i in 0 1 2; do
    wait "${pids[$i]}" || { failed=1; echo "session $((i + 1)): $(cat "$PERSONA_STATE/e2e_concurrent_$((i + 1)).out")" >&2; }
done
((failed == 0)) || fail "a concurrent training failed"
versions=$(sort -n "$PERSONA_STATE"/e2e_concurrent_{1,2,3}.out | tr '\n' ' ')
[ "$versions" = "1 2 3 " ] || fail "versions made: $versions (want 1 2 3)"
[ "$(sql -c "SELECT count(*) FROM persona.kmeans_models WHERE name = 'same'")" = 3 ] || fail "not three versions stored"
[ "$(sql -c "SELECT count(*) FROM persona.segment_members WHERE model = 'same'")" = 60000 ] || fail "current version's members"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
echo "e2e concurrent_train: ok (versions $versions)"
