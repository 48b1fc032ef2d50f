-- persona.kmeans_train and the segment views, on planted personas.
\set SHOW_CONTEXT never
SET client_min_messages = warning;  -- per-iteration NOTICEs carry timings
-- Four personas in 16 dimensions (each strong on its own quarter of the
-- axes), five identical bot-like accounts far from everyone, one NULL vector.
CREATE TABLE vecs AS
SELECT u AS user_id, u % 4 AS persona,
       (SELECT array_agg(((CASE WHEN d % 4 = u % 4 THEN 3.0 ELSE 0 END) + sin(u * 12.9898 + d * 78.233) * 0.7)::real ORDER BY d)
        FROM generate_series(1, 16) d) AS v
FROM generate_series(1, 2000) u;
INSERT INTO vecs SELECT 10000 + i, -1, array_fill(20::real, ARRAY[16]) FROM generate_series(1, 5) i;
INSERT INTO vecs VALUES (20000, -1, NULL);
-- Automatic k by silhouette over 2..8.
SELECT version, k, round(silhouette::numeric, 2) AS silhouette, rows, training_mode
FROM persona.kmeans_train('planted', 'vecs', 'v', k_max => 8, metric => 'l2');
SELECT jsonb_array_length(k_candidates) AS k_tried, skipped_rows FROM persona.kmeans_models WHERE name = 'planted';
-- Segments recover the personas (adjusted Rand index 1 = the same partition).
SELECT round(persona.adjusted_rand_index(array_agg(persona ORDER BY user_id), array_agg(segment ORDER BY user_id))::numeric, 4) AS ari
FROM vecs JOIN persona.segment_members m USING (user_id) WHERE persona >= 0 AND m.model = 'planted';
-- The bots form a tiny segment; each of them is the most anomalous user.
SELECT count(*) AS bots_flagged FROM persona.top_outliers WHERE model = 'planted' AND user_id > 10000 AND rank <= 5;
SELECT count(*) AS others_flagged FROM persona.top_outliers WHERE model = 'planted' AND user_id < 10000;
-- The k-anonymity floor hides the bots' segment of 5 from the segments view.
SELECT count(*) AS segments_shown, sum(size) AS users_shown FROM persona.segments WHERE model = 'planted';
SET persona.k_anonymity_floor = 1;
SELECT count(*) AS segments_shown FROM persona.segments WHERE model = 'planted';
RESET persona.k_anonymity_floor;
-- Scoring one vector; margins are positive.
SELECT persona.kmeans_assign('planted', v) = m.segment AS same_segment, persona.anomaly_score('planted', v) > 3 AS anomalous
FROM vecs JOIN persona.segment_members m USING (user_id) WHERE user_id IN (1, 2, 10001) ORDER BY user_id;
SELECT bool_and(margin > 0) AS margins_positive FROM persona.segment_members WHERE model = 'planted';
-- Retraining: a new version; ids match the old ones; the old version stays.
SELECT version, k FROM persona.kmeans_train('planted', 'vecs', 'v', k => 5, metric => 'l2', seed => 7);
SELECT from_segment = to_segment AS same_id, sum(users) AS users
FROM persona.segment_transitions('planted', 1, 2) GROUP BY 1;
SELECT version, count(*) FROM persona.segment_assignments WHERE name = 'planted' GROUP BY 1 ORDER BY 1;
-- Beyond persona.kmeans_work_mem: one pass over the source per iteration, same answer.
SELECT inertia AS in_memory_inertia FROM persona.kmeans_train('small', 'vecs', 'v', k => 4, metric => 'l2', n_init => 1) \gset
SET persona.kmeans_work_mem = '64kB';
SELECT training_mode, abs(inertia - :in_memory_inertia) < 1e-6 * :in_memory_inertia AS same_inertia
FROM persona.kmeans_train('small', 'vecs', 'v', k => 4, metric => 'l2', n_init => 1);
RESET persona.kmeans_work_mem;
-- Cosine (the default metric) and a query source.
SELECT k, training_mode FROM persona.kmeans_train('cos', '(SELECT user_id, v FROM vecs WHERE persona >= 0)', 'v', k => 4);
RESET client_min_messages;

-- Bad input.
SELECT * FROM persona.kmeans_train('x', 'vecs', 'v', k => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('x', 'vecs', 'v', k => 3000);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('x', 'vecs', 'v', k_min => 6, k_max => 3);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('x', 'no_such_table', 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('x', 'vecs', 'no_such_col');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('x', 'vecs', 'persona');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('x', '(SELECT 1 AS user_id, ''{1,2}''::real[] AS v UNION ALL SELECT 2, ''{1,2,3}'')', 'v', k => 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('x', '(SELECT 7 AS user_id, ''{1,NaN}''::real[] AS v)', 'v', k => 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('x', 'vecs', 'v', metric => 'manhattan');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('x', 'vecs', 'v', init => 'forgy');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('x', 'vecs', 'v', n_init => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('x');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('x', profiles => 'no_such_profiles');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.kmeans_assign('no_such_model', '{1,2}');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.kmeans_assign('planted', array_fill(NULL::real, ARRAY[16]));
\echo :LAST_ERROR_SQLSTATE
SELECT persona.kmeans_assign('planted', '{1,2}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.segment_transitions('planted', 1, 9);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('empty', '(SELECT user_id, v FROM vecs WHERE false)', 'v', k => 2);
SELECT round(persona.adjusted_rand_index('{0,0,1,2}', '{0,0,1,1}')::numeric, 6) AS ari, round(persona.normalized_mutual_info('{0,0,1,1}', '{5,5,7,7}')::numeric, 6) AS nmi;

-- A model deleted and trained again (version 1 again) is not confused with
-- the old one that this session has already used.
SET client_min_messages = warning;
SELECT k FROM persona.kmeans_train('again', 'vecs', 'v', k => 2);
SELECT persona.kmeans_assign('again', v) IS NOT NULL AS assigned FROM vecs WHERE user_id = 1;
DELETE FROM persona.kmeans_models WHERE name = 'again';
SELECT k FROM persona.kmeans_train('again', '(SELECT user_id, v[1:2] AS v FROM vecs)', 'v', k => 3);
RESET client_min_messages;
SELECT persona.kmeans_assign('again', v[1:2]) BETWEEN 1 AND 3 AS assigned_by_the_new_model FROM vecs WHERE user_id = 1;

-- Vectors are read straight out of the executor in every form Postgres
-- stores them: short (1-byte header, the 16-d ones above), plain, compressed
-- in line and out of line (TOAST); NULL elements are an ERROR naming the key.
SELECT setseed(0.5);
CREATE TABLE wide (user_id bigint, v real[]);
INSERT INTO wide SELECT i, array_fill((i % 2 * 10)::real + 1, ARRAY[1000]) FROM generate_series(1, 10) i;
INSERT INTO wide SELECT 100 + i, ARRAY(SELECT (i % 2 * 10 + 1 + random())::real FROM generate_series(1, 1000)) FROM generate_series(1, 10) i;
INSERT INTO wide SELECT 200 + i, ARRAY(SELECT (i % 2 * 10 + 1 + random())::real FROM generate_series(1, 64)) FROM generate_series(1, 10) i;
SELECT count(*) FILTER (WHERE pg_column_compression(v) IS NOT NULL) AS compressed,
       -- Too big to stay in line (> 2032 bytes) and not compressed: out of line.
       count(*) FILTER (WHERE pg_column_size(v) > 2032 AND pg_column_compression(v) IS NULL) AS out_of_line,
       count(*) FILTER (WHERE pg_column_size(v) BETWEEN 127 AND 2032) AS plain
FROM wide;
SET client_min_messages = warning;
SELECT k, rows FROM persona.kmeans_train('wide', '(SELECT user_id, v FROM wide WHERE cardinality(v) = 64)', 'v', k => 2, metric => 'l2');
SELECT k, rows FROM persona.kmeans_train('wide1000', '(SELECT user_id, v FROM wide WHERE cardinality(v) = 1000)', 'v', k => 2, metric => 'l2');
RESET client_min_messages;
SELECT persona.adjusted_rand_index(array_agg(m.segment ORDER BY m.user_id), array_agg((m.user_id % 2)::int ORDER BY m.user_id)) AS ari_1000
FROM persona.segment_members m WHERE m.model = 'wide1000';
INSERT INTO wide VALUES (999, array_fill(1::real, ARRAY[999]) || NULL::real);
SELECT * FROM persona.kmeans_train('wide_null', '(SELECT * FROM wide WHERE cardinality(v) = 1000)', 'v', k => 2, metric => 'l2');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE wide;

DELETE FROM persona.kmeans_models;
DROP TABLE vecs;
