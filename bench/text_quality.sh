#!/usr/bin/env bash
# Quality of persona's text embeddings as features, Chinese and English,
# against TF-IDF on the same texts: is a review's sentiment linearly readable
# from its vector (cross-validated logistic regression), and do the vectors
# split into the two sentiments unsupervised (NMI of 2-means)?
#
#   bench/text_quality.sh [N_EN]      (default 6000 English reviews)
#
# Chinese: every distinct review of ../shared/data/chinese-shopping-reviews
# (pos.txt.gz, neg.txt.gz; about 17,400), labelled by file. English: a seeded
# sample of N_EN reviews of data/womens_clothing_reviews.csv.gz, positive =
# rating 4-5, negative = 1-2 (3 is neither, so dropped). Each set is embedded
# by both models persona ships, through the crate alone (no Postgres: the
# vectors are the same, and this measures them, not the SQL layer):
# all-MiniLM-L6-v2 (English; no prefix) and multilingual-e5-small 4-bit
# (with "query: ", e5's prefix for texts used as features).
# ../shared is a developer's folder, never the product's: without it this
# says so and exits 0. Needs the installed models (`make install`) and a
# venv with numpy and scikit-learn at $PERSONA_PYREF (made here if missing;
# no PyTorch needed). Takes 15-25 minutes on 2 cores, mostly e5.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

echo "# bench/text_quality.sh $*"
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(nproc) cores"
START=$SECONDS

N_EN=${1:-6000}
SHARED=../shared
ZH=$SHARED/data/chinese-shopping-reviews
EN=data/womens_clothing_reviews.csv.gz
if [ ! -f "$ZH/pos.txt.gz" ] || [ ! -f "$ZH/neg.txt.gz" ]; then
    echo "SKIP: $ZH (pos.txt.gz, neg.txt.gz) is absent; this benchmark needs ../shared beside the project"
    exit 0
fi
MODELS=$("$PG_CONFIG" --sharedir 2>/dev/null || echo /usr/share/postgresql/15)/persona/models
MINILM=$MODELS/all-MiniLM-L6-v2
E5=$MODELS/multilingual-e5-small/e5-small-q4.bin
for m in "$MINILM" "$E5"; do
    [ -e "$m" ] || { echo "model $m is not installed (make install puts it there)" >&2; exit 1; }
done
PYREF=${PERSONA_PYREF:-/opt/persona-pyref}
WORK=$PERSONA_STATE/bench-text-quality

# The same venv as the other benchmarks; this one only adds what it needs to it.
if ! "$PYREF/bin/python" -c "import numpy, sklearn" 2>/dev/null; then
    log "installing numpy and scikit-learn into $PYREF"
    [ -x "$PYREF/bin/python" ] || python3 -m venv "$PYREF"
    "$PYREF/bin/pip" install -q --disable-pip-version-check numpy scikit-learn
fi

log "building the embed_lines example (release)"
nice -n 10 cargo build -q --release -p persona-embed --example embed_lines
BIN=${CARGO_TARGET_DIR:-target}/release/examples/embed_lines

rm -rf "$WORK"
mkdir -p "$WORK"
log "preparing the data sets under $WORK"
"$PYREF/bin/python" bench/text_quality.py prepare-zh "$ZH/pos.txt.gz" "$ZH/neg.txt.gz" "$WORK/zh"
"$PYREF/bin/python" bench/text_quality.py prepare-en "$EN" "$N_EN" "$WORK/en"

# One process per (data set, model), so each rate is measured on a fresh
# model with nothing else of this script running beside it.
: >"$WORK/rates.tsv"
for ds in zh en; do
    for model in minilm e5; do
        case $model in
        minilm) args=("$MINILM" "$WORK/$ds/texts.jsonl" "$WORK/$ds/minilm.f32") ;;
        e5) args=("$E5" "$WORK/$ds/texts.jsonl" "$WORK/$ds/e5.f32" "query: ") ;;
        esac
        log "embedding $ds with $model"
        line=$("$BIN" "${args[@]}" | grep '^rate ')
        echo "   $line" >&2
        # rates.tsv: data set, model, texts/s, tokens, texts.
        echo "$line" | sed -E "s/^rate texts=([0-9]+) tokens=([0-9]+) seconds=[0-9.]+ texts_per_s=([0-9.]+).*/$ds $model \3 \2 \1/" \
            >>"$WORK/rates.tsv"
    done
done

log "scoring (scikit-learn)"
echo
"$PYREF/bin/python" bench/text_quality.py score "$WORK"
echo
echo "# texts/s: tokenize + forward of embed_lines on rayon's global pool, batch 32, load excluded"
echo "# total $((SECONDS - START)) s; working files in $WORK"
