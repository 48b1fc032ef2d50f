#!/usr/bin/env bash
# Soft segments (persona.gmm_train) against K-Means (persona.kmeans_train) on the same
# profiles of a generated shop (persona-shop, planted personas): adjusted Rand index against the
# personas and log-likelihood a user, both models with automatic k, same run. The profiles are
# built from behaviour (item2vec) and traits; no text, to keep the run short. Also K-Means on
# profiles built on item factors (persona.train_item_factors) instead of item2vec.
#
#   bench/soft_segments.sh [USERS] [SEED]    (defaults: 20000 1)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

USERS=${1:-20000}; SEED=${2:-1}
PYREF=${PERSONA_PYREF:-/opt/persona-pyref}
if ! "$PYREF/bin/python" -c "import numpy, scipy, sklearn" 2>/dev/null; then
    log "installing numpy, scipy and scikit-learn into $PYREF"
    [ -x "$PYREF/bin/python" ] || python3 -m venv "$PYREF"
    "$PYREF/bin/pip" install -q --disable-pip-version-check numpy scipy scikit-learn
fi
cargo build --release --quiet -p persona-shop
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
target/release/persona-shop --users "$USERS" --seed "$SEED" --reviews data/womens_clothing_reviews.csv.gz --out "$work/shop" >/dev/null
PORT=${PERSONA_BENCH_PORT:-55497}; DB=persona_bench_soft
scripts/cluster.sh start bench "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
log "loading the shop, item2vec, profiles, then K-Means and GMM with automatic k"
(cd "$work/shop" && "${PSQL[@]}" -d "$DB" <<'SQL')
SET client_min_messages = warning;
CREATE EXTENSION persona;
CREATE TABLE items (item_id int PRIMARY KEY, title text, category text, class text, price numeric(10, 2));
CREATE TABLE users (user_id bigint PRIMARY KEY, signup_at timestamptz, age int, region text, channel text);
CREATE TABLE events (user_id bigint, item_id int, event_type text, price numeric(10, 2), order_id text, occurred_at timestamptz);
CREATE TABLE personas (user_id bigint PRIMARY KEY, persona_id int, persona text);
\copy items FROM 'items.csv' WITH (FORMAT csv, HEADER true)
\copy users FROM 'users.csv' WITH (FORMAT csv, HEADER true)
\copy events FROM 'events.csv' WITH (FORMAT csv, HEADER true)
\copy personas FROM 'personas.csv' WITH (FORMAT csv, HEADER true)
SELECT items FROM persona.train_item2vec('shop', 'events', time_col => 'occurred_at', dim => 64, epochs => 5, seed => 1);
SELECT profiles FROM persona.build_profiles('shop', events => 'events', time_col => 'occurred_at', price_col => 'price',
    order_col => 'order_id', items => 'items', users => 'users', item2vec_model => 'shop');
SELECT clock_timestamp() AS t0 \gset
SELECT k AS km_k FROM persona.kmeans_train('km', profiles => 'shop') \gset
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) AS km_s \gset
SELECT clock_timestamp() AS t0 \gset
SELECT k AS gm_k FROM persona.gmm_train('gm', profiles => 'shop') \gset
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) AS gm_s \gset
SELECT clock_timestamp() AS t0 \gset
SELECT k AS gk_k FROM persona.gmm_train('gk', profiles => 'shop', k => :km_k) \gset
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) AS gk_s \gset
\echo kmeans_train :km_s s (k = :km_k by silhouette), gmm_train :gm_s s (k = :gm_k by BIC), gmm_train at the K-Means k :gk_s s
SELECT round(avg(probability)::numeric, 3) AS mean_top_probability,
       round((count(*) FILTER (WHERE probability < 0.9))::numeric / count(*), 3) AS share_below_0_9
FROM persona.soft_segments WHERE model = 'gm';
-- The same shop's profiles on item factors instead of item2vec (issue 15: segment quality
-- must not drop), K-Means with automatic k on them.
SELECT items FROM persona.train_item_factors('shop_factors', 'events', dim => 64);
SELECT profiles FROM persona.build_profiles('shop_f', events => 'events', time_col => 'occurred_at', price_col => 'price',
    order_col => 'order_id', items => 'items', users => 'users', item2vec_model => 'shop_factors');
SELECT k AS kf_k FROM persona.kmeans_train('km_factors', profiles => 'shop_f') \gset
SELECT format('K-Means on profiles on item factors (k = %s): ARI %s', :kf_k,
              round(persona.adjusted_rand_index(array_agg(t.persona_id ORDER BY user_id), array_agg(m.segment ORDER BY user_id))::numeric, 3))
FROM persona.segment_members m JOIN personas t USING (user_id) WHERE m.model = 'km_factors';
\pset tuples_only on
\pset format unaligned
\o dump.json
SELECT json_build_object(
    'rows', (SELECT json_agg(json_build_array(p.user_id, t.persona_id, a.segment, b.segment, p.profile_vec, c.segment) ORDER BY p.user_id)
             FROM persona.profiles p JOIN personas t USING (user_id)
             JOIN persona.segment_members a ON a.model = 'km' AND a.user_id = p.user_id
             JOIN persona.segment_members b ON b.model = 'gm' AND b.user_id = p.user_id
             JOIN persona.segment_members c ON c.model = 'gk' AND c.user_id = p.user_id
             WHERE p.name = 'shop'),
    'mixture', (SELECT mixture FROM persona.kmeans_models WHERE name = 'gm' ORDER BY version DESC LIMIT 1),
    'mixture_k', (SELECT mixture FROM persona.kmeans_models WHERE name = 'gk' ORDER BY version DESC LIMIT 1));
\o
SQL
"$PYREF/bin/python" bench/soft_segments.py "$work/shop/dump.json"
