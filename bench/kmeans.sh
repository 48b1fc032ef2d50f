#!/usr/bin/env bash
# persona.kmeans_train against FAISS (faiss-cpu) and scikit-learn on the same
# random-but-clustered vectors stored in a table, in the same run:
#   speed:   k = K, ITERS iterations, random initial rows, one run; persona's
#            time includes reading the table, the peers' does not. Medians of
#            REPEATS runs (default 3) for persona and FAISS.
#   quality: k-means++, 3 restarts, up to 100 iterations, tol 1e-4; final
#            inertia of persona against scikit-learn's.
# persona's "seconds" is its training time as kmeans_train reports it: reading
# the rows from the table, seeding, iterations, final assignment, silhouette;
# "the whole call" adds writing every row's segment to persona.segment_assignments.
# Sizes: N1 x 64 and N2 x 384 (defaults 1,000,000 and 200,000), K clusters.
#
#   bench/kmeans.sh [N1] [N2] [K] [ITERS]    (defaults: 1000000 200000 20 20)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

N1=${1:-1000000}; N2=${2:-200000}; K=${3:-20}; ITERS=${4:-20}; REPEATS=${PERSONA_BENCH_REPEATS:-3}
PORT=${PERSONA_BENCH_PORT:-55497}; DB=persona_bench_kmeans
PYREF=${PERSONA_PYREF:-/opt/persona-pyref}
if ! "$PYREF/bin/python" -c "import faiss, sklearn" 2>/dev/null; then
    log "installing faiss-cpu and scikit-learn into $PYREF"
    [ -x "$PYREF/bin/python" ] || python3 -m venv "$PYREF"
    "$PYREF/bin/pip" install -q faiss-cpu scikit-learn numpy
fi
scripts/cluster.sh start bench "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }
work=$PERSONA_STATE/bench-kmeans; mkdir -p "$work"; chmod 777 "$work"

echo "kmeans benchmark: k = $K, $ITERS iterations; $(nproc) cores; persona times include reading the table; speed rows: medians of $REPEATS runs"
printf '%-10s %-34s %10s %16s %10s\n' "data" "method" "seconds" "inertia" "vs faiss"
for spec in "$N1 64" "$N2 384"; do
    read -r n dim <<<"$spec"
    log "making $n x $dim vectors around $K centres"
    sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS persona" \
        -c "DROP TABLE IF EXISTS v$dim" -c "SELECT setseed(0.42)" \
        -c "CREATE TABLE c$dim AS SELECT c, ARRAY(SELECT (random() * 10 - 5)::real FROM generate_series(1, $dim) d WHERE c > 0) AS centre FROM generate_series(1, $K) c" \
        -c "CREATE TABLE v$dim AS SELECT i AS id, ARRAY(SELECT (x + (random() - 0.5) * 4)::real FROM unnest(centre) x) AS v FROM generate_series(1, $n) i JOIN c$dim ON c = 1 + i % $K" \
        -c "VACUUM ANALYZE v$dim"
    sql -c "COPY (SELECT array_to_string(v, ' ') FROM v$dim ORDER BY id) TO '$work/v$dim.txt'"
    # Speed runs: the median of REPEATS of persona's seconds and of the whole call.
    : >"$work/persona_runs"
    for _ in $(seq "$REPEATS"); do
        # Each run writes a version of a row per vector; earlier versions are dropped first (not timed).
        sql -c "DELETE FROM persona.kmeans_models WHERE name = 'bench$dim'" -c "VACUUM persona.segment_assignments" >/dev/null
        t0=$(date +%s.%N)
        sql -c "SET client_min_messages = warning" -c "SET persona.kmeans_work_mem = '4GB'" \
            -c "SELECT seconds, inertia FROM persona.kmeans_train('bench$dim', 'v$dim', 'v', k => $K, key_col => 'id', metric => 'l2', init => 'random', n_init => 1, max_iter => $ITERS, tol => 0, seed => 1)" >"$work/persona_random"
        echo "$(cut -d'|' -f1 "$work/persona_random") $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')" >>"$work/persona_runs"
    done
    median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    persona_s=$(cut -d' ' -f1 "$work/persona_runs" | median)
    call_s=$(cut -d' ' -f2 "$work/persona_runs" | median)
    sql -c "SET client_min_messages = warning" -c "SET persona.kmeans_work_mem = '4GB'" \
        -c "SELECT seconds, inertia FROM persona.kmeans_train('bench$dim', 'v$dim', 'v', k => $K, key_col => 'id', metric => 'l2', n_init => 3, max_iter => 100, tol => 1e-4, seed => 1)" >"$work/persona_pp"
    "$PYREF/bin/python" bench/kmeans_peer.py "$work/v$dim.txt" "$dim" "$K" "$ITERS" 1 "$REPEATS" >"$work/peers"
    faiss_s=$(awk '$1 == "faiss_random" { print $2 }' "$work/peers")
    row() { printf '%-10s %-34s %10.2f %16.6g %10s\n' "${n}x$dim" "$1" "$2" "$3" "$(awk -v a="$2" -v b="$faiss_s" 'BEGIN { printf "%.2fx", a / b }')"; }
    IFS='|' read -r _ i <"$work/persona_random"; row "persona (random init, $ITERS it)" "$persona_s" "$i"
    row "  the whole call (+ writing 1 row/user)" "$call_s" "$i"
    read -r _ s i < <(grep faiss_random "$work/peers"); row "faiss (random init, $ITERS it)" "$s" "$i"
    read -r _ s i < <(grep sklearn_random "$work/peers"); row "scikit-learn (random init, $ITERS it)" "$s" "$i"
    IFS='|' read -r s ipp <"$work/persona_pp"; row "persona (k-means++, 3 runs)" "$s" "$ipp"
    read -r _ s isk < <(grep sklearn_pp "$work/peers"); row "scikit-learn (k-means++, 3 runs)" "$s" "$isk"
    echo "  ${n}x$dim: persona k-means++ inertia / scikit-learn's = $(awk -v a="$ipp" -v b="$isk" 'BEGIN { printf "%.4f", a / b }')"
    echo "  ${n}x$dim: speed runs, seconds: persona $(awk '{ printf "%.2f ", $1 }' "$work/persona_runs")(whole call $(awk '{ printf "%.2f ", $2 }' "$work/persona_runs" | sed 's/ $//')), faiss $(awk '$1 == "faiss_runs" { $1 = ""; print }' "$work/peers")"
    rm -f "$work/v$dim.txt"
done
