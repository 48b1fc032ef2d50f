#!/usr/bin/env bash
# Runs every test layer, in order, and prints one line per layer and a total:
#   unit     plain `cargo test` of the Postgres-free crates, with the real model
#   pg_test  `cargo pgrx test`: #[pg_test]s inside a real Postgres 15 backend
#   regress  pg_regress SQL tests with expected output, private cluster
#   fuzz     a few thousand generated calls over every routine in schema
#            persona (tests/fuzz/run.sh): no XX000, crash or call over 10 s
#   e2e      shell tests that need two sessions (pg_cancel_backend, NOTICEs)
# Assumes scripts/setup.sh has run (the Makefile's `test` target does that).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

export PERSONA_MODEL_DIR
PERSONA_MODEL_DIR=$("$PG_CONFIG" --sharedir)/persona/models/all-MiniLM-L6-v2
export PERSONA_E5_MODEL
PERSONA_E5_MODEL=$("$PG_CONFIG" --sharedir)/persona/models/multilingual-e5-small/e5-small-q4.bin
mkdir -p "$PERSONA_STATE"; chmod 755 "$PERSONA_STATE"

# Counts individual tests from each layer's own summary lines (cargo test's
# "test result: ... N passed; M failed", pg_regress's "All N tests passed" /
# "M of N tests failed", one per e2e script), for the closing line.
passed=0; failed=0; failures=()
out=$(mktemp)
trap 'rm -f "$out"' EXIT
layer() {
    local name=$1; shift
    log "test layer: $name"
    local rc=0
    "$@" 2>&1 | tee "$out" || rc=$?
    local p f
    p=$(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1/p' "$out" | awk '{ s += $1 } END { print s + 0 }')
    f=$(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\2/p' "$out" | awk '{ s += $1 } END { print s + 0 }')
    if grep -qE '^ *All [0-9]+ tests passed' "$out"; then
        p=$((p + $(sed -nE 's/^ *All ([0-9]+) tests passed.*/\1/p' "$out")))
    elif grep -qE '^ *[0-9]+ of [0-9]+ tests failed' "$out"; then
        read -r nf nt < <(sed -nE 's/^ *([0-9]+) of ([0-9]+) tests failed.*/\1 \2/p' "$out")
        p=$((p + nt - nf)); f=$((f + nf))
    fi
    if [ "$rc" -eq 0 ]; then
        # e2e scripts and the fuzz layer count as one test each (the fuzz
        # layer's own "N passed, M failed" counts calls).
        [[ $name == e2e/* || $name == fuzz ]] && p=$((p + 1))
        echo "layer $name: ok"
    else
        failures+=("$name"); echo "layer $name: FAILED"
        ((f > 0)) || f=1
    fi
    passed=$((passed + p)); failed=$((failed + f))
}

pgrx_test() {
    local data=$PERSONA_STATE/pgrx-test
    mkdir -p "$data"; chown postgres:postgres "$data"
    cargo pgrx test pg15 --runas postgres --pgdata "$data/pgdata"
}

layer unit cargo test -p persona-linalg -p persona-embed -p persona-clv -p persona-item2vec -p persona-text -p persona-cluster -p persona-rank -p persona-shop -p persona-report -p persona-risk
layer pg_test pgrx_test
# pg_test installed a test build; the SQL layers run against a plain build.
layer install cargo pgrx install --pg-config "$PG_CONFIG"
layer regress tests/regress/run.sh
layer fuzz tests/fuzz/run.sh
for t in tests/e2e/*.sh; do
    layer "e2e/$(basename "$t" .sh)" "$t"
done

echo
if ((${#failures[@]})); then
    echo "failed layers: ${failures[*]}"
fi
echo "tests: $passed passed, $failed failed"
((${#failures[@]} == 0))
