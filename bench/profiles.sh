#!/usr/bin/env bash
# Profile build time on N events over U users (default 1M over 50k), with a
# catalogue of 5,000 items in 20 categories, item2vec vectors (dim 64) and
# one 384-dimensional text vector for every fifth user: train_item2vec,
# build_profiles, a refresh after 1% of users get new events, and a refresh
# with nothing new. Medians of RUNS runs of the build and refreshes.
#
#   bench/profiles.sh [N_EVENTS] [USERS] [RUNS]    (defaults: 1000000 50000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

N=${1:-1000000}; USERS=${2:-50000}; RUNS=${3:-3}
PORT=${PERSONA_BENCH_PORT:-55497}; DB=persona_bench_profiles
scripts/cluster.sh start bench "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }
log "making $N events over $USERS users"
sql <<SQL
SET client_min_messages = warning;
CREATE EXTENSION persona;
CREATE TABLE items AS
SELECT i AS item_id, 'cat' || (i % 20) AS category, (5 + (i * 7919) % 200)::numeric AS price
FROM generate_series(1, 5000) i;
-- Each user mostly stays in two categories; types 70% view, 20% cart, 10% purchase.
CREATE TABLE events AS
SELECT u AS user_id,
       1 + ((u % 20) + 20 * ((g * 2654435761) % 250) + (g % 2) * ((u / 20) % 20)) % 5000 AS item_id,
       CASE WHEN g % 10 < 7 THEN 'view' WHEN g % 10 < 9 THEN 'cart' ELSE 'purchase' END AS event_type,
       timestamptz '2026-09-01' + ((g * 7919) % (90 * 86400)) * interval '1 second' AS event_time
FROM (SELECT g, 1 + (g * 48271) % $USERS AS u FROM generate_series(1::bigint, $N) g) s;
CREATE TABLE reviews AS
SELECT u AS user_id, timestamptz '2026-10-01' + (u % 60) * interval '1 day' AS created_at,
       persona.normalize((SELECT array_agg(sin(u * 0.01 + k)::real) FROM generate_series(1, 384) k)) AS embedding
FROM generate_series(1, $USERS, 5) u;
CREATE INDEX ON events (event_time);
VACUUM ANALYZE items, events, reviews;
SQL

t0=$(date +%s.%N)
sql -c "SET client_min_messages = warning" -c "SELECT items FROM persona.train_item2vec('bench', 'events', time_col => 'event_time', dim => 64, epochs => 5)" >/dev/null
t_i2v=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
build="SELECT seconds FROM persona.build_profiles('bench', 'events', items => 'items', texts => 'reviews', item2vec_model => 'bench')"
t_build=$(for ((r = 1; r <= RUNS; r++)); do sql -c "SET client_min_messages = warning" -c "$build"; done | median)
t_refresh=$(for ((r = 1; r <= RUNS; r++)); do
    sql -c "INSERT INTO events SELECT u, 1 + u % 5000, 'purchase', timestamptz '2026-12-01' + $r * interval '1 hour' FROM generate_series(1, $USERS, 100) u" \
        -c "SET client_min_messages = warning" -c "SELECT seconds FROM persona.refresh_profiles('bench')" | tail -1
done | median)
t_noop=$(for ((r = 1; r <= RUNS; r++)); do sql -c "SET client_min_messages = warning" -c "SELECT seconds FROM persona.refresh_profiles('bench')" | tail -1; done | median)
profiles=$(sql -c "SELECT count(*) FROM persona.profiles WHERE name = 'bench'")

echo
echo "profiles benchmark: $N events, $USERS users, 5,000 items, medians of $RUNS runs; $(nproc) cores"
printf '%-56s %10s %14s\n' "step" "seconds" "events/s"
printf '%-56s %10s %14s\n' "train_item2vec (dim 64, 5 epochs)" "$t_i2v" "$(awk -v n="$N" -v s="$t_i2v" 'BEGIN { printf "%\047.0f", n / s }')"
printf '%-56s %10s %14s\n' "build_profiles ($profiles profiles)" "$(printf %.1f "$t_build")" "$(awk -v n="$N" -v s="$t_build" 'BEGIN { printf "%\047.0f", n / s }')"
printf '%-56s %10s\n' "refresh_profiles, 1% of users with new events" "$(printf %.2f "$t_refresh")"
printf '%-56s %10s\n' "refresh_profiles, nothing new" "$(printf %.3f "$t_noop")"
echo "refresh of 1% of users vs full build: $(awk -v a="$t_build" -v b="$t_refresh" 'BEGIN { printf "%.1fx faster", a / b }')"
