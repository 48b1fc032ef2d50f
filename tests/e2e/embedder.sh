#!/usr/bin/env bash
# The embedder worker (persona preloaded by scripts/cluster.sh), across sessions:
#  1. eight sessions embedding distinct texts at once get the vectors this
#     backend computes in-process (cosine >= 0.99999), in fewer forward
#     passes than texts (batched across sessions);
#  2. a cancel while queued or running stops within a second or two and
#     leaves no slot taken;
#  3. terminating the worker (SIGTERM) mid-batch gives the waiting session a clear
#     error (58000), other sessions go on, and a new worker serves the next call.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

PORT=${PERSONA_TEST_PORT:-55498}
scripts/cluster.sh start regress "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
DB=persona_e2e_embedder
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
sql -c "CREATE EXTENSION persona" \
    -c "CREATE TABLE t (id int PRIMARY KEY, body text, v real[], here real[])" \
    -c "INSERT INTO t SELECT i, 'Review ' || i || ': ' || repeat('the fabric is soft and the fit is true. ', 1 + i % 7) FROM generate_series(1, 400) i" \
    -c "CREATE TABLE long_texts AS SELECT i, repeat('Soft fabric, true to size, would buy again. ', 60) || i AS body FROM generate_series(1, 1500) i"

mode=$(sql -c "SELECT mode FROM persona.embedder")
[ "$mode" = worker ] || fail "expected mode worker, got: $mode"

# 1. Batching across sessions, equal to in-process vectors.
before=$(sql -c "SELECT batches || ' ' || texts FROM persona.embedder")
pids=()
for k in 0 1 2 3 4 5 6 7; do
    sql -c "UPDATE t SET v = persona.embed(body) WHERE id % 8 = $k" &
    pids+=($!)
done
wait "${pids[@]}"
after=$(sql -c "SELECT batches || ' ' || texts FROM persona.embedder")
read -r b0 n0 <<<"$before"; read -r b1 n1 <<<"$after"
echo "8 sessions: $((n1 - n0)) texts in $((b1 - b0)) forward passes"
[ $((n1 - n0)) -eq 400 ] || fail "expected 400 texts through the worker, got $((n1 - n0))"
[ $((b1 - b0)) -lt 400 ] || fail "no batching across sessions: $((b1 - b0)) passes for 400 texts"
sql -c "SET persona.use_embedder = off" -c "UPDATE t SET here = persona.embed(body)"
worst=$(sql -c "SELECT min(persona.cosine_similarity(v, here)) FROM t")
echo "lowest cosine worker / in-process: $worst"
awk -v w="$worst" 'BEGIN { exit !(w >= 0.99999) }' || fail "vectors differ: $worst"
[ "$(sql -c "SELECT count(*) FROM t WHERE v IS NULL")" = 0 ] || fail "missing vectors"

# 2. Cancel: a long embed_batch through the worker, cancelled after 2 s.
cancel_after() {
    sleep "$2"
    sql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = '$1' AND state = 'active'" >/dev/null
    date +%s.%N
}
cancel_after e2e_worker_cancel 2 >"$PERSONA_STATE/cancel_at" &
set +e
PGAPPNAME=e2e_worker_cancel sql -c "SELECT count(*) FROM persona.embed_batch(ARRAY(SELECT body FROM long_texts))" \
    >"$PERSONA_STATE/e2e_worker_cancel.out" 2>&1
set -e
ended=$(date +%s.%N); wait
grep -q "canceling statement due to user request" "$PERSONA_STATE/e2e_worker_cancel.out" \
    || fail "not cancelled: $(cat "$PERSONA_STATE/e2e_worker_cancel.out")"
lag=$(awk -v a="$ended" -v b="$(cat "$PERSONA_STATE/cancel_at")" 'BEGIN { print a - b }')
printf 'cancel while running: stopped %.2f s after pg_cancel_backend\n' "$lag"
awk -v l="$lag" 'BEGIN { exit !(l < 2) }' || fail "took $lag s to stop"
# The worker finishes or frees what it held within a round; then nothing is left.
for _ in $(seq 1 50); do
    [ "$(sql -c "SELECT queued + running FROM persona.embedder")" = 0 ] && break
    sleep 0.2
done
[ "$(sql -c "SELECT queued + running FROM persona.embedder")" = 0 ] || fail "slots left taken after the cancel"

# A statement timeout while another session keeps the worker busy: the
# short request waits queued or runs, and stops at the timeout either way.
PGAPPNAME=e2e_worker_busy sql -c "SELECT count(*) FROM persona.embed_batch(ARRAY(SELECT body FROM long_texts LIMIT 600))" >/dev/null 2>&1 &
busy=$!
sleep 1
set +e
out=$(sql -c "SET statement_timeout = '300ms'" -c "SELECT count(*) FROM persona.embed_batch(ARRAY(SELECT body FROM long_texts LIMIT 200))" 2>&1)
set -e
echo "$out" | grep -q "canceling statement due to statement timeout" || fail "no timeout while queued: $out"
wait "$busy" || fail "the busy session failed"
[ "$(sql -c "SELECT array_length(persona.embed('still works'), 1)")" = 384 ] || fail "embedding broken after the cancel"
echo "cancel while queued: ok"

# Sessions terminated (FATAL: no unwinding) while their requests wait: nine
# of them hold more than the 64 slots between them, so unless their slots
# are freed at exit no later call could go through the worker.
for k in $(seq 1 9); do
    PGAPPNAME=e2e_worker_doomed sql -c "SELECT count(*) FROM persona.embed_batch(ARRAY(SELECT body FROM long_texts))" >/dev/null 2>&1 &
done
sleep 2
sql -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'e2e_worker_doomed'" >/dev/null
wait || true
for _ in $(seq 1 50); do
    [ "$(sql -c "SELECT queued + running FROM persona.embedder")" = 0 ] && break
    sleep 0.2
done
t0=$(sql -c "SELECT texts FROM persona.embedder")
[ "$(sql -c "SELECT array_length(persona.embed('after the terminated sessions'), 1)")" = 384 ] || fail "embedding broken"
t1=$(sql -c "SELECT texts FROM persona.embedder")
[ $((t1 - t0)) -ge 1 ] || fail "slots of terminated sessions were not freed: the call did not go through the worker"
echo "terminated sessions: slots freed, the next call went through the worker"

# 3. The worker terminated mid-batch.
old=$(sql -c "SELECT pid FROM persona.embedder")
PGAPPNAME=e2e_worker_victim sql -c "SELECT count(*) FROM persona.embed_batch(ARRAY(SELECT body FROM long_texts))" \
    >"$PERSONA_STATE/e2e_worker_victim.out" 2>&1 &
victim=$!
sleep 2
# Not a backend (no database), so pg_terminate_backend refuses it: a plain SIGTERM.
kill -TERM "$old"
set +e; wait "$victim"; rc=$?; set -e
[ "$rc" -ne 0 ] || fail "the waiting session did not see the worker stop"
grep -q "was interrupted" "$PERSONA_STATE/e2e_worker_victim.out" || fail "unclear error: $(cat "$PERSONA_STATE/e2e_worker_victim.out")"
echo "waiting session got: $(grep ERROR "$PERSONA_STATE/e2e_worker_victim.out")"
[ "$(sql -c 'SELECT 42')" = 42 ] || fail "other sessions affected"
new=
for _ in $(seq 1 50); do
    new=$(sql -c "SELECT pid FROM persona.embedder WHERE mode = 'worker'")
    [ -n "$new" ] && [ "$new" != "$old" ] && break
    sleep 0.2
done
[ -n "$new" ] && [ "$new" != "$old" ] || fail "no new worker after the old one ended"
[ "$(sql -c "SELECT array_length(persona.embed('served by the new worker'), 1)")" = 384 ] || fail "new worker does not embed"
echo "worker $old terminated, worker $new serving"

"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
echo "e2e embedder: ok"
