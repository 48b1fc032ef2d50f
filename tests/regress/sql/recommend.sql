-- Recommendations: train_recommender, recommend, recommend_all, similar_items,
-- cold start, evaluate_recommendations, filters and bad input.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
\i tests/fixtures/planted_shop.sql
SELECT users, items, interactions FROM persona.train_recommender('shop', 'shop_events',
    items => 'shop_items', category_col => 'category', users => 'shop_users');
RESET client_min_messages;
SELECT name, method, users, items, interactions, parameters->>'lambda' AS lambda FROM persona.recommender_models;
-- Each persona shops two categories: with what they have seen allowed, every
-- user's top 10 comes from their own persona's 20 items (bots left out).
SET client_min_messages = warning;
SELECT users, recommendations FROM persona.recommend_all(10, 'shop', exclude_seen => false);
RESET client_min_messages;
SELECT count(DISTINCT r.user_id) AS users, round(avg(((r.item_id - 1) / 20 = u.user_id % 4)::int), 2) AS own_persona_share
FROM persona.recommendations r JOIN shop_users u USING (user_id)
WHERE r.model = 'shop' AND u.persona <> 'bot';
-- recommend() for one user gives the same list as recommend_all.
SELECT bool_and(same) AS recommend_equals_recommend_all FROM (
    SELECT u AS user_id,
           (SELECT array_agg(item_id ORDER BY rank) FROM persona.recommendations r WHERE r.model = 'shop' AND r.user_id = u)
         = (SELECT array_agg(item_id) FROM persona.recommend(u, 10, 'shop', exclude_seen => false)) AS same
    FROM generate_series(1, 804, 7) u) x;
-- Why: a recent history item, or a transition from it.
SELECT item_id, reason FROM persona.recommend(1, 3, 'shop', exclude_seen => false);
-- What user 1 has seen is left out by default: none of the result is in their events.
SELECT count(*) AS recommended, count(*) FILTER (WHERE item_id IN (SELECT item_id FROM shop_events WHERE user_id = 1)) AS already_seen
FROM persona.recommend(1, 10, 'shop');
-- Filters apply before ranking: only 5 unseen cat2 items exist for user 1,
-- and all 5 come back although the model scores them near 0.
SELECT item_id FROM persona.recommend(1, 5, 'shop', categories => '{cat2}') ORDER BY item_id;
SELECT count(*) AS only_five_qualify FROM persona.recommend(1, 7, 'shop', categories => '{cat2}');
SELECT count(*) AS k_items, bool_and(i.price > 80 AND i.category IN ('cat4', 'cat5')) AS all_match
FROM persona.recommend(1, 4, 'shop', filter => $$price > 80 AND category IN ('cat4', 'cat5')$$) r
JOIN shop_items i USING (item_id);
SELECT count(*) AS k_items FROM persona.recommend(1, 10, 'shop', categories => '{cat6,cat7}', filter => 'price < 60');
-- Similar items: a cat0 item's neighbours are the items its persona buys.
SELECT bool_and(item_id <= 20) AS same_persona, count(*) AS items, min(reason) AS reason FROM persona.similar_items(12, 5, 'shop');
-- Leave-last-out: each user's last event held out; persona finds it, popularity mostly does not.
SET client_min_messages = warning;
SELECT method, users, round(hit_rate::numeric, 2) AS hr, ndcg > 0.3 AS ndcg_above_0_3, recall = hit_rate AS recall_is_hr,
       round(coverage::numeric, 2) AS coverage
FROM persona.evaluate_recommendations('shop', 10);
SELECT method, round(hit_rate::numeric, 2) AS hr_at_1 FROM persona.evaluate_recommendations('shop', 1);
RESET client_min_messages;

-- Cold start on a hand-made shop with text vectors.
CREATE TABLE c_items (item_id int, category text, title text, title_vec real[]);
INSERT INTO c_items VALUES
    (101, 'shoes', 'red running shoes', '{1,0,0}'), (102, 'shoes', 'blue running shoes', '{0.9,0.1,0}'),
    (103, 'trousers', 'linen trousers', '{0,1,0}'), (104, 'scarves', 'silk scarf', '{0,0,1}'),
    (105, 'shoes', 'new trail shoes', '{0.95,0.05,0}'), (106, 'scarves', 'wool scarf', '{0.1,0,1}'),
    (107, 'trousers', 'chinos', NULL);
CREATE TABLE c_users (user_id int);
INSERT INTO c_users SELECT u FROM unnest(ARRAY[1, 2, 3, 4, 5, 6, 10, 11, 12]) u;
CREATE TABLE c_events (user_id int, item_id int, event_type text, event_time timestamptz);
INSERT INTO c_events VALUES
    (1, 101, 'view', '2026-01-01'), (1, 102, 'purchase', '2026-01-02'),
    (2, 101, 'view', '2026-01-01'), (2, 102, 'view', '2026-01-03'), (2, 103, 'purchase', '2026-01-04'),
    (3, 102, 'view', '2026-01-02'), (3, 101, 'purchase', '2026-01-05'),
    (4, 104, 'view', '2026-01-01'), (4, 106, 'purchase', '2026-01-02'), (4, 103, 'view', '2026-01-03'),
    (5, 106, 'view', '2026-01-01'), (5, 104, 'purchase', '2026-01-02'),
    (6, 104, 'view', '2026-01-04'), (6, 103, 'purchase', '2026-01-06'), (6, 107, 'view', '2026-01-07');
-- Review and search text vectors: user 10 has only text (about scarves).
CREATE TABLE c_texts (user_id int, embedding real[], created_at timestamptz);
INSERT INTO c_texts VALUES (10, '{0.05,0,1}', '2026-01-05'), (4, '{0,0,1}', '2026-01-05');
-- Segment vectors: user 11 has no behaviour and no text, but sits with the shoe buyers.
CREATE TABLE c_seg_vecs (user_id int, v real[]);
INSERT INTO c_seg_vecs VALUES (1, '{1,0}'), (2, '{1,0.1}'), (3, '{1,0.05}'), (11, '{1,0.02}'),
    (4, '{0,1}'), (5, '{0.1,1}'), (6, '{0.05,1}');
SET client_min_messages = warning;
SELECT profiles FROM persona.build_profiles('cold', 'c_events', users => 'c_users',
    texts => '(SELECT user_id, embedding, created_at FROM c_texts)');
SELECT k FROM persona.kmeans_train('c_seg', source => 'c_seg_vecs', vector_col => 'v', k => 2);
-- Recency and transitions given (six users are too few to choose them on).
SELECT users, items FROM persona.train_recommender('cold', 'c_events', items => 'c_items', category_col => 'category',
    item_text_col => 'title_vec', users => 'c_users', profiles => 'cold', segments => 'c_seg',
    options => '{"half_life": 2, "transition_weight": 1}');
RESET client_min_messages;
-- A shoe buyer: trousers bought after shoes, and the new trail shoes (no
-- interactions yet) through their text.
SELECT item_id, reason FROM persona.recommend(1, 2, 'cold');
-- Only review text: items nearest to it.
SELECT item_id, reason FROM persona.recommend(10, 3, 'cold');
-- No behaviour, no text: popular among the shoe buyers of their segment, then overall.
SELECT item_id, reason FROM persona.recommend(11, 3, 'cold');
-- Only in the users table: popular overall.
SELECT item_id, reason FROM persona.recommend(12, 3, 'cold');
-- A new item is similar to others by its text.
SELECT item_id, reason FROM persona.similar_items(105, 2, 'cold');
-- recommend_all covers every known user, with the same lists as recommend().
SET client_min_messages = warning;
SELECT users, recommendations FROM persona.recommend_all(3, 'cold');
RESET client_min_messages;
SELECT bool_and(same) AS all_equal, count(*) AS users FROM (
    SELECT u.user_id,
           (SELECT array_agg(item_id ORDER BY rank) FROM persona.recommendations r WHERE r.model = 'cold' AND r.user_id = u.user_id)
         IS NOT DISTINCT FROM (SELECT array_agg(item_id) FROM persona.recommend(u.user_id, 3, 'cold')) AS same
    FROM c_users u) x;
SELECT user_id, rank, item_id, reason FROM persona.recommendations WHERE model = 'cold' AND user_id IN (10, 12) ORDER BY 1, 2;

-- Item-kNN and the vectors method (exact inner product of unit vectors,
-- the same ranking as ORDER BY persona.cosine_similarity).
SET client_min_messages = warning;
SELECT items FROM persona.train_recommender('cold_knn', 'c_events', method => 'knn', options => '{"neighbours": 5}');
SELECT items FROM persona.train_recommender('cold_vec', method => 'vectors',
    user_vectors => '(SELECT user_id, embedding FROM c_texts)', item_vectors => '(SELECT item_id, title_vec FROM c_items)');
RESET client_min_messages;
SELECT item_id, reason FROM persona.recommend(4, 2, 'cold_knn');
SELECT array_agg(item_id) AS persona_vectors,
       (SELECT array_agg(item_id) FROM (SELECT item_id FROM c_items WHERE title_vec IS NOT NULL
            ORDER BY persona.cosine_similarity(title_vec, '{0.05,0,1}') DESC LIMIT 3) s) AS plain_sql
FROM persona.recommend(10, 3, 'cold_vec', exclude_seen => false);

-- Bad input.
SELECT * FROM persona.recommend(99999, 5, 'shop');   -- unknown user: empty, NOTICE
SELECT * FROM persona.recommend(1, 0, 'shop');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.recommend(1, 1001, 'shop');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.recommend_all(0, 'shop');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.similar_items(12, -1, 'shop');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.similar_items(99999, 5, 'shop');  -- unknown item: empty, NOTICE
SELECT * FROM persona.recommend(1, 5, 'shop', filter => 'no_such_column > 1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.recommend(1, 5, 'cold_knn', filter => 'true');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.recommend(1, 5, 'no_such_model');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('x', 'shop_events', method => 'svd');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('x', 'shop_events', options => '{"lamda": 10}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('x', 'shop_events', options => '{"lambda": -1}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('x', 'no_such_table');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('x', 'shop_events', item_col => 'no_such_column');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('bad name!', 'shop_events');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('x', method => 'vectors');
\echo :LAST_ERROR_SQLSTATE

DELETE FROM persona.recommendation_lists;
DELETE FROM persona.recommender_models;
DELETE FROM persona.kmeans_models;
DELETE FROM persona.profile_definitions;
DROP TABLE shop_items, shop_users, shop_events, shop_reviews, c_items, c_users, c_events, c_texts, c_seg_vecs;
