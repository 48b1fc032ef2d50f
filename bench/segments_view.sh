#!/usr/bin/env bash
# Reading persona.segments, the view a dashboard polls, at USERS users (default
# 100,000) in a database that also holds OTHER profiles of another definition
# (default 400,000), against the named peer: the 0.1.0 view, which aggregated
# the members' profiles on every read (its query is run here verbatim on the
# same tables). Profiles are written directly (16-d vectors around 8 centres,
# traits drawn at random): the view's cost depends on rows, not on how they
# were made. Medians of READS reads of each, and the time a refresh spends
# recomputing the stored figures.
#
#   bench/segments_view.sh [USERS] [OTHER] [READS]    (defaults: 100000 400000 21)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

USERS=${1:-100000}; OTHER=${2:-400000}; READS=${3:-21}
PORT=${PERSONA_BENCH_PORT:-55497}; DB=persona_bench_segments
scripts/cluster.sh start bench "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }
log "writing $USERS + $OTHER profiles"
sql <<SQL
SET client_min_messages = warning;
CREATE EXTENSION persona;
SELECT setseed(0.42);
-- An events source (empty: top items are not what this measures).
CREATE TABLE ev (user_id bigint, item_id bigint);
INSERT INTO persona.profile_definitions (name, options)
SELECT n, '{"events": "ev", "user_col": "user_id", "item_col": "item_id"}' FROM unnest(ARRAY['shop', 'other']) n;
INSERT INTO persona.model_owners (kind, name, owner) VALUES ('profiles', 'shop', current_user::regrole), ('profiles', 'other', current_user::regrole);
INSERT INTO persona.profiles (name, user_id, as_of, events, recency_days, frequency, monetary, avg_order_value,
                              events_30d, activity_level, lifecycle_stage, predicted_value, probability_alive, profile_vec)
SELECT d.name, u, now(), 1 + (random() * 50)::int, random() * 90, (random() * 6)::int, random() * 500, random() * 100,
       (random() * 20)::int, 'low', 'active', random() * 200, random(),
       ARRAY(SELECT (CASE WHEN j = 1 + u % 8 THEN 3 ELSE 0 END + random() - 0.5)::real FROM generate_series(1, 16) j)
FROM (VALUES ('shop', $USERS), ('other', $OTHER)) d(name, n), generate_series(1, d.n) u;
ANALYZE persona.profiles;
SELECT version FROM persona.kmeans_train('bench', profiles => 'shop', k => 8);
ANALYZE persona.segment_assignments;
SQL

# The 0.1.0 view: trait means and lifts aggregated from the profiles on every read.
peer="WITH cur AS (SELECT DISTINCT ON (name) * FROM persona.kmeans_models ORDER BY name, version DESC),
members AS (SELECT a.name, a.segment, a.user_id, p.recency_days, p.frequency, p.monetary, p.avg_order_value,
                   p.events_30d, p.predicted_value, p.probability_alive
            FROM persona.segment_assignments a JOIN cur USING (name, version)
            LEFT JOIN persona.profiles p ON p.name = cur.profile_name AND p.user_id = a.user_id),
pop AS (SELECT name, count(*) AS users, avg(recency_days) AS recency_days, avg(frequency) AS frequency, avg(monetary) AS monetary,
               avg(avg_order_value) AS avg_order_value, avg(events_30d) AS events_30d, avg(predicted_value) AS predicted_value
        FROM members GROUP BY name),
seg AS (SELECT name, segment, count(*) AS size, avg(recency_days) AS recency_days, avg(frequency) AS frequency,
               avg(monetary) AS monetary, avg(avg_order_value) AS avg_order_value, avg(events_30d) AS events_30d,
               avg(predicted_value) AS predicted_value, avg(probability_alive) AS probability_alive
        FROM members GROUP BY name, segment)
SELECT s.name, cur.version, s.segment, d.label, s.size, round(s.size::numeric / pop.users, 4)::float8,
       s.recency_days, s.recency_days / nullif(pop.recency_days, 0), s.frequency::float8, (s.frequency / nullif(pop.frequency, 0))::float8,
       s.monetary, s.monetary / nullif(pop.monetary, 0), s.avg_order_value, s.avg_order_value / nullif(pop.avg_order_value, 0),
       s.events_30d::float8, (s.events_30d / nullif(pop.events_30d, 0))::float8, s.predicted_value,
       s.predicted_value / nullif(pop.predicted_value, 0), s.probability_alive, d.top_categories, d.top_items, c.words, d.exemplar_users
FROM seg s JOIN pop USING (name) JOIN cur ON cur.name = s.name
JOIN persona.kmeans_centroids c ON c.name = s.name AND c.version = cur.version AND c.segment = s.segment
LEFT JOIN persona.segment_descriptions d ON d.name = s.name AND d.version = cur.version AND d.segment = s.segment
WHERE s.size >= greatest(coalesce(cur.k_anonymity_floor, 1), persona._k_anonymity_floor())"

# Server-side time of one read (EXPLAIN ANALYZE's execution plus planning), in ms.
read_ms() {
    sql -c "EXPLAIN (ANALYZE, FORMAT json) $1" |
        python3 -c 'import json,sys; p=json.load(sys.stdin)[0]; print(p["Planning Time"] + p["Execution Time"])'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
view_ms=$(for ((r = 1; r <= READS; r++)); do read_ms "SELECT * FROM persona.segments"; done | median)
peer_ms=$(for ((r = 1; r <= READS; r++)); do read_ms "$peer"; done | median)
same=$(sql -c "SELECT count(*) FROM (SELECT model, segment, size, round(avg_monetary::numeric, 6) FROM persona.segments
                EXCEPT SELECT name, segment, size, round(m::numeric, 6) FROM ($peer) x(name, version, segment, label, size, share, r, rl, f, fl, m)) d")
stats_ms=$(for ((r = 1; r <= 5; r++)); do
    sql -c "EXPLAIN (ANALYZE, FORMAT json) SELECT persona._segment_stats('bench', 1)" |
        python3 -c 'import json,sys; p=json.load(sys.stdin)[0]; print(p["Planning Time"] + p["Execution Time"])'
done | median)

echo
echo "persona.segments read: $USERS users in the model, $OTHER other profiles stored, k = 8; medians of $READS reads, server time; $(nproc) cores"
printf '%-58s %12s\n' "query" "ms"
printf '%-58s %12.2f\n' "persona.segments (stored figures)" "$view_ms"
printf '%-58s %12.2f\n' "peer: the 0.1.0 view (aggregates the profiles per read)" "$peer_ms"
echo "  ratio: the 0.1.0 view takes $(awk -v a="$peer_ms" -v b="$view_ms" 'BEGIN { printf "%.0fx", a / b }') the time of persona.segments; rows that differ between the two: $same"
printf '%-58s %12.2f\n' "persona._segment_stats (what a refresh adds per model)" "$stats_ms"
