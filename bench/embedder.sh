#!/usr/bin/env bash
# The embedder worker against in-process embedding, in one run on one cluster
# (persona preloaded; persona.use_embedder = off gives the in-process peer):
#   1. 32 sessions calling persona.embed() once per row on distinct reviews:
#      total texts/s through the worker against one embed_batch over the
#      same texts (in-process and through the worker);
#   2. memory: PSS of the 32 backends plus the worker against 32 idle
#      backends plus one loaded model, and against 32 in-process sessions;
#   3. one session's per-row rate through the worker and in-process.
#
#   bench/embedder.sh [N_TEXTS] [SESSIONS] [RUNS]   (defaults 640 32 3; medians)
# Needs a release install (`make install`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

N=${1:-640}; SESSIONS=${2:-32}; RUNS=${3:-3}
PORT=${PERSONA_BENCH_PORT:-55497}
DB=persona_bench_embedder
scripts/cluster.sh start bench "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d "$DB" -v n="$N" <<'SQL'
CREATE EXTENSION persona;
CREATE TEMP TABLE csv (row_id int, item_id int, age int, title text, body text, rating int,
                       recommended int, feedback int, division text, department text, class text);
\copy csv FROM PROGRAM 'gzip -dc data/womens_clothing_reviews.csv.gz' WITH (FORMAT csv, HEADER true)
CREATE TABLE reviews AS SELECT row_number() OVER (ORDER BY row_id) AS id, body FROM csv WHERE body IS NOT NULL ORDER BY row_id LIMIT :n;
SQL
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }
mode=$(sql -c "SELECT mode FROM persona.embedder")
[ "$mode" = worker ] || { echo "the embedder worker is not running (mode: $mode)" >&2; exit 1; }
# Load the model in the worker before timing.
sql -c "SELECT count(*) FROM persona.embed_batch(ARRAY(SELECT body FROM reviews LIMIT 8))" >/dev/null

seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rate() { echo "scale=1; $N / $1" | bc -l; }

batch_sql="SELECT count(*) FROM persona.embed_batch(ARRAY(SELECT body FROM reviews ORDER BY id))"
per_row_sql="SELECT count(persona.embed(body)) FROM reviews"
sessions_run() {  # $1 = on|off
    local k pids=()
    for ((k = 0; k < SESSIONS; k++)); do
        PGOPTIONS="-c persona.use_embedder=$1" sql -c "SELECT count(persona.embed(body)) FROM reviews WHERE id % $SESSIONS = $k" &
        pids+=($!)
    done
    wait "${pids[@]}"
}

declare -A t
for ((r = 0; r < RUNS; r++)); do
    t[batch_here]+="$(PGOPTIONS="-c persona.use_embedder=off" seconds sql -c "$batch_sql") "
    t[batch_worker]+="$(seconds sql -c "$batch_sql") "
    t[sessions_worker]+="$(seconds sessions_run on) "
    t[row_worker]+="$(seconds sql -c "$per_row_sql") "
    t[row_here]+="$(PGOPTIONS="-c persona.use_embedder=off" seconds sql -c "$per_row_sql") "
done
med() { tr ' ' '\n' <<<"${t[$1]}" | grep . | median; }

# Memory: sessions that embed and then stay connected while PSS is read.
pss_of() { local s=0 p; for p in "$@"; do s=$((s + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0))); done; echo "$s"; }
hold() {  # $1 = application name, $2 = use_embedder, $3 = statement before sleeping
    local k
    for ((k = 0; k < SESSIONS; k++)); do
        PGAPPNAME="$1" PGOPTIONS="-c persona.use_embedder=$2" sql -c "${3//@K@/$k}" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
    done
    local want=$SESSIONS
    for _ in $(seq 1 600); do
        [ "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1' AND wait_event = 'PgSleep'")" -ge "$want" ] && break
        sleep 0.5
    done
}
backends() { sql -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'"; }
release() { sql -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '$1'" >/dev/null; wait 2>/dev/null || true; }

hold bench_idle on "LOAD 'persona'"
idle_kb=$(pss_of $(backends bench_idle)); release bench_idle
PGAPPNAME=bench_one PGOPTIONS="-c persona.use_embedder=off" sql -c "LOAD 'persona'" -c "SELECT pg_sleep(0.1)" >/dev/null
one_idle=$(( idle_kb / SESSIONS ))
hold bench_model off "SELECT count(persona.embed(body)) FROM reviews WHERE id = 1 + @K@ AND @K@ = 0"
# One in-process session with the model loaded, the others idle: the first is the model's cost.
model_kb=$(( $(pss_of $(backends bench_model)) - idle_kb )); release bench_model
hold bench_worker on "SELECT count(persona.embed(body)) FROM reviews WHERE id % $SESSIONS = @K@"
worker_pid=$(sql -c "SELECT pid FROM persona.embedder")
worker_only_kb=$(pss_of "$worker_pid")
worker_kb=$(( $(pss_of $(backends bench_worker)) + worker_only_kb ))
# After a second with nothing to do the worker returns its batch buffers.
sleep 2.5
worker_idle_kb=$(pss_of "$worker_pid")
release bench_worker
hold bench_here off "SELECT count(persona.embed(body)) FROM reviews WHERE id % $SESSIONS = @K@"
here_kb=$(pss_of $(backends bench_here)); release bench_here

b_here=$(med batch_here); b_worker=$(med batch_worker); s_worker=$(med sessions_worker)
r_worker=$(med row_worker); r_here=$(med row_here)
base_kb=$((idle_kb + model_kb))
echo
echo "embedder worker, $N reviews, $SESSIONS sessions, medians of $RUNS ($(date -u +%F), $(nproc) cores)"
printf '%-44s %10s\n' "path" "texts/s"
printf '%-44s %10s\n' "embed_batch, in-process" "$(rate "$b_here")"
printf '%-44s %10s\n' "embed_batch, worker" "$(rate "$b_worker")"
printf '%-44s %10s\n' "$SESSIONS sessions x embed() per row, worker" "$(rate "$s_worker")"
printf '%-44s %10s\n' "1 session embed() per row, worker" "$(rate "$r_worker")"
printf '%-44s %10s\n' "1 session embed() per row, in-process" "$(rate "$r_here")"
echo
echo "ratios:"
echo "  $SESSIONS sessions via worker / embed_batch in-process: $(echo "scale=2; $b_here / $s_worker" | bc -l)x (target >= 0.8)"
echo "  per-row latency, worker / in-process: $(echo "scale=3; $r_worker / $r_here" | bc -l) (target <= 1.10)"
echo
echo "memory (PSS, MB): $SESSIONS idle backends $((idle_kb / 1024)), one loaded model $((model_kb / 1024)) (one idle backend $((one_idle / 1024)))"
echo "  $SESSIONS sessions + worker: $((worker_kb / 1024)) (worker $((worker_only_kb / 1024))) = $(echo "scale=2; $worker_kb / $base_kb" | bc -l)x of idle + one model (target <= 1.3)"
echo "  the worker after 2.5 s idle: $((worker_idle_kb / 1024))"
echo "  $SESSIONS in-process sessions: $((here_kb / 1024)) = $(echo "scale=2; $here_kb / $base_kb" | bc -l)x"
