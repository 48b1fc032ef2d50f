#!/usr/bin/env bash
# Columns that keep themselves fresh, with the background embedder the private
# cluster preloads (nobody calls persona.embed_backlog_step here):
#  1. 1,000 inserted reviews all get their vector, in batches, within a bound;
#  2. 10 changed texts are re-embedded and nothing else (updates of another
#     column and texts set to what they were are not);
#  3. the worker terminated mid-backlog: the backlog still drains to 0, every
#     vector is there, and no row was embedded twice.
# The table belongs to a role that is not a superuser: the worker runs its
# work as that role. A trigger of the test counts the vectors written into
# each row (n_embedded), so "embedded twice" is seen per row, not only in the
# registration's counter.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

PORT=${PERSONA_TEST_PORT:-55498}
BOUND=${PERSONA_FRESH_BOUND:-120}
scripts/cluster.sh start regress "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT")
DB=persona_e2e_fresh
ROLE=persona_e2e_fresh_owner  # roles are cluster-wide: dropped at the end
"${PSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
    -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN CREATE ROLE $ROLE LOGIN; END IF; END \$\$" \
    -c "CREATE DATABASE $DB OWNER $ROLE"
admin() { "${PSQL[@]}" -U postgres -d "$DB" -At "$@"; }
owner() { "${PSQL[@]}" -U "$ROLE" -d "$DB" -At "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
state() {
    admin -c "SELECT format('backlog %s, lag %s, rows embedded %s, errors %s, last error %s; %s persona backends', backlog, lag,
                            rows_embedded, errors, coalesce(last_error, '-'),
                            (SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'persona%'))
              FROM persona.fresh_columns WHERE table_name = 'reviews'::regclass"
}
# Polls until the SQL condition $2 holds, at most $BOUND s; prints the seconds it took.
wait_for() {
    local what=$1 cond=$2 start now
    start=$(date +%s.%N)
    until [ "$(admin -c "SELECT ($cond)")" = t ]; do
        now=$(date +%s.%N)
        if awk -v a="$now" -v b="$start" -v m="$BOUND" 'BEGIN { exit !(a - b > m) }'; then
            fail "$what: not done after $BOUND s ($(state))"
        fi
        sleep 0.2
    done
    awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.1f", a - b }'
}
expect() {  # expect WHAT WANTED SQL
    local got
    got=$(admin -c "$3")
    [ "$got" = "$2" ] || fail "$1: expected $2, got $got ($(state))"
}

admin -c "CREATE EXTENSION persona"
owner -c "CREATE TABLE reviews (id int PRIMARY KEY, body text, stars int, body_vec real[], n_embedded int NOT NULL DEFAULT 0)" \
    -c "CREATE FUNCTION count_embedding() RETURNS trigger LANGUAGE plpgsql AS \$\$
        BEGIN NEW.n_embedded := OLD.n_embedded + 1; RETURN NEW; END \$\$" \
    -c "CREATE TRIGGER count_embedding BEFORE UPDATE OF body_vec ON reviews FOR EACH ROW
        WHEN (NEW.body_vec IS DISTINCT FROM OLD.body_vec) EXECUTE FUNCTION count_embedding()" \
    -c "SET client_min_messages = warning" \
    -c "SELECT persona.embed_on_change('reviews', 'body', 'body_vec')" >/dev/null
expect "registration owner" "$ROLE" "SELECT owner FROM persona.fresh_columns WHERE table_name = 'reviews'::regclass"
echo "persona backends before: $(admin -c "SELECT coalesce(string_agg(backend_type, ', '), 'none') FROM pg_stat_activity WHERE backend_type LIKE 'persona%'")"

# 1. 1,000 reviews-like texts in one INSERT.
owner -c "INSERT INTO reviews (id, body, stars)
          SELECT i, format('%s %s Review %s.',
                    (ARRAY['Love this dress,', 'The coat is warm but', 'This skirt', 'Beautiful top,', 'The jeans'])[1 + i % 5],
                    (ARRAY['runs small, so order a size up.', 'fits true to size and the fabric is soft.',
                           'is itchy and the seams came apart after one wash.', 'looks exactly like the picture.',
                           'is too long for someone petite.', 'arrived late but was worth the wait.'])[1 + (i / 5) % 6], i),
                 1 + i % 5
          FROM generate_series(1, 1000) i"
took=$(wait_for "1,000 inserted rows" "(SELECT count(*) FROM reviews WHERE body_vec IS NULL) = 0")
echo "1,000 inserted reviews embedded in the background in $took s"
expect "rows embedded after 1,000 inserts" 1000 "SELECT rows_embedded FROM persona.fresh_columns WHERE table_name = 'reviews'::regclass"
expect "rows not embedded exactly once" 0 "SELECT count(*) FROM reviews WHERE n_embedded <> 1"
expect "backlog after 1,000 inserts" 0 "SELECT backlog FROM persona.fresh_columns WHERE table_name = 'reviews'::regclass"
expect "vectors equal to persona.embed" t \
    "SELECT bool_and(persona.cosine_similarity(body_vec, persona.embed(body)) >= 0.99999) FROM reviews WHERE id % 25 = 0"

# 2. 10 texts change; 5 rows change another column; 5 texts are set to themselves.
owner -c "UPDATE reviews SET body = body || ' Edited: after a wash it shrank.' WHERE id BETWEEN 11 AND 20" \
    -c "UPDATE reviews SET stars = 5 WHERE id BETWEEN 21 AND 25" \
    -c "UPDATE reviews SET body = body WHERE id BETWEEN 26 AND 30"
took=$(wait_for "10 changed texts" "(SELECT count(*) FROM reviews WHERE n_embedded = 2) = 10
                                    AND (SELECT backlog FROM persona.fresh_columns WHERE table_name = 'reviews'::regclass) = 0")
echo "10 changed texts re-embedded in $took s"
sleep 3  # anything else queued would have been embedded by now
expect "rows embedded after 10 changes" 1010 "SELECT rows_embedded FROM persona.fresh_columns WHERE table_name = 'reviews'::regclass"
expect "re-embedded rows" "11-20" "SELECT min(id) || '-' || max(id) FROM reviews WHERE n_embedded <> 1"
expect "re-embedded rows not exactly twice" 0 "SELECT count(*) FROM reviews WHERE id BETWEEN 11 AND 20 AND n_embedded <> 2"
expect "re-embedded vectors are of the new texts" t \
    "SELECT bool_and(persona.cosine_similarity(body_vec, persona.embed(body)) >= 0.99999) FROM reviews WHERE id BETWEEN 11 AND 20"

# 3. 500 longer texts; once the worker has committed a batch of them, it is terminated.
owner -c "INSERT INTO reviews (id, body)
          SELECT i, repeat('I ordered my usual size and it was tight across the shoulders, the colour is lovely in daylight. ', 6) || i
          FROM generate_series(1001, 1500) i"
wait_for "a first batch of the 500" \
    "(SELECT rows_embedded FROM persona.fresh_columns WHERE table_name = 'reviews'::regclass) > 1010" >/dev/null
left=$(admin -c "SELECT backlog FROM persona.fresh_columns WHERE table_name = 'reviews'::regclass")
killed=$(admin -c "SELECT count(*) FILTER (WHERE t) FROM (SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity
                                                         WHERE backend_type LIKE 'persona%') k")
# The embedder worker too (not a backend: a plain SIGTERM): the refresher's
# batch fails and is retried, and the new worker restarts refreshers from
# the pairs it keeps in the data directory.
wpid=$(admin -c "SELECT pid FROM persona.embedder WHERE mode = 'worker'")
[ -n "$wpid" ] || fail "no embedder worker"
kill -TERM "$wpid"
echo "terminated $killed persona background worker(s) and the embedder worker $wpid with $left rows still queued"
[ "$killed" -ge 1 ] || fail "no persona background worker in pg_stat_activity to terminate"
[ "$left" -gt 0 ] || fail "the 500 were embedded before the worker could be terminated: make the texts longer"
took=$(wait_for "the 500 after the worker was terminated" "(SELECT count(*) FROM reviews WHERE body_vec IS NULL) = 0
        AND (SELECT backlog FROM persona.fresh_columns WHERE table_name = 'reviews'::regclass) = 0")
echo "the backlog drained $took s after the worker was terminated"
expect "rows embedded after the 500" 1510 "SELECT rows_embedded FROM persona.fresh_columns WHERE table_name = 'reviews'::regclass"
expect "of the 500, rows not embedded exactly once" 0 "SELECT count(*) FROM reviews WHERE id > 1000 AND n_embedded <> 1"
expect "errors" 0 "SELECT errors FROM persona.fresh_columns WHERE table_name = 'reviews'::regclass"
echo "state at the end: $(state)"

"${PSQL[@]}" -U postgres -d postgres -c "DROP DATABASE $DB WITH (FORCE)" -c "DROP ROLE $ROLE"
echo "e2e embed_on_change: ok"
