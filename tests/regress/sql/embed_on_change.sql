-- persona.embed_on_change: columns whose vectors keep themselves fresh.
-- Triggers queue inserted rows and rows whose text changed; here
-- persona.embed_backlog_step() and CALL persona.embed_pending() are called by
-- hand, as the background embedder would call them. The cluster may run that
-- embedder too (persona preloaded): it is told at commit, so the steps here
-- run in the transaction that queued the rows, where it cannot see them, and
-- each transaction leaves nothing queued.
\set SHOW_CONTEXT never
\set VERBOSITY terse
CREATE TABLE fresh_reviews (id int PRIMARY KEY, body text, stars int, body_vec real[]);
SELECT persona.embed_on_change('fresh_reviews', 'body', 'body_vec') > 0 AS registered;
SELECT count(*) AS triggers FROM pg_trigger
WHERE tgrelid = 'fresh_reviews'::regclass AND tgname ~ '^persona_embed_[0-9]+_(insert|update)$';
-- The registration's state, as the view shows it.
CREATE FUNCTION pg_temp.fresh(t regclass) RETURNS TABLE (backlog bigint, rows_embedded bigint, errors bigint, rows_failed bigint, stopped text)
LANGUAGE sql AS $$
    SELECT backlog, rows_embedded, errors, rows_failed, last_error FROM persona.fresh_columns WHERE table_name = t
$$;
-- After rows were committed: waits until no other session (the background embedder) holds any.
CREATE FUNCTION pg_temp.settle(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 600 LOOP
        EXIT WHEN (SELECT backlog FROM persona.fresh_columns WHERE table_name = t) = 0;
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;

-- 20 inserted rows: 20 queued, nothing embedded until a step runs.
BEGIN;
INSERT INTO fresh_reviews (id, body, stars)
SELECT i, format('Review %s: the %s is %s and the fit is %s.', i, (ARRAY['dress', 'coat', 'skirt', 'top'])[1 + i % 4],
                 (ARRAY['soft', 'itchy', 'thin'])[1 + i % 3], (ARRAY['true to size', 'small', 'large'])[1 + i % 3]), 1 + i % 5
FROM generate_series(1, 20) i;
SELECT * FROM pg_temp.fresh('fresh_reviews');
SELECT count(body_vec) AS embedded_before_step FROM fresh_reviews;
SELECT lag > interval '0' AS lag_shown FROM persona.fresh_columns WHERE table_name = 'fresh_reviews'::regclass;
SELECT persona.embed_backlog_step() AS handled;
SELECT * FROM pg_temp.fresh('fresh_reviews');
SELECT last_batch_rows, last_batch_at IS NOT NULL AS batch_seen, lag FROM persona.fresh_columns
WHERE table_name = 'fresh_reviews'::regclass;
-- The same vectors as persona.embed (and so as persona.embed_column).
SELECT count(*) FILTER (WHERE persona.cosine_similarity(body_vec, persona.embed(body)) >= 0.99999) AS same_as_embed, count(*) AS rows
FROM fresh_reviews;
SELECT persona.embed_backlog_step() AS nothing_left;
COMMIT;

-- 3 texts change, 2 rows change another column, 2 texts are set to what they
-- were, one text changes twice: exactly the 3 keys are queued, once each.
BEGIN;
UPDATE fresh_reviews SET body = body || ' Edited.' WHERE id IN (1, 2, 3);
UPDATE fresh_reviews SET stars = 5 WHERE id IN (4, 5);
UPDATE fresh_reviews SET body = body WHERE id = 6;
UPDATE fresh_reviews SET body = body, stars = 1 WHERE id = 7;
UPDATE fresh_reviews SET body = body || ' Edited again.' WHERE id = 1;
SELECT b.key FROM persona.fresh_backlog b JOIN persona.fresh_registrations g ON g.id = b.registration
WHERE g.tbl = 'fresh_reviews'::regclass ORDER BY b.key;
-- A row deleted before the step drops out; a NULL text gives a NULL vector.
DELETE FROM fresh_reviews WHERE id = 3;
UPDATE fresh_reviews SET body = NULL WHERE id = 8;
SELECT persona.embed_backlog_step() AS handled;
SELECT id, body_vec IS NULL AS vec_is_null, persona.cosine_similarity(body_vec, persona.embed(body)) >= 0.99999 AS fresh
FROM fresh_reviews WHERE id IN (1, 2, 4, 8) ORDER BY id;
SELECT * FROM pg_temp.fresh('fresh_reviews');
COMMIT;

-- Batches: a step takes at most batch_size rows; embed_pending commits batch
-- after batch (the background embedder may take some: the NOTICE with the
-- count is hidden, the end state is the same).
BEGIN;
INSERT INTO fresh_reviews (id, body) SELECT i, 'Bulk review number ' || i FROM generate_series(100, 169) i;
SELECT persona.embed_backlog_step(25) AS first_batch;
SELECT backlog FROM pg_temp.fresh('fresh_reviews');
COMMIT;
SET client_min_messages = warning;
CALL persona.embed_pending(batch_size => 20);
RESET client_min_messages;
SELECT pg_temp.settle('fresh_reviews');
SELECT * FROM pg_temp.fresh('fresh_reviews');
SELECT count(*) AS texts_without_vector FROM fresh_reviews WHERE body IS NOT NULL AND body_vec IS NULL;

-- A row whose vector cannot be written is recorded with its error and leaves
-- the queue; the rest of its batch is embedded; it is not retried ...
BEGIN;
ALTER TABLE fresh_reviews ADD CONSTRAINT no_poison CHECK (body_vec IS NULL OR body NOT LIKE '%poison%');
INSERT INTO fresh_reviews (id, body) VALUES (200, 'Lovely linen shirt'), (201, 'This poison green is awful'), (202, 'Great warm coat');
SELECT persona.embed_backlog_step() AS handled;
SELECT key, sqlstate, message, attempts FROM persona.fresh_errors ORDER BY key;
SELECT id, body_vec IS NOT NULL AS embedded FROM fresh_reviews WHERE id >= 200 ORDER BY id;
SELECT * FROM pg_temp.fresh('fresh_reviews');
SELECT persona.embed_backlog_step() AS not_retried;
-- ... until its text changes; a success clears the error row.
UPDATE fresh_reviews SET body = 'This bright green is awful' WHERE id = 201;
SELECT persona.embed_backlog_step() AS handled;
SELECT * FROM pg_temp.fresh('fresh_reviews');
INSERT INTO fresh_reviews (id, body) VALUES (203, 'poison again');
SELECT persona.embed_backlog_step() AS handled;
SELECT errors FROM pg_temp.fresh('fresh_reviews');
COMMIT;

-- A problem of the whole column (here its model) keeps the rows queued and says why.
BEGIN;
UPDATE persona.fresh_registrations SET model = 'no-such-model' WHERE tbl = 'fresh_reviews'::regclass;
INSERT INTO fresh_reviews (id, body) VALUES (300, 'Waiting for a model');
SELECT persona.embed_backlog_step() AS handled;
SELECT * FROM pg_temp.fresh('fresh_reviews');
UPDATE persona.fresh_registrations SET model = 'all-MiniLM-L6-v2' WHERE tbl = 'fresh_reviews'::regclass;
SELECT persona.embed_backlog_step() AS handled;
SELECT * FROM pg_temp.fresh('fresh_reviews');
COMMIT;

-- Bad registrations.
CREATE TABLE fresh_nokey (body text, v real[]);
CREATE TABLE fresh_twokeys (a int, b int, body text, v real[], PRIMARY KEY (a, b));
CREATE TABLE fresh_other (id int PRIMARY KEY, body text, n int, v real[], iv int[],
                          g real[] GENERATED ALWAYS AS (ARRAY[length(body)]::real[]) STORED);
CREATE VIEW fresh_view AS SELECT * FROM fresh_other;
SELECT persona.embed_on_change('fresh_nokey', 'body', 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_twokeys', 'body', 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_twokeys', 'body', 'v', key_col => 'a');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_other', 'body', 'iv');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_other', 'n', 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_other', 'body', 'g');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_other', 'nope', 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_other', 'body', 'nope');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_other', 'body', 'v', key_col => 'nope');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_other', 'body', 'v', key_col => 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_other', 'body', 'v', model => 'no-such-model');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_view', 'body', 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_reviews', 'body', 'body_vec');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change(NULL, 'body', 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_other', NULL, 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change('fresh_other', 'body', 'v', backfill => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_backlog_step(0);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_backlog_step(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change_drop('fresh_other', 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change_drop('fresh_other', 'v', if_exists => true) AS dropped;
SELECT count(*) AS registered_by_mistake FROM persona.fresh_registrations
WHERE tbl IN ('fresh_nokey'::regclass, 'fresh_twokeys'::regclass, 'fresh_other'::regclass, 'fresh_view'::regclass);

-- Hostile names, a text key (quotes, empty) and a varchar text column.
CREATE TABLE "fresh; DROP TABLE fresh_reviews; --" ("it's ""k""" text PRIMARY KEY, "评论" varchar(200), "向量 vec" real[]);
SELECT persona.embed_on_change('"fresh; DROP TABLE fresh_reviews; --"', '评论', '向量 vec') > 0 AS registered;
BEGIN;
INSERT INTO "fresh; DROP TABLE fresh_reviews; --" VALUES ('a''b', '物流很快，质量不错', NULL), ('"c"', 'Runs small', NULL), ('', 'empty key', NULL);
SELECT persona.embed_backlog_step() AS handled;
SELECT "it's ""k""" AS key, persona.cosine_similarity("向量 vec", persona.embed("评论")) >= 0.99999 AS fresh
FROM "fresh; DROP TABLE fresh_reviews; --" ORDER BY 1;
COMMIT;

-- Existing rows with no vector are queued at registration (backfill); keys
-- that are timestamps come back whatever the session's date style.
CREATE TABLE fresh_events (at timestamptz PRIMARY KEY, note text, note_vec real[]);
INSERT INTO fresh_events VALUES ('2026-01-02 03:04:05.678901+00', 'first note', NULL), ('2026-01-03 00:00:00+00', 'has one', '{1}'),
                                ('2026-01-04 00:00:00+00', NULL, NULL);
BEGIN;
SET LOCAL datestyle = 'SQL, DMY';
SELECT persona.embed_on_change('fresh_events', 'note', 'note_vec') > 0 AS registered;
SELECT persona.embed_backlog_step() AS handled;
COMMIT;
SELECT note, array_length(note_vec, 1) AS dims FROM fresh_events ORDER BY note;

-- Owners: a role sees and works only its own registrations; writers without
-- any right on persona's tables still queue their changes.
SELECT current_database() || '_fresh_a' AS role_a, current_database() || '_fresh_b' AS role_b \gset
SET client_min_messages = warning;
DROP ROLE IF EXISTS :"role_a", :"role_b";
RESET client_min_messages;
CREATE ROLE :"role_a";
CREATE ROLE :"role_b";
CREATE SCHEMA fresh_a AUTHORIZATION :"role_a";
SET ROLE :"role_a";
CREATE TABLE fresh_a.notes (id bigint PRIMARY KEY, body text, v real[]);
GRANT USAGE ON SCHEMA fresh_a TO :"role_b";
GRANT SELECT, INSERT ON fresh_a.notes TO :"role_b";
SELECT persona.embed_on_change('fresh_a.notes', 'body', 'v') > 0 AS registered;
RESET ROLE;
-- The superuser may not register another role's table (it would lend that role superuser) ...
SELECT persona.embed_on_change('fresh_a.notes', 'body', 'v');
\echo :LAST_ERROR_SQLSTATE
-- ... nor may another role, nor drop the registration.
SET ROLE :"role_b";
SELECT persona.embed_on_change('fresh_a.notes', 'body', 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.embed_on_change_drop('fresh_a.notes', 'v');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
BEGIN;
SET ROLE :"role_a";
INSERT INTO fresh_a.notes VALUES (1, 'mine', NULL), (2, 'also mine', NULL);
SELECT count(*) AS registrations, sum(backlog) AS backlog FROM persona.fresh_columns;
RESET ROLE;
-- The superuser sees it, but its step takes only the superuser's own rows.
SELECT backlog FROM pg_temp.fresh('fresh_a.notes');
SELECT persona.embed_backlog_step() AS superuser_handles;
SET ROLE :"role_b";
SELECT (SELECT count(*) FROM persona.fresh_columns) AS registrations, (SELECT count(*) FROM persona.fresh_registrations) AS registration_rows,
       (SELECT count(*) FROM persona.fresh_backlog) AS backlog_rows, (SELECT count(*) FROM persona.fresh_errors) AS error_rows;
INSERT INTO fresh_a.notes VALUES (3, 'written by another role', NULL);
SELECT persona.embed_backlog_step() AS b_handles;
SET ROLE :"role_a";
SELECT persona.embed_backlog_step() AS a_handles;
SELECT id, persona.cosine_similarity(v, persona.embed(body)) >= 0.99999 AS fresh FROM fresh_a.notes ORDER BY id;
RESET ROLE;
COMMIT;
SET ROLE :"role_a";
SELECT persona.embed_on_change_drop('fresh_a.notes', 'v') AS dropped;
RESET ROLE;

-- Dropping stops it: the triggers, the queue and the error rows go, the vectors stay.
SELECT persona.embed_on_change_drop('fresh_reviews', 'body_vec') AS dropped;
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'fresh_reviews'::regclass AND tgname LIKE 'persona_embed_%';
INSERT INTO fresh_reviews (id, body) VALUES (400, 'after the drop');
SELECT (SELECT count(*) FROM persona.fresh_backlog) AS backlog_rows, (SELECT count(*) FROM persona.fresh_errors) AS error_rows,
       (SELECT count(*) FROM persona.fresh_columns WHERE table_name = 'fresh_reviews'::regclass) AS registrations,
       (SELECT count(body_vec) FROM fresh_reviews) AS vectors_kept;
SELECT persona.embed_on_change_drop('fresh_reviews', 'body_vec');
\echo :LAST_ERROR_SQLSTATE
-- A dropped table's registration goes at the owner's next step.
BEGIN;
CREATE TABLE fresh_gone (id int PRIMARY KEY, body text, v real[]);
SELECT persona.embed_on_change('fresh_gone', 'body', 'v') > 0 AS registered;
INSERT INTO fresh_gone VALUES (1, 'soon gone', NULL);
DROP TABLE fresh_gone;
SELECT persona.embed_backlog_step() AS handled;
SELECT count(*) AS orphans FROM persona.fresh_registrations g WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = g.tbl);
COMMIT;

SELECT persona.embed_on_change_drop(t, v) AS dropped
FROM (VALUES ('"fresh; DROP TABLE fresh_reviews; --"'::regclass, '向量 vec'::name), ('fresh_events', 'note_vec')) x(t, v);
SELECT (SELECT count(*) FROM persona.fresh_registrations) AS registrations, (SELECT count(*) FROM persona.fresh_backlog) AS backlog_rows;
DROP VIEW fresh_view;
DROP TABLE fresh_reviews, fresh_nokey, fresh_twokeys, fresh_other, fresh_events, "fresh; DROP TABLE fresh_reviews; --";
DROP TABLE fresh_a.notes;
DROP SCHEMA fresh_a;
DROP ROLE :"role_a", :"role_b";
