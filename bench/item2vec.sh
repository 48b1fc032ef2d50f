#!/usr/bin/env bash
# item2vec quality and speed: persona.train_item2vec against gensim Word2Vec
# (skip-gram, same hyperparameters, 1 worker each) and a popularity baseline,
# on the Amazon Beauty sequences, in one run.
#
#   bench/item2vec.sh [EPOCHS] [SEEDS]        (defaults 10 and 3)
#
# Both are trained with seeds 1..SEEDS; the figures are per seed and their
# mean (one seed's HR@10 moves by about +-0.0005 on this data).
#
# Protocol: each user's last item is held out; the query is the last item seen
# before it; a hit is the held-out item among the query's 10 nearest items by
# cosine over all items (the query excluded). Needs ../shared/data/amazon-beauty-seq
# (not part of the project: skipped without it), a release install, and a Python
# venv with gensim at $PERSONA_PYREF (created here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

EPOCHS=${1:-10}; SEEDS=${2:-3}; DIM=64; WINDOW=5; NEG=5; SAMPLE=0.001
DATA=$(cd .. && pwd)/shared/data/amazon-beauty-seq/Beauty.txt
if [ ! -f "$DATA" ]; then echo "SKIP: $DATA not found"; exit 0; fi
PORT=${PERSONA_BENCH_PORT:-55497}; DB=persona_bench_i2v
PYREF=${PERSONA_PYREF:-/opt/persona-pyref}
if ! "$PYREF/bin/python" -c "import gensim" 2>/dev/null; then
    log "installing gensim into $PYREF"
    [ -x "$PYREF/bin/python" ] || python3 -m venv "$PYREF"
    "$PYREF/bin/pip" install -q gensim
fi

scripts/cluster.sh start bench "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
# Training rows: every item but each user's last, with its position as the time.
awk '{ for (i = 2; i < NF; i++) print $1 "\t" $i "\t" i }' "$DATA" \
    | "${PSQL[@]}" -d "$DB" -c "CREATE EXTENSION persona" \
        -c "CREATE TABLE events (user_id int, item_id int, ts int)" \
        -c "\\copy events FROM pstdin"
echo
for ((seed = 1; seed <= SEEDS; seed++)); do
    result=$("${PSQL[@]}" -d "$DB" -At -F ' ' -c "SET client_min_messages = warning" -c \
        "SELECT items, sequences, trained_items, round(seconds::numeric, 2)
         FROM persona.train_item2vec('beauty', 'events', dim => $DIM, window_size => $WINDOW, negatives => $NEG,
                                     epochs => $EPOCHS, min_count => 1, sample => $SAMPLE, seed => $seed)")
    read -r items sequences trained seconds <<<"$result"
    vectors=$(mktemp)
    "${PSQL[@]}" -d "$DB" -At -F $'\t' -c "SELECT item_id, embedding FROM persona.item_vectors WHERE model = 'beauty'" >"$vectors"
    [ "$seed" = 1 ] && echo "item2vec on Amazon Beauty: $sequences users, $items items; dim $DIM, window $WINDOW, negatives $NEG, epochs $EPOCHS, sample $SAMPLE"
    echo "seed $seed: persona train_item2vec $seconds s (reading the table included), $(awk -v n="$trained" -v s="$seconds" 'BEGIN { printf "%\047d", n / s }') items/s (1 thread)"
    "$PYREF/bin/python" bench/item2vec_eval.py "$DATA" "$vectors" "$DIM" "$WINDOW" "$NEG" "$EPOCHS" "$SAMPLE" "$seed" | sed "s/^/seed $seed: /" | tee -a "$PERSONA_STATE/item2vec_seeds.txt"
    echo "seed $seed: persona_speed $(awk -v n="$trained" -v s="$seconds" 'BEGIN { printf "%d", n / s }')" >>"$PERSONA_STATE/item2vec_seeds.txt"
    rm -f "$vectors"
done
echo "mean over $SEEDS seeds:"
awk '$3 ~ /^(persona|gensim|popular)$/ { hr[$3] += $5; nd[$3] += $7; n[$3]++ }
     $3 == "gensim" { for (i = 8; i <= NF; i++) if ($i == "items/s") { gs += $(i - 1) + 0; gsub(",", "", $(i - 1)); gsn += $(i - 1); } }
     $3 == "persona_speed" { ps += $4 }
     END { for (m in hr) printf "  %-8s HR@10 %.4f  NDCG@10 %.4f\n", m, hr[m] / n[m], nd[m] / n[m];
           printf "  training speed: persona %d items/s, gensim %d items/s (%.2fx)\n", ps / n["persona"], gsn / n["gensim"], ps / gsn }' \
    "$PERSONA_STATE/item2vec_seeds.txt"
rm -f "$PERSONA_STATE/item2vec_seeds.txt"
