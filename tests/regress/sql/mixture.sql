-- persona.gmm_train: soft segments on three well-separated groups of
-- vectors, versions with stable ids, the floor, refresh and bad input.
\set SHOW_CONTEXT never
CREATE TABLE vecs (id bigint, v real[]);
-- 60 vectors around each of three directions, deterministic noise.
INSERT INTO vecs
SELECT g * 100 + i, ARRAY(SELECT (CASE WHEN d = g THEN 5 ELSE 0 END + sin(i * 7 + d * 13 + g))::real FROM generate_series(1, 4) d)
FROM generate_series(1, 3) g, generate_series(1, 60) i;
SET client_min_messages = warning;
SELECT version, k, rows FROM persona.gmm_train('soft', source => 'vecs', vector_col => 'v', key_col => 'id', metric => 'l2',
    components_dim => 4, k_min => 1, k_max => 5);
RESET client_min_messages;
SELECT algorithm, k, dimension, metric, mixture IS NOT NULL AS has_mixture, jsonb_array_length(k_candidates) AS candidates
FROM persona.kmeans_models WHERE name = 'soft';
-- Every user has every segment once, probabilities summing to 1, the first the largest.
SELECT count(*) AS users,
       count(*) FILTER (WHERE abs((SELECT sum(x) FROM unnest(probabilities) x) - 1) < 1e-5) AS sum_to_one,
       count(*) FILTER (WHERE cardinality(segments) = 3 AND probabilities[1] >= probabilities[2]) AS ordered
FROM persona.segment_probabilities WHERE name = 'soft';
-- The segments are the groups.
SELECT round(persona.adjusted_rand_index(array_agg(id / 100 ORDER BY id)::int[], array_agg(segment ORDER BY id))::numeric, 3) AS ari
FROM persona.segment_members m JOIN vecs ON vecs.id = m.user_id WHERE m.model = 'soft';
SELECT segment, size, round(share::numeric, 3) AS share FROM persona.segments WHERE model = 'soft' ORDER BY segment;
SELECT count(*) AS users, count(second_segment) AS with_second, min(probability) > 0.5 AS sure
FROM persona.soft_segments WHERE model = 'soft';
-- The same assignment for a stored vector, one at a time.
SELECT n.segment = m.segment AS same_segment, cardinality(n.segments) AS segments
FROM vecs, persona._mixture_assign('soft', vecs.v) n, persona.segment_members m
WHERE vecs.id = 105 AND m.model = 'soft' AND m.user_id = 105;
-- A second version keeps the segment ids.
SET client_min_messages = warning;
SELECT version, k FROM persona.gmm_train('soft', source => 'vecs', vector_col => 'v', key_col => 'id', metric => 'l2',
    components_dim => 4, k => 3, seed => 7);
RESET client_min_messages;
SELECT count(*) AS users, count(*) FILTER (WHERE a.segment = b.segment) AS same_segment
FROM persona.segment_assignments a JOIN persona.segment_assignments b USING (name, user_id)
WHERE a.name = 'soft' AND a.version = 1 AND b.version = 2;
-- The k-anonymity floor hides segments, and the soft segments with them.
SET client_min_messages = warning;
SELECT version FROM persona.gmm_train('soft', source => 'vecs', vector_col => 'v', key_col => 'id', metric => 'l2',
    components_dim => 4, k => 3, k_anonymity_floor => 1000);
RESET client_min_messages;
SELECT count(*) AS shown FROM persona.segments WHERE model = 'soft';
SELECT count(*) AS shown FROM persona.soft_segments WHERE model = 'soft';
-- Deleting a version deletes its probabilities.
DELETE FROM persona.kmeans_models WHERE name = 'soft' AND version = 3;
SELECT version, count(*) FROM persona.segment_probabilities WHERE name = 'soft' GROUP BY 1 ORDER BY 1;
-- Forgetting a user.
SELECT stored_in, removed FROM persona.forget_user(105) WHERE stored_in = 'persona.segment_probabilities';

-- On profiles: refresh_profiles keeps the probabilities of the users it refreshes.
CREATE TABLE events (user_id bigint, item_id int, event_type text, event_time timestamptz);
INSERT INTO events SELECT u, 1 + (u % 3) * 2 + j % 2, 'view', '2026-06-01+00'::timestamptz + make_interval(hours => u + j)
FROM generate_series(1, 90) u, generate_series(0, 3) j;
INSERT INTO persona.item_vectors (model, item_id, embedding) VALUES
  ('soft_items', 1, '{1,0,0}'), ('soft_items', 2, '{0.9,0.1,0}'), ('soft_items', 3, '{0,1,0}'),
  ('soft_items', 4, '{0.1,0.9,0}'), ('soft_items', 5, '{0,0,1}'), ('soft_items', 6, '{0,0.1,0.9}');
SET client_min_messages = warning;
SELECT profiles FROM persona.build_profiles('soft_shop', 'events', item2vec_model => 'soft_items', active_days => 30, lapsed_days => 90);
SELECT version, k FROM persona.gmm_train('soft_p', profiles => 'soft_shop', k => 3, components_dim => 3);
-- User 1 (items 3 and 4) now only views item 5.
INSERT INTO events SELECT 1, 5, 'view', '2026-06-20+00'::timestamptz + make_interval(hours => j) FROM generate_series(1, 40) j;
SELECT profiles FROM persona.refresh_profiles('soft_shop');
RESET client_min_messages;
SELECT count(*) AS users FROM persona.segment_probabilities WHERE name = 'soft_p';
SELECT p.segments[1] = m.segment AS agrees, p.segments[1] = (SELECT segment FROM persona.segment_members WHERE model = 'soft_p' AND user_id = 2) AS with_item_5_users
FROM persona.segment_probabilities p JOIN persona.segment_members m ON m.model = p.name AND m.user_id = p.user_id
WHERE p.name = 'soft_p' AND p.user_id = 1;

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
SELECT pg_temp.try($$SELECT * FROM persona.gmm_train(NULL, source => 'vecs', vector_col => 'v', key_col => 'id')$$);
SELECT pg_temp.try($$SELECT * FROM persona.gmm_train('bad', vector_col => 'v', key_col => 'id')$$);
SELECT pg_temp.try($$SELECT * FROM persona.gmm_train('bad', source => 'vecs', vector_col => 'v', key_col => 'id', k => 0)$$);
SELECT pg_temp.try($$SELECT * FROM persona.gmm_train('bad', source => 'vecs', vector_col => 'v', key_col => 'id', k => 500)$$);
SELECT pg_temp.try($$SELECT * FROM persona.gmm_train('bad', source => 'vecs', vector_col => 'v', key_col => 'id', k_min => 5, k_max => 2)$$);
SELECT pg_temp.try($$SELECT * FROM persona.gmm_train('bad', source => 'vecs', vector_col => 'v', key_col => 'id', components_dim => 0)$$);
SELECT pg_temp.try($$SELECT * FROM persona.gmm_train('bad', source => 'vecs', vector_col => 'v', key_col => 'id', n_runs => 0)$$);
SELECT pg_temp.try($$SELECT * FROM persona.gmm_train('bad', source => 'vecs', vector_col => 'v', key_col => 'id', metric => 'manhattan')$$);
SELECT pg_temp.try($$SELECT * FROM persona.gmm_train('bad', source => 'vecs', vector_col => 'v', key_col => 'id', k_anonymity_floor => 0)$$);
SELECT pg_temp.try($$SELECT * FROM persona.gmm_train('bad', source => 'vecs', vector_col => 'nope', key_col => 'id')$$);
SELECT pg_temp.try($$SELECT * FROM persona._mixture_assign('soft', '{1,2}')$$);
SELECT pg_temp.try($$SELECT * FROM persona._mixture_assign('nobody', '{1,2,3,4}')$$);
SELECT version FROM persona.kmeans_train('hard', source => 'vecs', vector_col => 'v', key_col => 'id', k => 3);
SELECT pg_temp.try($$SELECT * FROM persona._mixture_assign('hard', '{1,2,3,4}')$$);
SELECT persona.drop_model('kmeans', m) FROM unnest(ARRAY['soft', 'soft_p', 'hard', 'bad']) m;
SELECT persona.drop_model('profiles', 'soft_shop');
DELETE FROM persona.item_vectors WHERE model = 'soft_items';
DROP TABLE vecs, events;
