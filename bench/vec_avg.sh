#!/usr/bin/env bash
# persona.vec_avg against the plain-SQL way an analyst would write a per-user
# mean vector (unnest + avg + array_agg), on N events over U users with
# D-dimensional vectors, in the same run; and vec_avg's speed-up from parallel
# workers. Medians of RUNS runs.
#
#   bench/vec_avg.sh [N_EVENTS] [USERS] [DIM] [RUNS]    (defaults: 1000000 50000 64 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

N=${1:-1000000}; USERS=${2:-50000}; DIM=${3:-64}; RUNS=${4:-3}
PORT=${PERSONA_BENCH_PORT:-55497}; DB=persona_bench_avg
scripts/cluster.sh start bench "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
log "making $N events over $USERS users with $DIM-dimensional vectors"
"${PSQL[@]}" -d "$DB" <<SQL
CREATE EXTENSION persona;
CREATE TABLE events AS
SELECT (i % $USERS) AS user_id,
       (SELECT array_agg(sin(i * 0.001 + k)::real) FROM generate_series(1, $DIM) k) AS v,
       1 + (i % 7) AS w
FROM generate_series(1, $N) i;
VACUUM ANALYZE events;
SQL

# Prints the median of RUNS timings (ms) of a query, run in one session.
time_query() {
    local settings=$1 query=$2
    for ((r = 1; r <= RUNS; r++)); do
        "${PSQL[@]}" -d "$DB" -At <<SQL | awk '/^Time:/ { print $2 }'
$settings
\\timing on
$query \\g /dev/null
SQL
    done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

serial="SET max_parallel_workers_per_gather = 0;"
parallel="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;"
ours="SELECT user_id, persona.vec_avg(v) FROM events GROUP BY user_id"
ours_all="SELECT persona.vec_avg(v) FROM events"
plain="SELECT user_id, array_agg(a ORDER BY k)::real[]
       FROM (SELECT user_id, k, avg(x) AS a FROM events, unnest(v) WITH ORDINALITY t(x, k) GROUP BY user_id, k) s
       GROUP BY user_id"
weighted="SELECT user_id, persona.vec_avg(v, power(0.5::float8, w / 3.0::float8)) FROM events GROUP BY user_id"

log "timing ($RUNS runs each)"
t_ours=$(time_query "$serial" "$ours")
t_plain=$(time_query "$serial" "$plain")
t_weighted=$(time_query "$serial" "$weighted")
t_all_serial=$(time_query "$serial" "$ours_all")
t_all_parallel=$(time_query "$parallel" "$ours_all")
plan=$("${PSQL[@]}" -d "$DB" -At -c "$parallel" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $ours_all" | grep -E "Workers (Planned|Launched)" | tr -s ' ' | paste -sd ' ')

rate() { awk -v n="$N" -v ms="$1" 'BEGIN { printf "%\047.0f", n / (ms / 1000) }'; }
echo
echo "vec_avg benchmark: $N events, $USERS users, $DIM dimensions, medians of $RUNS runs; $(nproc) cores"
printf '%-58s %10s %14s\n' "query" "ms" "rows/s"
printf '%-58s %10s %14s\n' "persona.vec_avg(v) GROUP BY user (serial)" "$t_ours" "$(rate "$t_ours")"
printf '%-58s %10s %14s\n' "persona.vec_avg(v, decay weight) GROUP BY user (serial)" "$t_weighted" "$(rate "$t_weighted")"
printf '%-58s %10s %14s\n' "unnest + avg + array_agg GROUP BY user (serial)" "$t_plain" "$(rate "$t_plain")"
printf '%-58s %10s %14s\n' "persona.vec_avg(v) over all rows, serial" "$t_all_serial" "$(rate "$t_all_serial")"
printf '%-58s %10s %14s\n' "persona.vec_avg(v) over all rows, 2 workers + leader" "$t_all_parallel" "$(rate "$t_all_parallel")"
echo "speed-up of vec_avg over the plain-SQL way: $(awk -v a="$t_plain" -v b="$t_ours" 'BEGIN { printf "%.1fx", a / b }')"
echo "speed-up from parallel workers: $(awk -v a="$t_all_serial" -v b="$t_all_parallel" 'BEGIN { printf "%.2fx", a / b }') ($plan)"
