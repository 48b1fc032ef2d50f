#!/usr/bin/env bash
# The main job, end to end: build and install persona (release), start a private cluster on
# a loopback port, generate a shop with planted personas (crates/persona-shop), load it, run
# the whole pipeline in SQL (scripts/demo.sql) and print what it found, scored against the
# planted truth, with the time each step took.
# Assumes scripts/setup.sh has run (the Makefile's `demo` target does that).
#   PERSONA_DEMO_USERS   users in the shop (20000)
#   PERSONA_DEMO_SEED    generator seed (1)
#   PERSONA_DEMO_RISK_SHOP  the second shop, for checking the risk score on bots it was not
#                        built on: generator arguments ("--seed 7 --bots slow-crawler --returns")
#   PERSONA_DEMO_TEXTS   distinct review texts to embed (6000): embedding is the slow step
#   PERSONA_DEMO_PORT    port of the private cluster (55499)
#   PERSONA_DEMO_LANG    en (default): the English reviews of data/, all-MiniLM-L6-v2;
#                        zh: the same shop with real Chinese reviews (scripts/fetch-demo-data.sh),
#                        embedded with multilingual-e5-small, and the report in Chinese
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
source scripts/common.sh

PORT=${PERSONA_DEMO_PORT:-55499}
DB=persona_demo
USERS=${PERSONA_DEMO_USERS:-20000}
SEED=${PERSONA_DEMO_SEED:-1}
DEMO_LANG=${PERSONA_DEMO_LANG:-en}
case $DEMO_LANG in
    en) EMBED_MODEL=all-MiniLM-L6-v2; SHOP_NAME=shop ;;
    # The multilingual model is slower a token than MiniLM, but the Chinese shop's reviews
    # are short ones (persona-shop's zh module), so the same number of texts takes about
    # as long as the English ones and the default stays the same.
    zh) EMBED_MODEL=multilingual-e5-small; SHOP_NAME=shop-zh ;;
    *) echo "PERSONA_DEMO_LANG must be en or zh, not '$DEMO_LANG'" >&2; exit 2 ;;
esac
TEXTS=${PERSONA_DEMO_TEXTS:-6000}
for v in USERS SEED TEXTS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "PERSONA_DEMO_$v must be a whole number, not '${!v}'" >&2; exit 2; }
done
t0=$(date +%s.%N)
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

log "building and installing persona (release)"
t=$(date +%s.%N)
cargo pgrx install --release --pg-config "$PG_CONFIG" >/dev/null
cargo build --release --quiet -p persona-shop
build_s=$(secs "$t")

log "starting the private cluster on 127.0.0.1:$PORT"
scripts/cluster.sh start demo "$PORT"
PSQL=("$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -qAt -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
    || "${PSQL[@]}" -d postgres -q -c "CREATE DATABASE $DB"

# The shop is a function of (users, seed, generator): generated once into the demo's
# state directory, and again only when one of those changes.
shop=$PERSONA_STATE/demo/$SHOP_NAME-$USERS-$SEED
stamp=$(sha256sum target/release/persona-shop | cut -c1-16)
generator_args=(--users "$USERS" --seed "$SEED" --reviews data/womens_clothing_reviews.csv.gz)
if [ "$DEMO_LANG" = zh ]; then
    zh_data=$("$PG_CONFIG" --sharedir)/persona/demo-data/zh
    [ -s "$zh_data/pos.txt" ] && [ -s "$zh_data/neg.txt" ] \
        || { echo "the Chinese reviews are not in $zh_data: run scripts/fetch-demo-data.sh (make demo does)" >&2; exit 2; }
    generator_args+=(--reviews-zh "$zh_data")
fi
t=$(date +%s.%N)
if [ "$(cat "$shop/.generator" 2>/dev/null)" != "$stamp" ]; then
    log "generating the shop: persona-shop ${generator_args[*]}"
    rm -rf "$shop"
    target/release/persona-shop "${generator_args[@]}" --out "$shop"
    echo "$stamp" >"$shop/.generator"
    generate_note="$USERS users, seed $SEED, reviews in $DEMO_LANG"
else
    log "reusing the shop generated earlier in $shop"
    generate_note="$USERS users, seed $SEED, reviews in $DEMO_LANG: reused from an earlier run"
fi
generate_s=$(secs "$t")

# The second shop: other users, another kind of bot ring, returns. Only its events and users
# are loaded, to score risks on.
read -r -a risk_args <<<"${PERSONA_DEMO_RISK_SHOP:---seed 7 --bots slow-crawler --returns}"
risk_args=(--users "$USERS" --reviews data/womens_clothing_reviews.csv.gz "${risk_args[@]}")
risk_shop=$PERSONA_STATE/demo/risk-$(echo "$USERS ${risk_args[*]}" | sha256sum | cut -c1-12)
if [ "$(cat "$risk_shop/.generator" 2>/dev/null)" != "$stamp" ]; then
    log "generating the second shop: persona-shop ${risk_args[*]}"
    rm -rf "$risk_shop"
    target/release/persona-shop "${risk_args[@]}" --out "$risk_shop"
    echo "$stamp" >"$risk_shop/.generator"
fi
risk_note="persona-shop ${risk_args[*]}"

report=$PERSONA_STATE/demo/report.html
[ "$DEMO_LANG" = en ] || report=$PERSONA_STATE/demo/report-$DEMO_LANG.html
rm -f "$report"
log "running the pipeline (scripts/demo.sql)"
(cd "$shop" && "${PSQL[@]}" -d "$DB" -v texts="$TEXTS" -v report="$report" -v lang="$DEMO_LANG" -v embed_model="$EMBED_MODEL" -v build_s="$build_s" \
    -v generate_s="$generate_s" -v generate_note="$generate_note" -v shop_dir="$shop" -v risk_shop="$risk_shop" \
    -v risk_note="$risk_note" <"$repo/scripts/demo.sql")

echo
[ -s "$report" ] && echo "Report: $report (open it in a browser; self-contained HTML)"
echo "demo finished in $(secs "$t0") s (wall clock, all included); connect with: psql -h 127.0.0.1 -p $PORT -U postgres $DB"
