#!/usr/bin/env bash
# Profiles that keep who the user is (issue 15): on MovieLens-100K (every rating an event),
# a logistic regression predicts gender and age group from persona.profiles.profile_vec built
# on item2vec vectors and on item factors (persona.train_item_factors, a truncated SVD), against
# the named peer: the same regression on the raw user x item matrix, same folds, same run.
#
#   bench/profile_factors.sh [DATA_DIR]   (default ../shared/data/ml-100k: ml-100k.user, ml-100k.inter)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

DATA=$(realpath "${1:-../shared/data/ml-100k}")
[ -s "$DATA/ml-100k.user" ] && [ -s "$DATA/ml-100k.inter" ] || { echo "no ml-100k.user / ml-100k.inter in $DATA" >&2; exit 2; }
PYREF=${PERSONA_PYREF:-/opt/persona-pyref}
if ! "$PYREF/bin/python" -c "import numpy, scipy, sklearn" 2>/dev/null; then
    log "installing numpy, scipy and scikit-learn into $PYREF"
    [ -x "$PYREF/bin/python" ] || python3 -m venv "$PYREF"
    "$PYREF/bin/pip" install -q --disable-pip-version-check numpy scipy scikit-learn
fi
PORT=${PERSONA_BENCH_PORT:-55497}; DB=persona_bench_factors
scripts/cluster.sh start bench "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
tail -n +2 "$DATA/ml-100k.inter" >"$work/inter.tsv"
log "loading ml-100k and building profiles on item2vec and on item factors (64-d each)"
"${PSQL[@]}" -d "$DB" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION persona;
CREATE TABLE ratings (user_id bigint, item_id bigint, rating float8, ts float8);
\copy ratings FROM '$work/inter.tsv'
CREATE VIEW events AS SELECT user_id, item_id, 'purchase'::text AS event_type, to_timestamp(ts) AS event_time FROM ratings;
SELECT clock_timestamp() AS t0 \gset
SELECT items FROM persona.train_item2vec('ml_item2vec', 'events', time_col => 'event_time', dim => 64, epochs => 5, seed => 1);
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) AS i2v_s \gset
SELECT clock_timestamp() AS t0 \gset
SELECT items, users, round(explained::numeric, 3) AS explained FROM persona.train_item_factors('ml_factors', 'events',
    event_weights => '{"purchase": 1}', dim => 64);
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) AS svd_s \gset
\echo train_item2vec :i2v_s s, train_item_factors :svd_s s
-- A rating says who the user is whenever it was given: no decay (half_life of a century).
-- The shop default (30 days) is measured too, on the factors.
SELECT profiles FROM persona.build_profiles('p_item2vec', 'events', item2vec_model => 'ml_item2vec', event_weights => '{"purchase": 1}',
    half_life => '100 years');
SELECT profiles FROM persona.build_profiles('p_factors', 'events', item2vec_model => 'ml_factors', event_weights => '{"purchase": 1}',
    half_life => '100 years');
SELECT profiles FROM persona.build_profiles('p_factors_30d', 'events', item2vec_model => 'ml_factors', event_weights => '{"purchase": 1}');
\copy (SELECT user_id, profile_vec FROM persona.profiles WHERE name = 'p_item2vec') TO '$work/item2vec.tsv'
\copy (SELECT user_id, profile_vec FROM persona.profiles WHERE name = 'p_factors') TO '$work/factors.tsv'
\copy (SELECT user_id, profile_vec FROM persona.profiles WHERE name = 'p_factors_30d') TO '$work/factors_30d.tsv'
SQL
log "logistic regression, 5 folds (scikit-learn's LogisticRegressionCV)"
"$PYREF/bin/python" -W ignore::FutureWarning bench/profile_factors.py "$DATA/ml-100k.user" "$DATA/ml-100k.inter" \
    "profiles on item2vec=$work/item2vec.tsv" "profiles on item factors=$work/factors.tsv" \
    "item factors, 30-day half-life=$work/factors_30d.tsv"
