#!/usr/bin/env bash
# Runs every test layer, in order, and prints one line per layer and a total:
#   unit     plain `cargo test` of the Postgres-free crates, with the real model
#   pg_test  `cargo pgrx test`: #[pg_test]s inside a real Postgres 15 backend
#   regress  pg_regress SQL tests with expected output, private cluster
#   e2e      shell tests that need two sessions (pg_cancel_backend, NOTICEs)
# Assumes scripts/setup.sh has run (the Makefile's `test` target does that).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

export PERSONA_MODEL_DIR
PERSONA_MODEL_DIR=$("$PG_CONFIG" --sharedir)/persona/models/all-MiniLM-L6-v2
mkdir -p "$PERSONA_STATE"; chmod 755 "$PERSONA_STATE"

passed=0; failed=0; failures=()
layer() {
    local name=$1; shift
    log "test layer: $name"
    if "$@"; then
        passed=$((passed + 1)); echo "layer $name: ok"
    else
        failed=$((failed + 1)); failures+=("$name"); echo "layer $name: FAILED"
    fi
}

pgrx_test() {
    local data=$PERSONA_STATE/pgrx-test
    mkdir -p "$data"; chown postgres:postgres "$data"
    cargo pgrx test pg15 --runas postgres --pgdata "$data/pgdata"
}

layer unit cargo test -p persona-linalg -p persona-embed -p persona-clv -p persona-item2vec -p persona-text
layer pg_test pgrx_test
# pg_test installed a test build; the SQL layers run against a plain build.
layer install cargo pgrx install --pg-config "$PG_CONFIG"
layer regress tests/regress/run.sh
for t in tests/e2e/*.sh; do
    layer "e2e/$(basename "$t" .sh)" "$t"
done

echo
echo "test layers: $passed passed, $failed failed"
if ((failed)); then
    echo "failed layers: ${failures[*]}"
    exit 1
fi
