#!/usr/bin/env bash
# The fuzz layer: a few thousand generated calls over every routine in schema
# persona (tests/fuzz/fuzz.py reads them from pg_proc), on the regress cluster
# in a database of its own, with real models to call into: the planted shop
# (tests/fixtures/planted_shop.sql) with item2vec, profiles, a K-Means model
# and a recommender, as tests/e2e/bi_psycopg.sh builds them. Fails on any
# XX000, lost connection, crash in the server log or call over its time limit.
# Python with psycopg 3 from the venv the BI test uses (scripts/common.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

fail() { echo "FAIL: $*" >&2; exit 1; }
started=$(date +%s)
PYTHON=$(psycopg_python) || fail "no venv with psycopg 3 (above)"

PORT=${PERSONA_TEST_PORT:-55498}
scripts/cluster.sh start regress "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
DB=persona_fuzz
# A role with no rights on the models (roles are cluster-wide: dropped after a pass).
ROLE=persona_fuzz_analyst
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" \
    -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN CREATE ROLE $ROLE; END IF; END \$\$"
"${PSQL[@]}" -d "$DB" -At -c "CREATE EXTENSION persona" -c "SET client_min_messages = warning" \
    -f tests/fixtures/planted_shop.sql \
    -c "SELECT 'item2vec: ' || items || ' items' FROM persona.train_item2vec('shop', 'shop_events', time_col => 'event_time', dim => 16, epochs => 20, seed => 3)" \
    -c "SELECT 'profiles: ' || profiles FROM persona.build_profiles('shop', 'shop_events', items => 'shop_items', item2vec_model => 'shop')" \
    -c "SELECT 'k-means: k = ' || k FROM persona.kmeans_train('shop_segments', profiles => 'shop', k_max => 6, texts => '(SELECT user_id, body FROM shop_reviews)')" \
    -c "SELECT 'recommender: ' || users || ' users' FROM persona.train_recommender('shop', 'shop_events', items => 'shop_items', category_col => 'category', users => 'shop_users', profiles => 'shop', segments => 'shop_segments')" \
    -c "SELECT 'recommend_all: ' || recommendations FROM persona.recommend_all(10, 'shop')" \
    -c "CREATE TABLE fuzz_events AS SELECT * FROM shop_events WHERE user_id <= 40 OR user_id > 800" \
    -c "SELECT 'small profiles: ' || profiles FROM persona.build_profiles('fuzz_small', 'fuzz_events', items => 'shop_items')" \
    -c "CREATE TABLE fuzz_vecs AS SELECT user_id, profile_vec FROM persona.profiles WHERE name = 'shop' AND user_id % 8 = 0" \
    -c "CREATE TABLE fuzz_texts (id int PRIMARY KEY, body text, vec real[])" \
    -c "INSERT INTO fuzz_texts VALUES (1, 'a warm wool coat', NULL), (2, '', NULL), (3, NULL, NULL), (4, 'café crème, très joli', NULL)" \
    -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO $ROLE"
log "fuzz: set-up done in $(($(date +%s) - started)) s"

rc=0
"$PYTHON" tests/fuzz/fuzz.py --dsn "host=127.0.0.1 port=$PORT user=postgres dbname=$DB" \
    --server-log "$PERSONA_STATE/regress/server.log" --role "$ROLE" "$@" || rc=$?
echo "fuzz layer: $(($(date +%s) - started)) s in all"
if [ "$rc" -eq 0 ]; then
    "${PSQL[@]}" -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE $ROLE"
else
    echo "database $DB kept for a look: psql -h 127.0.0.1 -p $PORT -U postgres $DB" >&2
fi
exit "$rc"
