-- The demo pipeline, step by step (run by scripts/demo.sh; the reviews CSV arrives on stdin).
\set ON_ERROR_STOP 1
DROP EXTENSION IF EXISTS persona CASCADE;
CREATE EXTENSION persona;

-- 1. Data stays where it is: an ordinary table of reviews.
DROP TABLE IF EXISTS reviews;
CREATE TABLE reviews (
    row_id int PRIMARY KEY, item_id int, age int, title text, body text, rating int,
    recommended int, feedback int, division text, department text, class text,
    body_vec real[]
);
CREATE TEMP TABLE reviews_csv (LIKE reviews);
ALTER TABLE reviews_csv DROP COLUMN body_vec;
\copy reviews_csv FROM pstdin WITH (FORMAT csv, HEADER true)
INSERT INTO reviews SELECT *, NULL FROM reviews_csv WHERE body IS NOT NULL ORDER BY row_id LIMIT :reviews;

-- 2. Embed every review inside the database, in committed batches.
\timing on
CALL persona.embed_column('reviews', 'body', 'body_vec');
\timing off

-- 3. Use the vectors: each query's nearest review by cosine similarity.
\echo
\echo 'Nearest review to each query (cosine similarity of all-MiniLM-L6-v2 embeddings, computed in-database):'
WITH queries(query) AS (VALUES
    ('runs small, order a size up'),
    ('the fabric is itchy and cheap'),
    ('perfect dress for a summer wedding'),
    ('colour looks different from the picture'),
    ('comfortable jeans that do not stretch out'),
    ('love it, bought it in every colour'))
SELECT q.query,
       round(best.sim::numeric, 3) AS cosine,
       left(best.body, 90) AS nearest_review
FROM queries q
CROSS JOIN LATERAL (
    SELECT r.body, persona.cosine_similarity(r.body_vec, qv.v) AS sim
    FROM reviews r, (SELECT persona.embed(q.query) AS v) qv
    ORDER BY sim DESC LIMIT 1
) best;
