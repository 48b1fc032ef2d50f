#!/usr/bin/env bash
# The main job, end to end: build and install persona (release), start a private
# cluster on a loopback port, load real reviews, run the pipeline, show the result.
# Assumes scripts/setup.sh has run (the Makefile's `demo` target does that).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

PORT=${PERSONA_DEMO_PORT:-55499}
DB=persona_demo
REVIEWS=${PERSONA_DEMO_REVIEWS:-2000}
t0=$(date +%s)

log "building and installing persona (release)"
cargo pgrx install --release --pg-config "$PG_CONFIG" >/dev/null

log "starting the private cluster on 127.0.0.1:$PORT"
scripts/cluster.sh start demo "$PORT"
PSQL=("$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -qAt -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
    || "${PSQL[@]}" -d postgres -q -c "CREATE DATABASE $DB"

log "loading $REVIEWS real reviews and embedding them in the database"
gzip -dc data/womens_clothing_reviews.csv.gz | "${PSQL[@]}" -d "$DB" -q -v reviews="$REVIEWS" -f scripts/demo.sql

echo
echo "demo finished in $(( $(date +%s) - t0 )) s; connect with: psql -h 127.0.0.1 -p $PORT -U postgres $DB"
