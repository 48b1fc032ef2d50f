#!/usr/bin/env bash
# The BI views through a client library of another ecosystem: psycopg 3 from
# PyPI, in a venv under $PERSONA_STATE (made once, reused). On the planted shop
# (tests/fixtures/planted_shop.sql) it runs item2vec, profiles, K-Means on the
# profiles and, where the installed extension has it, persona.recommend_all;
# then tests/bi/check_views.py reads persona.segments, persona.segment_members,
# persona.profiles and persona.recommendations with SELECT *, takes each column's
# name and type OID from the cursor, names the types with format_type(), and
# compares them with the tables under "#### persona.<name>" in README.md. Any
# column added, removed, renamed, retyped or moved that the README does not
# record fails the test; so do rows that make no sense (segment shares not
# summing to 1, members of segments the view does not know, broken lists).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

fail() { echo "FAIL: $*" >&2; exit 1; }
CHECK=tests/bi/check_views.py

# The README parser and the column diff on their own first (no database, no venv).
python3 "$CHECK" --readme README.md --self-test || fail "README.md's BI view tables do not parse (see above)"

PYTHON=$(psycopg_python) || fail "no venv with psycopg 3 (above)"

PORT=${PERSONA_TEST_PORT:-55498}
scripts/cluster.sh start regress "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
DB=persona_e2e_bi
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }

sql -c "CREATE EXTENSION persona" -c "SET client_min_messages = warning" -f tests/fixtures/planted_shop.sql
sql -c "SET client_min_messages = warning" \
    -c "SELECT 'item2vec: ' || items || ' items' FROM persona.train_item2vec('shop', 'shop_events', time_col => 'event_time', dim => 16, epochs => 20, seed => 3)" \
    -c "SELECT 'profiles: ' || profiles FROM persona.build_profiles('shop', 'shop_events', items => 'shop_items', item2vec_model => 'shop')" \
    -c "SELECT 'k-means: k = ' || k FROM persona.kmeans_train('shop_segments', profiles => 'shop', k_max => 8, texts => '(SELECT user_id, body FROM shop_reviews)')"

# persona.recommend_all (src/recommend.rs) needs a model from persona.train_recommender.
has_rec=$(sql -c "SELECT count(DISTINCT p.proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'persona' AND p.proname IN ('train_recommender', 'recommend_all')")
if [ "$has_rec" = 2 ]; then
    recs=yes
    sql -c "SET client_min_messages = warning" \
        -c "SELECT 'recommender: ' || users || ' users, ' || items || ' items' FROM persona.train_recommender('shop', 'shop_events', items => 'shop_items', category_col => 'category', users => 'shop_users')" \
        -c "SELECT 'recommend_all: ' || recommendations || ' recommendations' FROM persona.recommend_all(10, 'shop')"
else
    recs=no
    echo "NOTE: the installed extension has no persona.train_recommender / persona.recommend_all;" \
         "persona.recommendations is checked for its columns only (it is empty)"
fi

"$PYTHON" "$CHECK" --readme README.md --recommendations "$recs" --k 10 \
    --dsn "host=127.0.0.1 port=$PORT user=postgres dbname=$DB" \
    || fail "the BI views differ from README.md or hold bad rows (above)"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
echo "e2e bi_psycopg: ok"
