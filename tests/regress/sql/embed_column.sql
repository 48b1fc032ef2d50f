-- CALL persona.embed_column: fill a table's NULL embeddings in committed batches.
\set SHOW_CONTEXT never
CREATE TABLE reviews (id int PRIMARY KEY, body text, body_vec real[]);
INSERT INTO reviews
SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE format('Review number %s: the fabric is %s and the fit is %s.', i,
          (ARRAY['soft', 'itchy', 'thin', 'heavy'])[1 + i % 4], (ARRAY['true to size', 'small', 'large'])[1 + i % 3]) END
FROM generate_series(1, 120) i;
-- One row already has a vector: it is left alone.
UPDATE reviews SET body_vec = '{1,2,3}' WHERE id = 1;
SET client_min_messages = warning;  -- progress NOTICEs carry timings
CALL persona.embed_column('reviews', 'body', 'body_vec', batch_size => 16);
RESET client_min_messages;
SELECT count(*) FILTER (WHERE body_vec IS NOT NULL) AS embedded,
       count(*) FILTER (WHERE body IS NULL AND body_vec IS NULL) AS null_text_left_null,
       count(*) FILTER (WHERE array_length(body_vec, 1) = 384) AS full_vectors
FROM reviews;
SELECT body_vec FROM reviews WHERE id = 1;
-- Same vectors as persona.embed on the same text.
SELECT bool_and(persona.cosine_similarity(body_vec, persona.embed(body)) >= 0.99999) AS matches_embed
FROM reviews WHERE id BETWEEN 2 AND 9;
-- Nothing left to do: a NOTICE, no error.
CALL persona.embed_column('reviews', 'body', 'body_vec');
-- varchar text columns work too; a resumed run only fills what is missing.
CREATE TABLE searches (q varchar(200), q_vec real[]);
INSERT INTO searches VALUES ('red running shoes', NULL), ('linen trousers', NULL), (NULL, NULL);
SET client_min_messages = warning;
CALL persona.embed_column('searches', 'q', 'q_vec');
RESET client_min_messages;
SELECT q, array_length(q_vec, 1) FROM searches ORDER BY q;
-- Bad input.
CALL persona.embed_column('no_such_table', 'body', 'body_vec');
\echo :LAST_ERROR_SQLSTATE
CALL persona.embed_column('reviews', 'no_such_col', 'body_vec');
\echo :LAST_ERROR_SQLSTATE
CALL persona.embed_column('reviews', 'body', 'no_such_vec');
\echo :LAST_ERROR_SQLSTATE
CALL persona.embed_column('reviews', 'id', 'body_vec');
\echo :LAST_ERROR_SQLSTATE
CALL persona.embed_column('reviews', 'body', 'body');
\echo :LAST_ERROR_SQLSTATE
CALL persona.embed_column('reviews', 'body', 'body_vec', model => 'no-such-model');
\echo :LAST_ERROR_SQLSTATE
CALL persona.embed_column('reviews', 'body', 'body_vec', batch_size => 0);
\echo :LAST_ERROR_SQLSTATE
DROP TABLE reviews, searches;
