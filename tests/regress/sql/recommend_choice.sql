-- The recommender's automatic choice, evaluation protocols (against plain
-- SQL), the category cap, and their bad input.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
\i tests/fixtures/planted_shop.sql
-- Users walk chains of items (item i, then i + 1), 20 chains of 10: the
-- order of a history tells the next item.
CREATE TABLE chain_events AS
SELECT u AS user_id, (u % 20) * 10 + s AS item_id,
       timestamptz '2026-01-01' + make_interval(hours => s, secs => u) AS event_time
FROM generate_series(1, 600) u, generate_series(1, 10) s
WHERE s BETWEEN 1 + u % 3 AND 4 + u % 3 + (u / 7) % 4;
SELECT users, items FROM persona.train_recommender('chain', 'chain_events');
RESET client_min_messages;
SELECT method,
       (parameters->>'half_life')::float8 > 0 OR (parameters->>'transition_weight')::float8 > 0 AS uses_order,
       selection->'choice'->>'validation' AS validation,
       jsonb_array_length(selection->'choice'->'candidates') > 20 AS candidates_recorded,
       (selection->'choice'->'chosen'->>'ndcg')::float8 > 2 * (selection->'choice'->>'popularity_ndcg')::float8 AS beats_popularity,
       selection->'given' AS given
FROM persona.recommender_models WHERE name = 'chain';
-- Histories without an order (the planted shop's event times are scrambled),
-- validated on random items: no transitions.
SET client_min_messages = warning;
SELECT items FROM persona.train_recommender('unordered', 'shop_events', options => '{"validation": "random"}');
RESET client_min_messages;
SELECT parameters->>'transition_weight' AS transition_weight, parameters->>'validation' AS validation,
       (selection->'choice'->'chosen'->>'ndcg')::float8 > (selection->'choice'->>'popularity_ndcg')::float8 AS beats_popularity
FROM persona.recommender_models WHERE name = 'unordered';
-- What the caller gives is kept and not searched; "search": false keeps the defaults.
SET client_min_messages = warning;
SELECT items FROM persona.train_recommender('given', 'chain_events', method => 'knn', options => '{"half_life": 0, "transition_weight": 0}');
SELECT items FROM persona.train_recommender('fixed', 'chain_events', options => '{"search": false}');
RESET client_min_messages;
SELECT name, method, parameters->>'half_life' AS half_life, parameters->>'transition_weight' AS transition_weight,
       parameters->>'lambda' AS lambda, selection->'given'->'keys' AS given_keys,
       selection->'choice'->'searched' ? 'half_life' AS searched_half_life, selection->'choice' = 'null' AS no_choice
FROM persona.recommender_models WHERE name IN ('given', 'fixed') ORDER BY name;

-- Protocols. Time cut-off: train before 2026-06-01, test on the new items
-- each user touches from then on. Popularity's figures equal plain SQL's.
SET client_min_messages = warning;
SELECT items FROM persona.train_recommender('shop', 'shop_events', items => 'shop_items', category_col => 'category');
CREATE TEMP TABLE cut AS
SELECT * FROM persona.evaluate_recommendations('shop', 10, 'cutoff', '2026-06-01');
RESET client_min_messages;
WITH tr AS (SELECT DISTINCT user_id, item_id FROM shop_events WHERE event_time < '2026-06-01'),
te AS (SELECT DISTINCT e.user_id, e.item_id FROM shop_events e
       WHERE e.event_time >= '2026-06-01' AND e.user_id IN (SELECT user_id FROM tr)
         AND NOT EXISTS (SELECT FROM tr WHERE tr.user_id = e.user_id AND tr.item_id = e.item_id)),
ranked AS (SELECT a.item_id, row_number() OVER (ORDER BY count(tr.user_id) DESC, a.item_id) AS r
           FROM (SELECT DISTINCT item_id FROM shop_events) a LEFT JOIN tr USING (item_id) GROUP BY a.item_id),
lists AS (SELECT u.user_id, x.item_id, x.r FROM (SELECT DISTINCT user_id FROM te) u
          CROSS JOIN LATERAL (SELECT r.item_id, r.r FROM ranked r
                              WHERE NOT EXISTS (SELECT FROM tr WHERE tr.user_id = u.user_id AND tr.item_id = r.item_id)
                              ORDER BY r.r LIMIT 10) x),
per_user AS (SELECT t.user_id, count(l.item_id)::float8 AS hits, count(*)::float8 AS relevant
             FROM te t LEFT JOIN lists l USING (user_id, item_id) GROUP BY t.user_id),
sql AS (SELECT count(*) AS users, avg((hits > 0)::int) AS hit_rate, avg(hits / relevant) AS recall,
               (SELECT avg(r) FROM lists) AS popularity_rank FROM per_user)
SELECT s.users = c.users AS same_users, round(s.hit_rate::numeric, 6) = round(c.hit_rate::numeric, 6) AS same_hit_rate,
       round(s.recall::numeric, 6) = round(c.recall::numeric, 6) AS same_recall,
       round(s.popularity_rank::numeric, 6) = round(c.popularity_rank::numeric, 6) AS same_popularity_rank, s.users
FROM sql s, cut c WHERE c.method = 'popularity';
SELECT method, hit_rate > 0.5 AS finds_them, round(coverage::numeric, 2) > 0 AS covers FROM cut ORDER BY method;
-- Random split of each user's items: reproducible by seed, and persona
-- ranks far above popularity.
SET client_min_messages = warning;
CREATE TEMP TABLE rnd AS
SELECT 0 AS seed, * FROM persona.evaluate_recommendations('shop', 10, 'random')
UNION ALL SELECT 0, * FROM persona.evaluate_recommendations('shop', 10, 'random', seed => 0)
UNION ALL SELECT 5, * FROM persona.evaluate_recommendations('shop', 10, 'random', test_fraction => 0.2, seed => 5);
RESET client_min_messages;
SELECT seed, method, count(*) AS runs, count(DISTINCT (users, hit_rate, ndcg, recall)) AS distinct_figures, min(users) AS users
FROM rnd GROUP BY 1, 2 ORDER BY 1, 2;
SELECT bool_and(p.ndcg > 2 * q.ndcg) AS persona_far_above_popularity
FROM rnd p JOIN rnd q ON p.seed = q.seed AND q.method = 'popularity' WHERE p.method <> 'popularity';

-- At most two recommendations of one category.
SET client_min_messages = warning;
SELECT items FROM persona.train_recommender('capped', 'shop_events', items => 'shop_items', category_col => 'category',
    options => '{"max_per_category": 2}');
RESET client_min_messages;
SELECT sum(n) AS items, max(n) AS most_of_one_category FROM (
    SELECT i.category, count(*) AS n FROM persona.recommend(3, 10, 'capped') r JOIN shop_items i USING (item_id) GROUP BY 1) x;
SELECT max(n) AS most_of_one_category_uncapped FROM (
    SELECT i.category, count(*) AS n FROM persona.recommend(3, 10, 'shop') r JOIN shop_items i USING (item_id) GROUP BY 1) x;

-- Above EASE's dense limit (here set to 20 items) the choice is item-kNN or
-- the blend, and every item with co-occurrences has neighbours.
SET client_min_messages = warning;
SELECT items FROM persona.train_recommender('wide', 'shop_events', options => '{"max_items": 20}');
RESET client_min_messages;
SELECT m.method IN ('knn', 'blend') AS not_ease_alone, count(*) FILTER (WHERE cardinality(i.neighbours) > 0) AS items_with_neighbours
FROM persona.recommender_models m JOIN persona.recommender_items i ON i.model = m.name WHERE m.name = 'wide' GROUP BY m.method;

-- Bad input.
SELECT * FROM persona.evaluate_recommendations('shop', 10, 'soon');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.evaluate_recommendations('shop', 10, 'cutoff');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.evaluate_recommendations('shop', 10, 'last', '2026-06-01');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.evaluate_recommendations('shop', 10, 'random', test_fraction => 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.evaluate_recommendations('shop', 10, 'cutoff', 'not a time');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.evaluate_recommendations('shop', 10, 'random', seed => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('x', 'chain_events', options => '{"validation": "soon"}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('x', 'chain_events', options => '{"search": "yes"}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('x', 'chain_events', options => '{"max_per_category": -1}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('x', 'chain_events', method => 'blender');
\echo :LAST_ERROR_SQLSTATE

DELETE FROM persona.recommendation_lists;
DELETE FROM persona.recommender_models;
DROP TABLE shop_items, shop_users, shop_events, shop_reviews, chain_events;
