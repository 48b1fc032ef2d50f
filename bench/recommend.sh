#!/usr/bin/env bash
# Recommendations: quality, speed and training at scale, each in one run.
#
#   bench/recommend.sh [quality|speed|large|diversity|all] [SAMPLE]      (defaults: all, 200;
#                                                              all = quality + speed)
#
# quality: Amazon Beauty (../shared/data/amazon-beauty-seq/Beauty.txt, position
#   as time) and MovieLens 100K (../shared/data/ml-100k, ratings >= 4) loaded
#   into tables; persona.evaluate_recommendations (each user's last event held
#   out, the model refitted on everything before it, full ranking over all
#   items, the user's own items excluded) for persona's fixed defaults (EASE +
#   recency + transitions, "search": false), plain EASE and item-kNN trained in SQL, and
#   popularity; then popularity, item-kNN and EASE in numpy/scipy
#   (bench/recommend_baselines.py) on the same events and protocol. Then one
#   table per protocol of persona.evaluate_recommendations (last; random, a
#   share of each user's items; cutoff, a time split, on MovieLens only, whose
#   time column is real time): persona's default model (trained with the events
#   and time column alone, so it chooses its own hyper-parameters on validation
#   data), persona's popularity row, and popularity and EASE with lambda tuned
#   on validation data in numpy (bench/recommend_protocols.py), with a verdict
#   line per data set and protocol at the end. Skipped when ../shared is absent.
#   PERSONA_BENCH_PROTOCOLS (default "last random cutoff"), PERSONA_BENCH_FRACTION
#   (0.1), PERSONA_BENCH_SEED (0) and PERSONA_BENCH_QUANTILE (0.9, the cutoff's
#   quantile of the time column) choose the protocol tables.
# speed: 100,000 users x 50,000 items, 64-dimensional random vectors:
#   persona.recommend_all (top 10 for every user) against one persona.recommend()
#   query per user and one plain SQL ORDER BY persona.cosine_similarity(...)
#   LIMIT 10 query per user, in the same run. The per-user methods run on SAMPLE
#   users and are extrapolated to all users; their lists are compared with
#   recommend_all's on the sample.
# large: synthetic events (PERSONA_BENCH_LARGE_USERS users, default 300,000;
#   PERSONA_BENCH_LARGE_ITEMS items, default 200,000, Zipf-like popularity;
#   PERSONA_BENCH_LARGE_EVENTS events, default 3,000,000; seeded), and the time
#   of persona.train_recommender on them with its NOTICEs.
# Needs a release install (make install) and numpy/scipy at $PERSONA_PYREF
# (installed there from PyPI when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

WHAT=${1:-all}; SAMPLE=${2:-200}
PORT=${PERSONA_BENCH_PORT:-55497}; CLUSTER=${PERSONA_BENCH_CLUSTER:-bench}
PYREF=${PERSONA_PYREF:-/opt/persona-pyref}
SHARED=$(cd .. && pwd)/shared/data
scripts/cluster.sh start "$CLUSTER" "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
work=$PERSONA_STATE/bench-recommend; mkdir -p "$work"; chmod 777 "$work"
fresh_db() { "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"; "${PSQL[@]}" -d "$1" -c "CREATE EXTENSION persona"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# psql -At on $1 with NOTICEs on: psql prints them on stderr, which is kept in
# $work/notices for show_notices; on an error it is shown, since it holds the error too.
sql_noticed() {
    local db=$1; shift
    if ! "${PSQL[@]}" -d "$db" -At -F '|' -c "SET client_min_messages = notice" "$@" 2>"$work/notices"; then
        cat "$work/notices" >&2
        return 1
    fi
}
show_notices() { sed -n 's/^NOTICE: *//p' "$work/notices" | sed 's/^/    NOTICE: /'; }
# "yes" when $1 >= $2, "n/a" when either is missing (a row that did not come back).
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b == "") ? "n/a" : (a + 0 >= b + 0) ? "yes" : "no" }'; }
need_pyref() {
    if ! "$PYREF/bin/python" -c "import numpy, scipy" 2>/dev/null; then
        log "installing numpy and scipy into $PYREF"
        [ -x "$PYREF/bin/python" ] || python3 -m venv "$PYREF"
        "$PYREF/bin/pip" install -q --disable-pip-version-check numpy scipy
    fi
}

quality() {
    # $4: also EASE with every neighbour kept (small catalogues: the stored weights are m x m).
    # $5: the protocols of persona.evaluate_recommendations that suit the data set (see protocols).
    local name=$1 file=$2 db=persona_bench_rec_$3
    fresh_db "$db"
    "${PSQL[@]}" -d "$db" -c "CREATE TABLE events (user_id int, item_id int, ts float8)" -c "\\copy events FROM '$file'" \
        -c "CREATE INDEX ON events (user_id)" -c "ANALYZE events"
    local stats
    stats=$("${PSQL[@]}" -d "$db" -At -F ' ' -c "SELECT count(DISTINCT user_id), count(DISTINCT item_id), count(*) FROM events")
    echo
    echo "$name: $stats (users, items, events); HR@10 / NDCG@10 / coverage, full ranking, last event held out"
    printf '  %-52s %8s %8s %8s %9s\n' method HR@10 NDCG@10 coverage seconds
    local spec model method opts label t0 out
    # Fixed parameters ("search": false), to compare with numpy's fixed ones;
    # the default model, which chooses its own, has the protocol tables below.
    for spec in "persona|ease|{\"search\": false}|persona fixed defaults (EASE + recency + transitions, search off)" \
                "persona_ease|ease|{\"transition_weight\": 0, \"half_life\": 0, \"search\": false}|persona EASE alone (lambda 200, top 200)" \
                "persona_knn|knn|{\"transition_weight\": 0, \"half_life\": 0, \"search\": false}|persona item-kNN alone (top 200)" \
                ${4:+"persona_full|ease|{\"transition_weight\": 0, \"half_life\": 0, \"neighbours\": 10000, \"search\": false}|persona EASE alone, every neighbour kept"}; do
        IFS='|' read -r model method opts label <<<"$spec"
        t0=$(now)
        "${PSQL[@]}" -d "$db" -c "SET client_min_messages = warning" \
            -c "SELECT 1 FROM persona.train_recommender('$model', 'events', time_col => 'ts', method => '$method', options => '$opts')" >/dev/null
        out=$("${PSQL[@]}" -d "$db" -At -F '|' -c "SET client_min_messages = warning" \
            -c "SELECT method, hit_rate, ndcg, coverage FROM persona.evaluate_recommendations('$model', 10)")
        # evaluate refits the model on the training events: seconds cover training + evaluation.
        awk -F '|' -v l="$label" -v s="$(since "$t0")" 'NF == 4 && $1 != "popularity" { printf "  %-52s %8.4f %8.4f %8.4f %9s\n", l " [SQL]", $2, $3, $4, s }' <<<"$out"
        if [ "$model" = persona ]; then
            awk -F '|' 'NF == 4 && $1 == "popularity" { printf "  %-52s %8.4f %8.4f %8.4f\n", "popularity [SQL]", $2, $3, $4 }' <<<"$out"
        fi
    done
    "$PYREF/bin/python" bench/recommend_baselines.py "$file" 200 200 \
        | awk '{ printf "  %-52s %8.4f %8.4f %8.4f %9s\n", $1 " [numpy]", $2, $3, $4, $5 }'
    protocols "$name" "$file" "$db" "$5"
    "${PSQL[@]}" -d postgres -c "DROP DATABASE $db"
}

# One table per protocol ($4: the protocols that suit the data set) for the
# model a user gets by default, against baselines given the same chance: the
# numpy EASE has its lambda tuned on validation data cut from the training part,
# as persona's automatic choice does, so neither side sees the test part.
protocols() {
    local name=$1 file=$2 db=$3 suits=" $4 "
    local fraction=${PERSONA_BENCH_FRACTION:-0.1} seed=${PERSONA_BENCH_SEED:-0} quantile=${PERSONA_BENCH_QUANTILE:-0.9}
    local protocol label sql_args py out py tested t0 eval_s cutoff check row
    local py_args=()
    row='  %-46s %7s %8.4f %8.4f %8.4f %8.4f %9.2f %8s %s\n'
    # Only the events and the time column, so that the model chooses its own
    # hyper-parameters when evaluate_recommendations refits it per protocol.
    t0=$(now)
    sql_noticed "$db" -c "SELECT 1 FROM persona.train_recommender('default', 'events', time_col => 'ts')" >/dev/null
    echo
    echo "$name: persona.train_recommender('default', 'events', time_col => 'ts') in $(since "$t0") s"
    show_notices
    for protocol in ${PERSONA_BENCH_PROTOCOLS:-last random cutoff}; do
        [[ $suits == *" $protocol "* ]] || continue
        case $protocol in
        last)
            label="each user's last event held out"
            sql_args="protocol => 'last'"; py_args=(--protocol last) ;;
        random)
            label="share $fraction of each user's distinct items held out, seed $seed"
            sql_args="protocol => 'random', test_fraction => $fraction, seed => $seed"
            py_args=(--protocol random --fraction "$fraction" --seed "$seed") ;;
        cutoff)
            # percentile_disc's definition (the first value at or past the
            # quantile), computed from the file so that SQL and numpy get the
            # same literal; the database's own percentile_disc checks it.
            cutoff=$(cut -f3 "$file" | sort -g | awk -v q="$quantile" '{ a[NR] = $1 } END { i = int(q * NR); if (i < q * NR) i++; if (i < 1) i = 1; print a[i] }')
            check=$("${PSQL[@]}" -d "$db" -At -c "SELECT percentile_disc($quantile) WITHIN GROUP (ORDER BY ts) = $cutoff FROM events")
            [ "$check" = t ] || echo "  WARNING: cutoff $cutoff is not the database's percentile_disc($quantile) of ts"
            label="trained on ts < $cutoff (quantile $quantile of ts), tested on the new items at or after it"
            sql_args="protocol => 'cutoff', cutoff => '$cutoff'"
            py_args=(--protocol cutoff --cutoff "$cutoff") ;;
        *) echo "  unknown protocol $protocol in PERSONA_BENCH_PROTOCOLS"; continue ;;
        esac
        echo
        echo "$name, protocol $protocol ($label); full ranking, the user's training items excluded"
        echo "  pop. rank: mean rank by training popularity of the recommended items (1 = most popular)"
        echo "  seconds: evaluate_recommendations (its refit, and its validation when the model chooses its parameters); numpy's grid, refit and scoring"
        printf '  %-46s %7s %8s %8s %8s %8s %9s %8s %s\n' method users HR@10 NDCG@10 recall@10 coverage "pop. rank" seconds lambda
        t0=$(now)
        out=$(sql_noticed "$db" -c "SELECT method, users, hit_rate, ndcg, recall, coverage, popularity_rank
                                     FROM persona.evaluate_recommendations('default', 10, $sql_args)")
        eval_s=$(since "$t0")
        # The popularity row comes from the same call: no seconds of its own.
        awk -F '|' -v s="$eval_s" -v fmt="$row" 'NF == 7 {
            if ($1 == "popularity") printf fmt, "popularity [SQL]", $2, $3, $4, $5, $6, $7, "", ""
            else printf fmt, "default model: " $1 " [SQL]", $2, $3, $4, $5, $6, $7, s, "" }' <<<"$out"
        show_notices
        py=$("$PYREF/bin/python" bench/recommend_protocols.py "$file" "${py_args[@]}")
        tested=$(sed -n 's/.* \([0-9][0-9]*\) users tested.*/\1/p' <<<"$py")
        awk -v u="$tested" -v fmt="$row" '!/^#/ && NF == 8 {
            printf fmt, ($1 == "EASE-tuned") ? "EASE, lambda tuned on validation [numpy]" : $1 " [numpy]",
                   u, $2, $3, $4, $5, $6, $7, ($8 == "-") ? "" : $8 }' <<<"$py"
        sed -n 's/^# */    numpy: /p' <<<"$py"
        # The same protocol tests the same users: a difference means the two definitions drifted apart.
        awk -F '|' -v u="$tested" 'NF == 7 && $1 == "popularity" && $2 != u { print "  WARNING: SQL tested " $2 " users, numpy " u ": the protocols differ" }' <<<"$out"
        # Verdicts on NDCG@10 at the tables' four decimals, printed after all tables.
        local d p e
        d=$(awk -F '|' 'NF == 7 && $1 != "popularity" { printf "%.4f", $4 }' <<<"$out")
        p=$(awk -F '|' 'NF == 7 && $1 == "popularity" { printf "%.4f", $4 }' <<<"$out")
        e=$(awk '$1 == "EASE-tuned" { print $3 }' <<<"$py")
        echo "  $name, $protocol: default >= numpy EASE tuned: $(at_least "$d" "$e") ($d vs $e); default >= popularity: $(at_least "$d" "$p") ($d vs $p)" >>"$work/verdicts"
    done
}

if [ "$WHAT" = quality ] || [ "$WHAT" = all ]; then
    if [ ! -f "$SHARED/amazon-beauty-seq/Beauty.txt" ] || [ ! -f "$SHARED/ml-100k/ml-100k.inter" ]; then
        echo "SKIP quality: $SHARED/amazon-beauty-seq/Beauty.txt or $SHARED/ml-100k/ml-100k.inter not found"
    else
        need_pyref
        awk '{ for (i = 2; i <= NF; i++) print $1 "\t" $i "\t" i }' "$SHARED/amazon-beauty-seq/Beauty.txt" >"$work/beauty.tsv"
        awk -F '\t' 'NR > 1 && $3 >= 4 { print $1 "\t" $2 "\t" $4 }' "$SHARED/ml-100k/ml-100k.inter" >"$work/ml100k.tsv"
        rm -f "$work/verdicts"
        # Beauty's time is the position in the user's sequence, so a common
        # cutoff in time means nothing there: no cutoff protocol for it.
        for set in ${PERSONA_BENCH_DATASETS:-beauty ml}; do
            case $set in
            beauty) quality "Amazon Beauty" "$work/beauty.tsv" beauty "" "last random" ;;
            ml) quality "MovieLens 100K (ratings >= 4)" "$work/ml100k.tsv" ml all-neighbours "last random cutoff" ;;
            esac
        done
        echo "  published full-ranking figures on Beauty (S3-Rec paper): PopRec HR@10 0.0152; SASRec HR@10 0.0605, NDCG@10 0.0318"
        if [ -s "$work/verdicts" ]; then
            echo
            echo "Verdicts per data set and protocol (NDCG@10; the default model against the numpy EASE and persona's popularity):"
            cat "$work/verdicts"
        fi
    fi
fi

if [ "$WHAT" = speed ] || [ "$WHAT" = all ]; then
    USERS=${PERSONA_BENCH_USERS:-100000}; ITEMS=${PERSONA_BENCH_ITEMS:-50000}; DIM=64
    db=persona_bench_rec_speed
    sql() { "${PSQL[@]}" -d "$db" -At "$@"; }
    # PERSONA_BENCH_REUSE=1 keeps the vectors of an earlier run.
    if [ "${PERSONA_BENCH_REUSE:-0}" = 1 ] && sql -c "SELECT count(*) FROM user_vecs" >/dev/null 2>&1; then
        sql -c "DROP TABLE IF EXISTS sample_ids"
    else
    fresh_db "$db"
    log "making $USERS user and $ITEMS item vectors of $DIM dimensions"
    sql -c "SELECT setseed(0.17)" \
        -c "CREATE TABLE item_vecs AS SELECT i AS item_id, ARRAY(SELECT (random() - 0.5)::real FROM generate_series(1, $DIM) d WHERE i > 0) AS v FROM generate_series(1, $ITEMS) i" \
        -c "CREATE TABLE user_vecs AS SELECT u AS user_id, ARRAY(SELECT (random() - 0.5)::real FROM generate_series(1, $DIM) d WHERE u > 0) AS v FROM generate_series(1, $USERS) u" \
        -c "ALTER TABLE user_vecs ADD PRIMARY KEY (user_id)" -c "VACUUM ANALYZE item_vecs" -c "VACUUM ANALYZE user_vecs"
    fi
    t0=$(now)
    sql -c "SET client_min_messages = warning" \
        -c "SELECT 1 FROM persona.train_recommender('speed', method => 'vectors', user_vectors => 'user_vecs', item_vectors => 'item_vecs')" >/dev/null
    train_s=$(since "$t0")
    # recommend_all: three runs, median.
    for run in 1 2 3; do
        t0=$(now)
        sql -c "SET client_min_messages = warning" -c "SELECT 1 FROM persona.recommend_all(10, 'speed')" >/dev/null
        since "$t0" >>"$work/all_s"; echo >>"$work/all_s"
    done
    all_s=$(sort -n "$work/all_s" | awk '{ a[NR] = $1 } END { print a[2] }'); rm -f "$work/all_s"
    # Per-user queries on a sample: one statement per user, in one session
    # (the first call, which loads the model, is not timed).
    sql -c "SELECT user_id FROM user_vecs ORDER BY hashint4(user_id) LIMIT $SAMPLE" >"$work/sample"
    {
        echo "SELECT count(*) FROM persona.recommend(1, 10, 'speed');"
        echo "\\timing on"
        awk '{ print "SELECT item_id, score FROM persona.recommend(" $1 ", 10, '"'"'speed'"'"');" }' "$work/sample"
    } >"$work/per_user.sql"
    {
        echo "\\timing on"
        awk '{ print "SELECT item_id, persona.cosine_similarity(i.v, u.v) AS score FROM item_vecs i, (SELECT v FROM user_vecs WHERE user_id = " $1 ") u ORDER BY 2 DESC, 1 LIMIT 10;" }' "$work/sample"
    } >"$work/plain.sql"
    per_user() {
        local file=$1 out=$2
        "${PSQL[@]}" -d "$db" -At -F ' ' -f "$file" >"$out"
        grep '^Time:' "$out" | awk '{ print $2 }' | sort -n >"$out.ms"
        awk '{ s += $1; a[NR] = $1 } END { printf "%.3f %.3f\n", a[int((NR + 1) / 2)], s / NR }' "$out.ms"
    }
    t0=$(now); read -r rec_med rec_mean < <(per_user "$work/per_user.sql" "$work/per_user.out"); rec_wall=$(since "$t0")
    t0=$(now); read -r sql_med sql_mean < <(per_user "$work/plain.sql" "$work/plain.out"); sql_wall=$(since "$t0")
    # Exactness on the sample: the same 10 items in the same order, and scores.
    sql -c "CREATE TABLE sample_ids (user_id int)" -c "\\copy sample_ids FROM '$work/sample'"
    agree=$(sql -F ' ' -c "
        WITH a AS (SELECT s.user_id, r.item_id, r.score, row_number() OVER (PARTITION BY s.user_id ORDER BY r.score DESC, r.item_id) AS rank
                   FROM sample_ids s, persona.recommend(s.user_id, 10, 'speed') r),
             b AS (SELECT s.user_id, x.item_id::bigint AS item_id, x.score, x.rank FROM sample_ids s,
                   LATERAL (SELECT item_id, persona.cosine_similarity(i.v, u.v) AS score, row_number() OVER (ORDER BY persona.cosine_similarity(i.v, u.v) DESC, item_id) AS rank
                            FROM item_vecs i, (SELECT v FROM user_vecs WHERE user_id = s.user_id) u ORDER BY 2 DESC, 1 LIMIT 10) x),
             c AS (SELECT r.user_id, r.item_id, r.score, r.rank FROM persona.recommendations r JOIN sample_ids USING (user_id) WHERE r.model = 'speed')
        SELECT (SELECT count(*) FROM (SELECT user_id FROM a GROUP BY 1 HAVING array_agg(item_id ORDER BY rank) =
                  (SELECT array_agg(item_id ORDER BY rank) FROM c WHERE c.user_id = a.user_id)) z),
               (SELECT count(*) FROM (SELECT user_id FROM b GROUP BY 1 HAVING array_agg(item_id ORDER BY rank) =
                  (SELECT array_agg(item_id ORDER BY rank) FROM a WHERE a.user_id = b.user_id)) z),
               (SELECT max(abs(a.score - b.score)) FROM a JOIN b USING (user_id, item_id))")
    read -r same_all same_plain max_diff <<<"$agree"
    rec_total=$(awk -v m="$rec_mean" -v n="$USERS" 'BEGIN { printf "%.1f", m * n / 1000 }')
    sql_total=$(awk -v m="$sql_mean" -v n="$USERS" 'BEGIN { printf "%.1f", m * n / 1000 }')
    echo
    echo "Top 10 for all of $USERS users over $ITEMS items, $DIM dimensions ($(nproc) cores); train_recommender (reading the item vectors) $train_s s"
    printf '  %-58s %14s %14s %10s\n' method "ms per user" "all users, s" "x slower"
    printf '  %-58s %14s %14s %10s\n' "persona.recommend_all (median of 3; writing the lists too)" \
        "$(awk -v s="$all_s" -v n="$USERS" 'BEGIN { printf "%.4f", s * 1000 / n }')" "$all_s" "1.0"
    printf '  %-58s %14s %14s %10s\n' "one persona.recommend() query per user ($SAMPLE users)" \
        "$rec_med" "$rec_total" "$(awk -v a="$rec_total" -v b="$all_s" 'BEGIN { printf "%.1f", a / b }')"
    printf '  %-58s %14s %14s %10s\n' "one plain SQL ORDER BY cosine_similarity LIMIT 10 per user" \
        "$sql_med" "$sql_total" "$(awk -v a="$sql_total" -v b="$all_s" 'BEGIN { printf "%.1f", a / b }')"
    echo "  ms per user: median over the sample (server time per query as psql reports it); all users: mean x $USERS"
    echo "  sample wall clock: recommend() $rec_wall s, plain SQL $sql_wall s"
    echo "  exact: recommend() = recommend_all for $same_all of $SAMPLE users; = plain SQL for $same_plain of $SAMPLE; max |score difference| vs plain SQL $max_diff"
    [ "${PERSONA_BENCH_REUSE:-0}" = 1 ] || "${PSQL[@]}" -d postgres -c "DROP DATABASE $db"
fi

# diversity: MovieLens 100K with each movie's first genre as its category;
#   the default model with and without max_per_category (2 and 3), all
#   trained in SQL and evaluated last and random: the effect of the cap on
#   NDCG@10, coverage and the popularity rank of the lists.
if [ "$WHAT" = diversity ]; then
    if [ ! -f "$SHARED/ml-100k/ml-100k.item" ]; then
        echo "SKIP diversity: $SHARED/ml-100k/ml-100k.item not found"
    else
        db=persona_bench_rec_div
        fresh_db "$db"
        awk -F '\t' 'NR > 1 && $3 >= 4 { print $1 "\t" $2 "\t" $4 }' "$SHARED/ml-100k/ml-100k.inter" >"$work/ml100k.tsv"
        awk -F '\t' 'NR > 1 { split($4, g, " "); print $1 "\t" g[1] }' "$SHARED/ml-100k/ml-100k.item" >"$work/ml100k_items.tsv"
        "${PSQL[@]}" -d "$db" -c "CREATE TABLE events (user_id int, item_id int, ts float8)" -c "\\copy events FROM '$work/ml100k.tsv'" \
            -c "CREATE TABLE items (item_id int, genre text)" -c "\\copy items FROM '$work/ml100k_items.tsv'" -c "ANALYZE"
        echo
        echo "MovieLens 100K, first genre as category: the category cap (k = 10)"
        printf '  %-28s %-8s %8s %8s %9s %9s\n' model protocol HR@10 NDCG@10 coverage pop_rank
        for cap in 0 3 2; do
            "${PSQL[@]}" -d "$db" -c "SET client_min_messages = warning" \
                -c "SELECT 1 FROM persona.train_recommender('cap$cap', 'events', time_col => 'ts', items => 'items', category_col => 'genre', options => '{\"max_per_category\": $cap}')" >/dev/null
            for protocol in last random; do
                "${PSQL[@]}" -d "$db" -At -F '|' -c "SET client_min_messages = warning" \
                    -c "SELECT method, hit_rate, ndcg, coverage, popularity_rank FROM persona.evaluate_recommendations('cap$cap', 10, '$protocol')" |
                    awk -F '|' -v c="$cap" -v p="$protocol" '$1 != "popularity" { printf "  %-28s %-8s %8.4f %8.4f %9.3f %9.1f\n", "default, max_per_category " c, p, $2, $3, $4, $5 }'
            done
        done
        "${PSQL[@]}" -d postgres -c "DROP DATABASE $db"
    fi
fi

if [ "$WHAT" = large ]; then
    L_USERS=${PERSONA_BENCH_LARGE_USERS:-300000}; L_ITEMS=${PERSONA_BENCH_LARGE_ITEMS:-200000}
    L_EVENTS=${PERSONA_BENCH_LARGE_EVENTS:-3000000}
    db=persona_bench_rec_large
    # PERSONA_BENCH_REUSE=1 keeps the events of an earlier run.
    if [ "${PERSONA_BENCH_REUSE:-0}" = 1 ] && "${PSQL[@]}" -d "$db" -At -c "SELECT count(*) FROM events" >/dev/null 2>&1; then
        log "reusing the events in $db"
    else
    fresh_db "$db"
    log "making $L_EVENTS events of $L_USERS users over $L_ITEMS items"
    # The first $L_ITEMS events bring each item in once (so the catalogue is
    # the full item count); after them item i is drawn with probability about
    # proportional to 1/i (exp of a uniform share of ln(items + 1)), as real
    # catalogues have a few hits and a long tail. Users are drawn uniformly;
    # time is the event's number. setseed makes every run draw the same events:
    # random() is parallel-restricted, so one process draws them all in order.
    "${PSQL[@]}" -d "$db" -c "SELECT setseed(0.31)" \
        -c "CREATE TABLE events AS
              SELECT 1 + floor(random() * $L_USERS)::int AS user_id,
                     CASE WHEN g <= $L_ITEMS THEN g
                          ELSE floor(exp(random() * ln($L_ITEMS::float8 + 1)))::int END AS item_id,
                     g::float8 AS ts
              FROM generate_series(1, $L_EVENTS) g" \
        -c "ANALYZE events" >/dev/null
    fi
    stats=$("${PSQL[@]}" -d "$db" -At -F ' ' -c "SELECT count(DISTINCT user_id), count(DISTINCT item_id), count(*) FROM events")
    echo
    echo "Synthetic events: $stats (users, items, events; $(nproc) cores)"
    t0=$(now)
    out=$(sql_noticed "$db" -c "SELECT users, items, interactions, neighbours, round(seconds::numeric, 1)
                                 FROM persona.train_recommender('large', 'events', time_col => 'ts')")
    echo "  persona.train_recommender('large', 'events', time_col => 'ts'): $(since "$t0") s (client wall clock)"
    echo "  returned users|items|interactions|neighbours|seconds: $out"
    show_notices
    [ "${PERSONA_BENCH_REUSE:-0}" = 1 ] || "${PSQL[@]}" -d postgres -c "DROP DATABASE $db"
fi
