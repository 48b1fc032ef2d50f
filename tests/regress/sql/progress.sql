-- persona.progress: the view's shape, and the functions PL/pgSQL jobs report
-- with, on this session's own row. Other sessions' jobs (kmeans_train seen
-- from another backend, cancel, privileges): tests/e2e/progress.sh.
-- The rows need persona in shared_preload_libraries (scripts/cluster.sh).
\set SHOW_CONTEXT never
SELECT current_setting('shared_preload_libraries') ~ '(^|,)\s*persona\s*(,|$)' AS preloaded;
SELECT attname, format_type(atttypid, atttypmod) AS type
FROM pg_attribute WHERE attrelid = 'persona.progress'::regclass AND attnum > 0 ORDER BY attnum;
SELECT has_table_privilege('public', 'persona.progress', 'SELECT') AS public_can_read;
-- Nothing runs in this session.
SELECT count(*) FROM persona.progress WHERE pid = pg_backend_pid();
-- A job of this session, from begin to end (the row outlives the statement:
-- a procedure that commits per batch keeps it).
SELECT persona._progress_begin('embed_column', 'counting rows', 'rows', NULL);
SELECT job, phase, done, total, unit, database = current_database() AS own_database, role = current_user AS own_role,
       rate >= 0 AS rate_known, time_left IS NULL AS no_time_left, started_at <= updated_at AS times_ordered
FROM persona.progress WHERE pid = pg_backend_pid();
SELECT persona._progress_update(0, 'embedding', 1000);
SELECT persona._progress_update(250);
SELECT job, phase, done, total, unit, rate > 0 AS rate_positive, time_left > interval '0' AS time_left_known
FROM persona.progress WHERE pid = pg_backend_pid();
-- All done: no time left.
SELECT persona._progress_update(1000);
SELECT done, total, time_left FROM persona.progress WHERE pid = pg_backend_pid();
-- A job inside it shows under the outer job's name, then gives the row back.
SELECT persona._progress_begin('build_profiles', 'reading events', 'steps', 7);
SELECT persona._progress_update(3, 'per-user figures');
SELECT job, phase, done, total, unit FROM persona.progress WHERE pid = pg_backend_pid();
SELECT persona._progress_end();
SELECT job, phase, done, total, unit FROM persona.progress WHERE pid = pg_backend_pid();
SELECT persona._progress_end();
SELECT count(*) FROM persona.progress WHERE pid = pg_backend_pid();
-- With no job, update and end do nothing.
SELECT persona._progress_update(5);
SELECT persona._progress_end();
SELECT count(*) FROM persona.progress WHERE pid = pg_backend_pid();
-- A long phase is cut to at most 96 bytes, at a character boundary.
SELECT persona._progress_begin('report', 'a' || repeat('é', 60), 'steps', 6);
SELECT octet_length(phase) AS phase_bytes, phase = 'a' || repeat('é', 47) AS cut_whole FROM persona.progress WHERE pid = pg_backend_pid();
SELECT persona._progress_end();

-- An abort ends the jobs begun in the transaction...
BEGIN;
SELECT persona._progress_begin('report', 'reading the segments', 'steps', 6);
SELECT count(*) FROM persona.progress WHERE pid = pg_backend_pid();
ROLLBACK;
SELECT count(*) FROM persona.progress WHERE pid = pg_backend_pid();
-- ... an error too ...
BEGIN;
SELECT persona._progress_begin('report', 'reading the segments', 'steps', 6);
SELECT 1 / 0;
ROLLBACK;
SELECT count(*) FROM persona.progress WHERE pid = pg_backend_pid();
-- ... and a rolled-back savepoint those begun in it, not the outer ones;
-- what survives a commit stays.
BEGIN;
SELECT persona._progress_begin('refresh_profiles', 'finding changed users', 'steps', 8);
SAVEPOINT s;
SELECT persona._progress_begin('score_risks', 'reading events', 'rows', NULL);
SAVEPOINT t;
RELEASE SAVEPOINT t;
SELECT job, phase FROM persona.progress WHERE pid = pg_backend_pid();
ROLLBACK TO SAVEPOINT s;
SELECT job, phase FROM persona.progress WHERE pid = pg_backend_pid();
COMMIT;
SELECT job, phase FROM persona.progress WHERE pid = pg_backend_pid();
-- A PL/pgSQL block that catches an error inside a job ends only what began inside.
DO $$
BEGIN
    BEGIN
        PERFORM persona._progress_begin('gmm_train', 'fitting', 'restarts', 3);
        PERFORM 1 / 0;
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
END
$$;
SELECT job, phase FROM persona.progress WHERE pid = pg_backend_pid();
SELECT persona._progress_end();
SELECT count(*) FROM persona.progress WHERE pid = pg_backend_pid();

-- Bad arguments: clean errors with SQLSTATEs, and no row.
SELECT persona._progress_begin(NULL, 'x', 'rows', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT persona._progress_begin('report', NULL, 'rows', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT persona._progress_begin('report', 'x', NULL, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT persona._progress_begin('', 'x', 'rows', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT persona._progress_begin('Kmeans Train', 'x', 'rows', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT persona._progress_begin(repeat('j', 33), 'x', 'rows', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT persona._progress_begin('report', 'x', '', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT persona._progress_begin('report', 'x', repeat('u', 17), 1);
\echo :LAST_ERROR_SQLSTATE
SELECT persona._progress_begin('report', 'x', 'rows', -1);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM persona.progress WHERE pid = pg_backend_pid();
SELECT persona._progress_begin('report', 'x', 'rows', 10);
SELECT persona._progress_update(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT persona._progress_begin('report', 'x', 'rows', 10);
SELECT persona._progress_update(-1);
\echo :LAST_ERROR_SQLSTATE
SELECT persona._progress_begin('report', 'x', 'rows', 10);
SELECT persona._progress_update(1, NULL, -5);
\echo :LAST_ERROR_SQLSTATE
-- (each error aborted its statement's transaction, which ended the job)
SELECT count(*) FROM persona.progress WHERE pid = pg_backend_pid();
