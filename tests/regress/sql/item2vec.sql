-- persona.train_item2vec: item vectors from behaviour sequences.
\set SHOW_CONTEXT never
-- Two kinds of shopper: users with even ids browse items 1-20, odd ids 101-120.
CREATE TABLE events AS
SELECT u AS user_id,
       CASE WHEN u % 2 = 0 THEN 1 ELSE 101 END + ((u * 7 + k * k * 3 + k) % 20) AS item_id,
       timestamptz '2026-01-01' + make_interval(hours => u + k) AS ts
FROM generate_series(1, 300) u, generate_series(1, 15) k;
SET client_min_messages = warning;  -- per-epoch NOTICEs carry timings
SELECT items, sequences, trained_items
FROM persona.train_item2vec('shop', 'events', dim => 16, epochs => 10, seed => 7);
RESET client_min_messages;
SELECT count(*) AS vectors, min(array_length(embedding, 1)) AS dims FROM persona.item_vectors WHERE model = 'shop';
-- Items bought by the same kind of shopper are nearer to each other than to the others.
WITH v AS (SELECT item_id, embedding, item_id > 100 AS odd_side FROM persona.item_vectors WHERE model = 'shop'),
nn AS (
    SELECT a.item_id, a.odd_side,
           (SELECT b.odd_side FROM v b WHERE b.item_id <> a.item_id
            ORDER BY persona.cosine_similarity(a.embedding, b.embedding) DESC LIMIT 1) AS nn_odd_side
    FROM v a
)
SELECT avg((odd_side = nn_odd_side)::int) AS nearest_neighbour_same_kind FROM nn;
-- Same seed, same vectors; a query works as the source.
SET client_min_messages = warning;
SELECT items FROM persona.train_item2vec('shop2', '(SELECT * FROM events)', dim => 16, epochs => 10, seed => 7);
RESET client_min_messages;
SELECT bool_and(a.embedding = b.embedding) AS deterministic, count(*)
FROM persona.item_vectors a JOIN persona.item_vectors b USING (item_id)
WHERE a.model = 'shop' AND b.model = 'shop2';
-- Retraining replaces the model's rows.
SET client_min_messages = warning;
SELECT items FROM persona.train_item2vec('shop2', '(SELECT * FROM events WHERE item_id < 100)', dim => 8, epochs => 1);
RESET client_min_messages;
SELECT count(*), min(array_length(embedding, 1)) FROM persona.item_vectors WHERE model = 'shop2';
-- Custom column names.
CREATE TABLE clicks AS SELECT user_id AS who, item_id AS what, ts AS at FROM events;
SET client_min_messages = warning;
SELECT items FROM persona.train_item2vec('clicks', 'clicks', user_col => 'who', item_col => 'what', time_col => 'at', epochs => 1, window_size => 2);
RESET client_min_messages;
-- Empty input: a NOTICE and nothing stored.
SELECT items FROM persona.train_item2vec('empty', '(SELECT * FROM events WHERE false)');
-- Bad input.
SELECT * FROM persona.train_item2vec('x', 'no_such_table');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('x', 'events', item_col => 'no_such_col');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('x', 'events', dim => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('x', 'events', epochs => -1);
\echo :LAST_ERROR_SQLSTATE
DELETE FROM persona.item_vectors;
DROP TABLE events, clicks;
CREATE TABLE named_items AS SELECT 1 AS user_id, 'sku-1'::text AS item_id, now() AS ts;
SELECT * FROM persona.train_item2vec('x', 'named_items');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE named_items;
