-- persona.train_item_factors on a hand-made shop with two kinds of users:
-- item vectors are the right singular vectors (orthonormal, deterministic),
-- profiles built on them keep the two kinds apart, bad input is refused.
\set SHOW_CONTEXT never
CREATE TABLE events (user_id bigint, item_id int, event_type text, event_time timestamptz);
-- Users 1-20 buy among items 1-10, users 21-40 among items 11-20; everyone views item 21.
INSERT INTO events
SELECT u, CASE WHEN u <= 20 THEN 1 ELSE 11 END + (u * 3 + j) % 10, CASE WHEN j % 3 = 0 THEN 'purchase' ELSE 'view' END,
       '2026-06-01+00'::timestamptz + make_interval(hours => u * 5 + j)
FROM generate_series(1, 40) u, generate_series(0, 5) j;
INSERT INTO events SELECT u, 21, 'view', '2026-06-20+00' FROM generate_series(1, 40) u;
INSERT INTO events VALUES (NULL, 1, 'view', '2026-06-20+00'), (1, NULL, 'view', '2026-06-20+00'), (1, 1, 'search', '2026-06-20+00');

SELECT items, users, cells, round(explained::numeric, 3) > 0.5 AS explains_most FROM persona.train_item_factors('f', 'events', dim => 4);
SELECT count(*) AS items, min(array_length(embedding, 1)) AS dim, max(array_length(embedding, 1)) AS dim_max FROM persona.item_vectors WHERE model = 'f';
-- Each factor is a unit vector over the items, orthogonal to the others.
SELECT i, j, round(sum(a.embedding[i] * a.embedding[j])::numeric, 4) AS dot
FROM persona.item_vectors a, generate_series(1, 4) i, generate_series(1, 4) j
WHERE a.model = 'f' AND i <= j GROUP BY i, j ORDER BY i, j;
-- The same seed gives the same vectors.
CREATE TABLE first_run AS SELECT item_id, embedding FROM persona.item_vectors WHERE model = 'f';
SELECT count(*) FROM persona.train_item_factors('f', 'events', dim => 4);
SELECT count(*) AS changed FROM first_run r JOIN persona.item_vectors v ON v.model = 'f' AND v.item_id = r.item_id
WHERE v.embedding IS DISTINCT FROM r.embedding;
-- Profiles on the factors: every user nearer the users of its own kind.
SELECT profiles FROM persona.build_profiles('fp', 'events', item2vec_model => 'f', active_days => 30, lapsed_days => 90);
WITH p AS (SELECT user_id, user_id <= 20 AS kind, profile_vec FROM persona.profiles WHERE name = 'fp'),
     d AS (SELECT a.user_id, avg(persona.cosine_similarity(a.profile_vec, b.profile_vec)) FILTER (WHERE a.kind = b.kind) AS same,
                  avg(persona.cosine_similarity(a.profile_vec, b.profile_vec)) FILTER (WHERE a.kind <> b.kind) AS other
           FROM p a JOIN p b ON a.user_id <> b.user_id GROUP BY a.user_id)
SELECT count(*) AS users, count(*) FILTER (WHERE same > other) AS nearer_own_kind FROM d;
-- More factors than the data allows: as many as it does.
SELECT items FROM persona.train_item_factors('f_big', 'events', dim => 64);
SELECT DISTINCT array_length(embedding, 1) FROM persona.item_vectors WHERE model = 'f_big';
-- No weighted events: nothing trained, nothing stored.
SELECT items, users, cells, explained FROM persona.train_item_factors('f_none', 'events', event_weights => '{"refund": 1}');
SELECT count(*) FROM persona.item_vectors WHERE model = 'f_none';

-- Bad input: the SQLSTATE and the message.
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$f$;
SET client_min_messages = warning;
SELECT pg_temp.try($$SELECT * FROM persona.train_item_factors(NULL, 'events')$$);
SELECT pg_temp.try($$SELECT * FROM persona.train_item_factors('f', NULL)$$);
SELECT pg_temp.try($$SELECT * FROM persona.train_item_factors('f', 'events', dim => 0)$$);
SELECT pg_temp.try($$SELECT * FROM persona.train_item_factors('f', 'events', dim => 513)$$);
SELECT pg_temp.try($$SELECT * FROM persona.train_item_factors('f', 'events', power_iterations => 21)$$);
SELECT pg_temp.try($$SELECT * FROM persona.train_item_factors('f', 'events', power_iterations => -1)$$);
SELECT pg_temp.try($$SELECT * FROM persona.train_item_factors('f', 'events', event_weights => '[1, 2]')$$);
SELECT pg_temp.try($$SELECT * FROM persona.train_item_factors('f', 'events', event_weights => '{}')$$);
SELECT pg_temp.try($$SELECT * FROM persona.train_item_factors('f', 'events', event_weights => '{"view": -1}')$$);
SELECT pg_temp.try($$SELECT * FROM persona.train_item_factors('f', 'events', event_weights => '{"view": "a lot"}')$$);
SELECT pg_temp.try($$SELECT * FROM persona.train_item_factors('f', 'events', item_col => 'no_such_column')$$);
SELECT pg_temp.try($$SELECT * FROM persona.train_item_factors('f', 'no_such_table')$$);
SELECT pg_temp.try($$SELECT * FROM persona.train_item_factors('bad name', 'events')$$);
-- The failed calls left the vectors as they were.
SELECT count(*) AS changed FROM first_run r JOIN persona.item_vectors v ON v.model = 'f' AND v.item_id = r.item_id
WHERE v.embedding IS DISTINCT FROM r.embedding;
RESET client_min_messages;

-- A long factorisation stops within a second or two of a cancel; the old vectors stay.
CREATE TABLE many (user_id bigint, item_id int, event_type text);
INSERT INTO many SELECT u, (u * 7919 + j * 104729) % 3000, 'view' FROM generate_series(1, 20000) u, generate_series(1, 30) j;
SET statement_timeout = '2s';
SELECT clock_timestamp() AS t0 \gset
SELECT * FROM persona.train_item_factors('f', 'many', dim => 256, power_iterations => 20);
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT clock_timestamp() - :'t0'::timestamptz < interval '5 seconds' AS stopped_in_time;
SELECT count(*) AS changed FROM first_run r JOIN persona.item_vectors v ON v.model = 'f' AND v.item_id = r.item_id
WHERE v.embedding IS DISTINCT FROM r.embedding;
SET client_min_messages = warning;
SELECT persona.drop_model('profiles', 'fp');
SELECT persona.drop_model('item2vec', m) FROM unnest(ARRAY['f', 'f_big', 'f_none']) m;
DROP TABLE events, first_run, many;
