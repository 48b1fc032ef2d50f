#!/usr/bin/env bash
# Embedding throughput: persona inside Postgres against sentence-transformers
# (PyTorch, CPU) on the same texts, the same model and the same machine, in one run.
#
#   bench/embed.sh [N_TEXTS] [RUNS]      (defaults: 2000 texts, 3 runs; medians reported)
#
# Two sets of N real texts from data/womens_clothing_reviews.csv.gz: review
# bodies (mean about 310 characters) and review titles (2 to 6 words, the
# length of a search query). For each: persona per row (one embed() call per
# row), embed_batch and embed_column against sentence-transformers batched
# (batch 32) and one text at a time.
# Needs a release install (`make install`; `make bench` does it) and, for the
# peer, a Python venv with sentence-transformers at $PERSONA_PYREF (created here
# if missing: it downloads PyTorch from PyPI, several GB).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

N=${1:-2000}; RUNS=${2:-3}
PORT=${PERSONA_BENCH_PORT:-55497}
DB=persona_bench
PYREF=${PERSONA_PYREF:-/opt/persona-pyref}
MODEL=${PERSONA_BENCH_MODEL:-all-MiniLM-L6-v2}
MODEL_DIR=$("$PG_CONFIG" --sharedir)/persona/models/all-MiniLM-L6-v2

if [ ! -x "$PYREF/bin/python" ] || ! "$PYREF/bin/python" -c "import sentence_transformers" 2>/dev/null; then
    log "creating $PYREF with sentence-transformers (PyTorch) for the peer"
    python3 -m venv "$PYREF"
    "$PYREF/bin/pip" install -q sentence-transformers
fi

scripts/cluster.sh start bench "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d "$DB" -v n="$N" <<'SQL'
CREATE EXTENSION persona;
CREATE TEMP TABLE csv (row_id int, item_id int, age int, title text, body text, rating int,
                       recommended int, feedback int, division text, department text, class text);
\copy csv FROM PROGRAM 'gzip -dc data/womens_clothing_reviews.csv.gz' WITH (FORMAT csv, HEADER true)
CREATE TABLE reviews AS SELECT row_number() OVER (ORDER BY row_id) AS id, body FROM csv WHERE body IS NOT NULL ORDER BY row_id LIMIT :n;
CREATE TABLE titles AS SELECT row_number() OVER (ORDER BY row_id) AS id, title AS body FROM csv WHERE title IS NOT NULL ORDER BY row_id LIMIT :n;
SQL

# One psql session per measurement; each prints sentences/s. The model is loaded
# (and its RSS measured) before the clock starts.
measure() {
    local stmt=$1
    "${PSQL[@]}" -d "$DB" -At <<SQL
SELECT persona.embed('warm up', '$MODEL') IS NOT NULL AS warm \gset
SELECT clock_timestamp() AS t0 \gset
$stmt
SELECT round(($N / extract(epoch FROM clock_timestamp() - :'t0'::timestamptz))::numeric, 1);
SQL
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

declare -A rate chars
for set in reviews titles; do
    chars[$set]=$("${PSQL[@]}" -d "$DB" -At -c "SELECT round(avg(length(body))) FROM $set")
    for kind in per_row batched embed_column; do
        results=()
        for ((r = 1; r <= RUNS; r++)); do
            case $kind in
            per_row) stmt="SELECT count(persona.embed(body, '$MODEL')) FROM $set \\g /dev/null" ;;
            batched) stmt="SELECT count(*) FROM persona.embed_batch(ARRAY(SELECT body FROM $set ORDER BY id), '$MODEL') \\g /dev/null" ;;
            embed_column) stmt="ALTER TABLE $set DROP COLUMN IF EXISTS v; ALTER TABLE $set ADD COLUMN v real[];
SET client_min_messages = warning;
CALL persona.embed_column('$set', 'body', 'v', '$MODEL');" ;;
            esac
            results+=("$(measure "$stmt" | tail -1)")
        done
        rate[$set.$kind]=$(printf '%s\n' "${results[@]}" | median)
        log "$set $kind: ${results[*]} sentences/s"
    done

    log "peer on $set: sentence-transformers (PyTorch, CPU)"
    texts_file=$(mktemp)
    "${PSQL[@]}" -d "$DB" -At -c "SELECT replace(body, E'\n', '\n') FROM $set ORDER BY id" >"$texts_file"
    peer=$("$PYREF/bin/python" bench/embed_pytorch.py "$MODEL_DIR" "$texts_file" "$RUNS" 2>/dev/null)
    rm -f "$texts_file"
    rate[$set.pt_batched]=$(echo "$peer" | awk '/^batched/ { print $2 }')
    rate[$set.pt_single]=$(echo "$peer" | awk '/^one_at_a_time/ { print $2 }')
    threads=$(echo "$peer" | awk '/^threads/ { print $2 }')
done

# The opt-in int8 model on the same texts: its speed, and how far its vectors
# are from the exact ones (cosine, and for each of the first 500 reviews
# whether its nearest neighbour among all N is the same).
INT8=all-MiniLM-L6-v2-int8
for set in reviews titles; do
    for kind in per_row batched; do
        results=()
        for ((r = 1; r <= RUNS; r++)); do
            case $kind in
            per_row) stmt="SELECT count(persona.embed(body, '$INT8')) FROM $set \\g /dev/null" ;;
            batched) stmt="SELECT count(*) FROM persona.embed_batch(ARRAY(SELECT body FROM $set ORDER BY id), '$INT8') \\g /dev/null" ;;
            esac
            results+=("$(measure "$stmt" | tail -1)")
        done
        rate[$set.int8_$kind]=$(printf '%s\n' "${results[@]}" | median)
        log "$set int8 $kind: ${results[*]} sentences/s"
    done
done
quality=$("${PSQL[@]}" -d "$DB" -At -F ' ' <<SQL
CREATE TEMP TABLE q AS
SELECT e.ord AS id, e.embedding AS exact, i.embedding AS quantised
FROM persona.embed_batch(ARRAY(SELECT body FROM reviews ORDER BY id)) e
JOIN persona.embed_batch(ARRAY(SELECT body FROM reviews ORDER BY id), '$INT8') i ON i.ord = e.ord;
WITH c AS (SELECT persona.cosine_similarity(exact, quantised) AS cos FROM q),
nn AS (
    SELECT a.id,
           (SELECT b.id FROM q b WHERE b.id <> a.id ORDER BY persona.cosine_similarity(a.exact, b.exact) DESC, b.id LIMIT 1) AS exact_nn,
           (SELECT b.id FROM q b WHERE b.id <> a.id ORDER BY persona.cosine_similarity(a.quantised, b.quantised) DESC, b.id LIMIT 1) AS int8_nn
    FROM q a WHERE a.id <= 500)
SELECT (SELECT round(avg(cos)::numeric, 5) FROM c), (SELECT round(min(cos)::numeric, 5) FROM c),
       (SELECT round(avg((exact_nn = int8_nn)::int)::numeric, 3) FROM nn), (SELECT count(*) FROM nn);
SQL
)

rss=$("${PSQL[@]}" -d "$DB" -At <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv BACKEND_PID :pid
\! grep VmRSS /proc/\$BACKEND_PID/status | awk '{ print "before " \$2 }'
SELECT persona.embed('load the model', '$MODEL') IS NOT NULL AS loaded \gset
\! grep VmRSS /proc/\$BACKEND_PID/status | awk '{ print "after " \$2 }'
SQL
)
rss_before=$(echo "$rss" | awk '/before/ { print $2 }'); rss_after=$(echo "$rss" | awk '/after/ { print $2 }')

echo
echo "persona embedding benchmark: model $MODEL, $N texts per set, $RUNS runs, medians"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); persona.threads=0 (all cores), batch_size=32; PyTorch threads=$threads"
for set in reviews titles; do
    pt=${rate[$set.pt_batched]}; single=${rate[$set.pt_single]}
    echo
    echo "$set (mean ${chars[$set]} characters)"
    printf '  %-40s %12s %12s %14s\n' "path" "sentences/s" "x PyTorch" "x own batched"
    for kind in per_row batched embed_column; do
        printf '  %-40s %12s %12s %14s\n' "persona $kind" "${rate[$set.$kind]}" "$(ratio "${rate[$set.$kind]}" "$pt")" \
            "$(ratio "${rate[$set.$kind]}" "${rate[$set.batched]}")"
    done
    printf '  %-40s %12s %12s\n' "sentence-transformers batch 32" "$pt" "1.00"
    printf '  %-40s %12s %12s\n' "sentence-transformers one at a time" "$single" "$(ratio "$single" "$pt")"
    echo "  persona per_row against sentence-transformers one at a time: $(ratio "${rate[$set.per_row]}" "$single")x"
done
echo
echo "opt-in int8 model ($INT8)"
printf '  %-40s %12s %12s\n' "path" "sentences/s" "x fp32"
for set in reviews titles; do
    for kind in per_row batched; do
        printf '  %-40s %12s %12s\n' "$set $kind" "${rate[$set.int8_$kind]}" "$(ratio "${rate[$set.int8_$kind]}" "${rate[$set.$kind]}")"
    done
done
read -r cos_mean cos_min nn_same nn_n <<<"$quality"
echo "  cosine to the exact vectors on $N reviews: mean $cos_mean, min $cos_min"
echo "  nearest neighbour among $N reviews the same as with exact vectors: $nn_same of $nn_n reviews"
echo
echo "backend RSS: $((rss_before / 1024)) MB before the model loads, $((rss_after / 1024)) MB after"
