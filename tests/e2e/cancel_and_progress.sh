#!/usr/bin/env bash
# Two-session behaviour that pg_regress cannot show:
#  1. pg_cancel_backend() from another session stops persona.embed_batch and
#     CALL persona.embed_column within about one batch, the backend stays
#     usable, and the batches embed_column committed before the cancel stay.
#  2. embed_column reports progress with NOTICEs (rows done, rows/s, time left).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

PORT=${PERSONA_TEST_PORT:-55498}
scripts/cluster.sh start regress "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
DB=persona_e2e
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }
sql -c "CREATE EXTENSION persona" \
    -c "CREATE TABLE t (id int, body text, v real[])" \
    -c "INSERT INTO t SELECT i, repeat('The dress is lovely but runs small. ', 5) || i FROM generate_series(1, 4000) i"

fail() { echo "FAIL: $*" >&2; exit 1; }

# Cancels whatever the session named APP is running once it has run for $2 seconds;
# prints the seconds between the cancel and the statement ending.
cancel_after() {
    local app=$1 delay=$2
    sleep "$delay"
    sql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = '$app' AND state = 'active'" >/dev/null
    date +%s.%N
}

for what in batch column; do
    # Separate -c commands: a procedure that commits cannot run inside a
    # multi-statement query string (that is an implicit transaction block).
    case $what in
    batch)  stmt="SELECT count(*) FROM persona.embed_batch(ARRAY(SELECT body FROM t))" ;;
    column) stmt="CALL persona.embed_column('t', 'body', 'v', batch_size => 16)" ;;
    esac
    cancel_after "e2e_$what" 4 >"$PERSONA_STATE/cancel_at" &
    set +e
    PGAPPNAME="e2e_$what" "${PSQL[@]}" -d "$DB" -c "SET client_min_messages = warning" \
        -c "SELECT persona.embed('warm') IS NOT NULL" -c "$stmt" \
        >"$PERSONA_STATE/e2e_$what.out" 2>&1
    rc=$?
    set -e
    ended=$(date +%s.%N)
    wait
    grep -q "canceling statement due to user request" "$PERSONA_STATE/e2e_$what.out" \
        || fail "$what: not cancelled (rc $rc): $(cat "$PERSONA_STATE/e2e_$what.out")"
    lag=$(awk -v a="$ended" -v b="$(cat "$PERSONA_STATE/cancel_at")" 'BEGIN { print a - b }')
    printf '%s: cancelled %.2f s after pg_cancel_backend\n' "$what" "$lag"
    awk -v l="$lag" 'BEGIN { exit !(l < 5) }' || fail "$what: took $lag s to stop"
done

done_rows=$(sql -c "SELECT count(v) FROM t")
echo "rows committed before the cancel: $done_rows"
[ "$done_rows" -gt 0 ] && [ "$done_rows" -lt 4000 ] || fail "expected some but not all rows embedded, got $done_rows"
[ "$(sql -c 'SELECT 42')" = 42 ] || fail "backend unusable"

# Resume: the next CALL embeds exactly the rows still NULL, with progress NOTICEs.
# Keep 200 of the rows still NULL (how many the cancel left depends on the speed).
sql -c "DELETE FROM t WHERE v IS NULL AND id NOT IN (SELECT id FROM t WHERE v IS NULL ORDER BY id LIMIT 200)"
left=$(sql -c "SELECT count(*) FROM t WHERE v IS NULL")
notices=$("${PSQL[@]}" -d "$DB" -c "CALL persona.embed_column('t', 'body', 'v', batch_size => 32)" 2>&1)
echo "$notices"
echo "$notices" | grep -q "NOTICE:  embed_column: $left rows of t to embed" || fail "no start NOTICE for $left rows"
echo "$notices" | grep -Eq "NOTICE:  embed_column: embedded $left rows of t in [0-9.]+ s \([0-9.]+ rows/s\)" \
    || fail "no final NOTICE"
# A progress NOTICE comes every 5 s: any run longer than 6 s must have shown one.
took=$(echo "$notices" | sed -nE "s/.*embedded $left rows of t in ([0-9.]+) s.*/\1/p")
if awk -v t="$took" 'BEGIN { exit !(t > 6) }'; then
    echo "$notices" | grep -Eq "NOTICE:  embed_column: [0-9]+ of $left rows, [0-9.]+ rows/s, about [0-9]+ s left" \
        || fail "no progress NOTICE in a $took s run"
fi
[ "$(sql -c 'SELECT count(*) FROM t WHERE v IS NULL')" = 0 ] || fail "rows left NULL after resume"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
echo "e2e cancel_and_progress: ok"
