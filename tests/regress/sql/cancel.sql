-- statement_timeout stops embedding within about one batch, and the backend stays usable.
\set SHOW_CONTEXT never
SELECT persona.embed('warm the model up') IS NOT NULL AS loaded;
CREATE TABLE long_reviews (id int, body text, v real[]);
INSERT INTO long_reviews SELECT i, repeat(format('Review %s says the dress is lovely but runs small. ', i), 20)
FROM generate_series(1, 3000) i;
-- Batched embedding of 3,000 long texts takes far longer than 1 s.
SET statement_timeout = '1s';
SELECT count(*) FROM persona.embed_batch(ARRAY(SELECT body FROM long_reviews));
\echo :LAST_ERROR_SQLSTATE
-- Per-row embedding is stopped as well.
SELECT count(persona.embed(body)) FROM long_reviews;
\echo :LAST_ERROR_SQLSTATE
-- embed_column: cancelled mid-way; the batches committed before the cancel stay.
-- Shorter texts here, so that several batches commit within the timeout.
RESET statement_timeout;
UPDATE long_reviews SET body = format('Review %s says the dress is lovely but runs small.', id);
SET statement_timeout = '3s';
SET client_min_messages = warning;
CALL persona.embed_column('long_reviews', 'body', 'v', batch_size => 8);
\echo :LAST_ERROR_SQLSTATE
RESET client_min_messages;
RESET statement_timeout;
SELECT count(v) > 0 AS some_committed, count(v) < 3000 AS not_all FROM long_reviews;
-- The backend still works, and a second CALL resumes rather than restarts:
-- it embeds exactly the rows that are still NULL.
DELETE FROM long_reviews WHERE id > 200 AND v IS NULL;
SET client_min_messages = warning;
CALL persona.embed_column('long_reviews', 'body', 'v', batch_size => 32);
RESET client_min_messages;
SELECT count(*) FILTER (WHERE v IS NULL) AS left_after FROM long_reviews;
DROP TABLE long_reviews;
