#!/usr/bin/env bash
# The EASE fit is dense, O(m³): minutes at its 20,000-item limit, and it used
# to ignore cancels (train_recommender ran 31 s past a statement_timeout at
# 12,000 items). Now the backend thread watches for interrupts while the
# pool computes, the maths stops between blocks, and Postgres raises its own
# error. For train_recommender and evaluate_recommendations, each cut short
# in the middle of its fit once by pg_cancel_backend() from another session
# (0.5 s into the fit) and once by a statement_timeout (1 s into the fit):
#  1. the statement ends within 1.5 s of the deadline / the cancel, with 57014;
#  2. the same backend answers the next statement;
#  3. the model trained before stays as it was.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

PORT=${PERSONA_TEST_PORT:-55498}; CLUSTER=${PERSONA_TEST_CLUSTER:-regress}
scripts/cluster.sh start "$CLUSTER" "$PORT"
PSQL=("$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres)
DB=persona_e2e_ease
# 7,000 items: a fit of several seconds on two cores (each case below waits
# for about 1-2.5 s of it), yet the one full training stays short.
ITEMS=${PERSONA_EASE_ITEMS:-7000}
"${PSQL[@]}" -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql() { "${PSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" -At "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
started_script=$(now)

# Ten events for each of 3 × ITEMS users, spread over every item.
sql -c "CREATE EXTENSION persona" \
    -c "SELECT setseed(0.11)" \
    -c "CREATE TABLE events AS
        SELECT u AS user_id, 1 + (u * 7919 + j * 104729 + (random() * 50)::int) % $ITEMS AS item_id,
               timestamp '2024-01-01' + make_interval(hours => j) AS event_time
        FROM generate_series(1, 3 * $ITEMS) u, generate_series(1, 10) j"
[ "$(sql -c "SELECT count(DISTINCT item_id) FROM events")" = "$ITEMS" ] || fail "not every item has events"

# The model evaluate_recommendations refits (one full EASE fit; the search is
# off, so that both statements spend their time in that one fit).
t0=$(now)
sql -c "SET client_min_messages = warning" -c "SELECT items FROM persona.train_recommender('m', 'events', method => 'ease', options => '{\"search\": false}')" >/dev/null
fit_seconds=$(elapsed "$t0" "$(now)")
echo "full train_recommender on $ITEMS items: $fit_seconds s"
awk -v s="$fit_seconds" 'BEGIN { exit !(s > 3) }' || fail "the fit takes only $fit_seconds s: raise PERSONA_EASE_ITEMS"
model_state="SELECT created_at || ' ' || (SELECT count(*) FROM persona.recommender_items WHERE model = 'm')
             FROM persona.recommender_models WHERE name = 'm'"
state_before=$(sql -c "$model_state")

# Runs "$2" in a session named $1 (with statement_timeout $3, if given) that
# then asks SELECT 'alive'; writes the output (NOTICEs included) to
# $PERSONA_STATE/$1.out. Without ON_ERROR_STOP, the next statement runs in
# the same backend after the error.
run() {
    PGAPPNAME=$1 "${PSQL[@]}" -d "$DB" -At -c "SET statement_timeout = '${3:-0}'" -c "$2" -c "SELECT 'alive ' || pg_backend_pid()" \
        >"$PERSONA_STATE/$1.out" 2>&1 || true
}

# Checks one cancelled run: its error, how long after $2 (epoch seconds) it
# ended at $3, that it was inside the fit (NOTICE $4 seen, $5 not), and that
# its backend answered afterwards.
check() {
    local name=$1 from=$2 ended=$3 fitting=$4 fitted=$5 message=$6 out
    out=$(cat "$PERSONA_STATE/$name.out")
    echo "$out" | grep -q "ERROR:  $message" || fail "$name: no '$message' error: $out"
    echo "$out" | grep -q "$fitting" || fail "$name: stopped before the fit began: $out"
    if echo "$out" | grep -q "$fitted"; then fail "$name: the fit finished before the cancel: $out"; fi
    echo "$out" | grep -q "^alive " || fail "$name: the backend did not answer after the error: $out"
    local lag
    lag=$(elapsed "$from" "$ended")
    printf '%s: stopped %.2f s after the %s\n' "$name" "$lag" "$7"
    awk -v l="$lag" 'BEGIN { exit !(l < 1.5) }' || fail "$name: took $lag s to stop"
}

# pg_cancel_backend from a second session, 0.5 s after the fit's NOTICE.
# Also measures how long the statement takes to reach its fit, into $PREP.
cancel_case() {
    local name=$1 statement=$2 fitting=$3 fitted=$4 started ended
    rm -f "$PERSONA_STATE/$name.out" "$PERSONA_STATE/$name.at" "$PERSONA_STATE/$name.fitting"
    started=$(now)
    (
        for _ in $(seq 1 600); do
            if grep -q "$fitting" "$PERSONA_STATE/$name.out" 2>/dev/null; then
                now >"$PERSONA_STATE/$name.fitting"
                break
            fi
            sleep 0.05
        done
        sleep 0.5
        now >"$PERSONA_STATE/$name.at"
        sql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = '$name' AND state = 'active'" >/dev/null
    ) &
    run "$name" "$statement"
    ended=$(now)
    wait
    check "$name" "$(cat "$PERSONA_STATE/$name.at")" "$ended" "$fitting" "$fitted" \
        "canceling statement due to user request" "pg_cancel_backend"
    PREP=$(elapsed "$started" "$(cat "$PERSONA_STATE/$name.fitting")")
}

# statement_timeout: 1 s after the statement reaches its fit (reading the
# events and the model, $PREP seconds, comes first).
timeout_case() {
    local name=$1 statement=$2 fitting=$3 fitted=$4 t ms
    ms=$(awk -v p="$PREP" 'BEGIN { printf "%d", (p + 1) * 1000 }')
    t=$(now)
    run "$name" "$statement" "${ms}ms"
    check "$name" "$(awk -v t="$t" -v ms="$ms" 'BEGIN { printf "%.3f", t + ms / 1000 }')" "$(now)" "$fitting" "$fitted" \
        "canceling statement due to statement timeout" "deadline (statement_timeout ${ms}ms)"
}

train="SELECT items FROM persona.train_recommender('m', 'events', method => 'ease', options => '{\"search\": false}')"
evaluate="SELECT method FROM persona.evaluate_recommendations('m')"
cancel_case train_cancel "$train" "fitting ease" "fitted in"
timeout_case train_timeout "$train" "fitting ease" "fitted in"
cancel_case evaluate_cancel "$evaluate" "refitting ease" "done in"
timeout_case evaluate_timeout "$evaluate" "refitting ease" "done in"

# The model trained first is untouched by the cancelled retrainings.
state_after=$(sql -c "$model_state")
[ "$state_after" = "$state_before" ] || fail "model m changed: '$state_before' before, '$state_after' after"
[ "$(sql -c "SELECT count(*) FROM persona.recommend(1, 5, 'm')")" = 5 ] || fail "model m no longer recommends"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
echo "e2e ease_cancel: ok in $(elapsed "$started_script" "$(now)") s"
