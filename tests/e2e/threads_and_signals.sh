#!/usr/bin/env bash
# The backend's inference threads: none before the first embedding (the model
# and pool are created lazily, never at load time), and once they exist each
# has SIGINT, SIGQUIT, SIGALRM, SIGTERM and SIGUSR1 blocked, so Postgres'
# handlers only ever run on the backend's own thread, which keeps them open.
# These sessions embed in-process (persona.use_embedder = off); the embedder
# worker's own threads are checked the same way at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

PORT=${PERSONA_TEST_PORT:-55498}
scripts/cluster.sh start regress "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
DB=persona_e2e_threads
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("${PSQL[@]}" -d "$DB" -At <<'SQL'
CREATE EXTENSION persona;
LOAD 'persona';
SET persona.use_embedder = off;
SELECT pg_backend_pid() AS pid \gset
\setenv BACKEND_PID :pid
\! echo "before $(ls /proc/$BACKEND_PID/task | wc -l) $(grep VmRSS /proc/$BACKEND_PID/status | awk '{print $2}')"
SELECT array_length(persona.embed('now the model loads'), 1) AS dims \gset
\! echo "after $(ls /proc/$BACKEND_PID/task | wc -l) $(grep VmRSS /proc/$BACKEND_PID/status | awk '{print $2}')"
\! for t in /proc/$BACKEND_PID/task/*; do echo "thread $(basename $t) $(cat $t/comm) $(awk '/^SigBlk/ {print $2}' $t/status)"; done
\! echo "pid $BACKEND_PID"
SQL
)
echo "$out"
read -r _ threads_before rss_before <<<"$(echo "$out" | grep '^before')"
read -r _ threads_after rss_after <<<"$(echo "$out" | grep '^after')"
[ "$threads_before" = 1 ] || fail "$threads_before threads before the first embedding (expected 1)"
[ "$threads_after" -gt 1 ] || fail "no inference threads after embedding"
echo "RSS: $((rss_before / 1024)) MB before the model loads, $((rss_after / 1024)) MB after"

pid=$(echo "$out" | awk '/^pid/ { print $2 }')
# bits: SIGINT 2, SIGQUIT 3, SIGUSR1 10, SIGALRM 14, SIGTERM 15 (bit n-1)
need=$(( (1 << 1) | (1 << 2) | (1 << 9) | (1 << 13) | (1 << 14) ))
workers=0
while read -r _ tid name mask; do
    blocked=$((16#$mask))
    if [ "$tid" = "$pid" ]; then
        [ $((blocked & (1 << 1))) = 0 ] || fail "the backend thread blocks SIGINT ($mask)"
        continue
    fi
    # Every other thread (persona's pool and any a library started from it).
    [ $((blocked & need)) = "$need" ] || fail "thread $tid ($name) has SigBlk $mask: signals not blocked"
    case $name in persona-worker*) workers=$((workers + 1)) ;; esac
done < <(echo "$out" | grep '^thread')
[ "$workers" -ge 1 ] || fail "no persona-worker threads found"

# persona.threads = 1..24 in one session, embedding after each: the backend
# keeps one pool, capped at the cores and rebuilt only when its size changes,
# so its thread count never grows past cores + a few (it used to keep a pool
# per value: 301 threads after 1..24).
script() {
    echo "LOAD 'persona';"
    echo "SET persona.use_embedder = off;"
    echo 'SELECT pg_backend_pid() AS pid \gset'
    echo '\setenv BACKEND_PID :pid'
    echo '\! echo "pid $BACKEND_PID"'
    for n in $(seq 1 24) 0; do
        echo "SET persona.threads = $n;"
        echo "SELECT array_length(persona.embed('pool size $n'), 1) AS dims \\gset"
        echo "\\! echo \"size $n \$(ls /proc/\$BACKEND_PID/task | wc -l) \$(grep -l persona-worker /proc/\$BACKEND_PID/task/*/comm | wc -l)\""
    done
    echo '\! for t in /proc/$BACKEND_PID/task/*; do echo "thread $(basename $t) $(cat $t/comm) $(awk '"'"'/^SigBlk/ {print $2}'"'"' $t/status)"; done'
}
out=$(script | "${PSQL[@]}" -d "$DB" -At 2>&1) || fail "resizing session failed: $out"
pid=$(echo "$out" | awk '/^pid/ { print $2 }')
[ "$(echo "$out" | grep -c '^size')" = 25 ] || fail "not every size was tried: $out"
# The pool size persona.threads = 0 gives is the extension's count of cores
# (CPU affinity and cgroup quota included); never more than the machine's.
cores=$(echo "$out" | awk '$1 == "size" && $2 == 0 { print $4 }')
[ "$cores" -ge 1 ] && [ "$cores" -le "$(nproc)" ] || fail "persona.threads = 0 gave $cores workers on $(nproc) cores"
limit=$((cores + 3))
most=0
while read -r _ n total pool; do
    want=$(( n == 0 || n > cores ? cores : n ))
    [ "$pool" = "$want" ] || fail "persona.threads = $n: $pool persona-worker threads, expected $want (cores $cores)"
    [ "$total" -le "$limit" ] || fail "persona.threads = $n: the backend has $total threads (limit cores + 3 = $limit)"
    if [ "$total" -gt "$most" ]; then most=$total; fi
done < <(echo "$out" | grep '^size')
while read -r _ tid name mask; do
    if [ "$tid" = "$pid" ]; then continue; fi
    blocked=$((16#$mask))
    [ $((blocked & need)) = "$need" ] || fail "after resizing, thread $tid ($name) has SigBlk $mask: signals not blocked"
done < <(echo "$out" | grep '^thread')
echo "persona.threads 1..24 then 0 in one session: at most $most threads in the backend ($cores cores)"

# The embedder worker (the cluster preloads persona): after it embedded,
# its inference threads block the same signals; its main thread does not.
"${PSQL[@]}" -d "$DB" -Atc "SELECT array_length(persona.embed('through the worker'), 1)" >/dev/null
wpid=$("${PSQL[@]}" -d "$DB" -Atc "SELECT pid FROM persona.embedder WHERE mode = 'worker'")
[ -n "$wpid" ] || fail "no embedder worker"
wthreads=0
for t in /proc/"$wpid"/task/*; do
    tid=$(basename "$t"); blocked=$((16#$(awk '/^SigBlk/ { print $2 }' "$t/status")))
    if [ "$tid" = "$wpid" ]; then
        [ $((blocked & (1 << 14))) = 0 ] || fail "the embedder worker's main thread blocks SIGTERM"
        continue
    fi
    [ $((blocked & need)) = "$need" ] || fail "embedder worker thread $tid ($(cat "$t/comm")) does not block signals"
    wthreads=$((wthreads + 1))
done
[ "$wthreads" -ge 1 ] || fail "the embedder worker has no inference threads"
echo "embedder worker $wpid: $wthreads inference threads, all with signals blocked"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
echo "e2e threads_and_signals: ok ($workers worker threads, all with signals blocked)"
