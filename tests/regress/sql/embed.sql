-- persona.embed and persona.embed_batch on real text with the real model.
\set SHOW_CONTEXT never
-- 384 dimensions, unit length; the first values match sentence-transformers
-- ("This is an example sentence" starts 0.0677, 0.0635, 0.0487).
WITH e AS (SELECT persona.embed('This is an example sentence') AS v)
SELECT array_length(v, 1) AS dims,
       round(sqrt(persona.inner_product(v, v))::numeric, 5) AS norm,
       round(v[1]::numeric, 4) AS v1, round(v[2]::numeric, 4) AS v2, round(v[3]::numeric, 4) AS v3
FROM e;
-- NULL in, NULL out; the empty string is embedded like any text.
SELECT persona.embed(NULL) IS NULL AS null_gives_null;
SELECT array_length(persona.embed(''), 1) AS empty_string_dims;
-- The model argument names a registered model.
SELECT persona.embed('same', 'all-MiniLM-L6-v2') = persona.embed('same') AS named_equals_default;
-- Similar sentences are closer than unrelated ones.
SELECT persona.cosine_similarity(persona.embed('The dress fits perfectly'), persona.embed('This dress is a great fit'))
     > persona.cosine_similarity(persona.embed('The dress fits perfectly'), persona.embed('The parcel arrived late'))
       AS similar_is_closer;
-- Text beyond 256 word pieces is truncated, not rejected: what follows the
-- cut does not change the vector.
SELECT persona.cosine_similarity(
         persona.embed(repeat('soft fabric ', 300) || 'terrible awful broken'),
         persona.embed(repeat('soft fabric ', 300))) > 0.999999 AS truncated;
-- Accents, emoji, Chinese.
SELECT array_length(persona.embed('Café crème 😍 这件衣服质量很好'), 1) AS mixed_dims;
-- The batched form: one row per input, in input order, NULL for NULL.
SELECT ord, embedding IS NULL AS is_null, array_length(embedding, 1) AS dims
FROM persona.embed_batch(ARRAY['first', NULL, '', 'a much longer fourth text that pads the batch']);
-- Batched and one-at-a-time agree, whatever the padding in the batch.
WITH texts AS (
    SELECT ARRAY['short', 'I ordered this dress in my usual size and it runs a little large through the bust',
                 'Café crème brûlée', '这件衣服质量很好', 'gift 🎁', repeat('long review ', 200)] AS t
), batched AS (
    SELECT b.ord, b.embedding FROM texts, persona.embed_batch(texts.t) b
)
SELECT bool_and(persona.cosine_similarity(b.embedding, persona.embed(t[b.ord])) >= 0.99999) AS batch_equals_single,
       count(*) AS n
FROM batched b, texts;
SET persona.batch_size = 2;
SELECT bool_and(persona.cosine_similarity(b.embedding, persona.embed(x.t)) >= 0.99999) AS small_batches_agree
FROM persona.embed_batch(ARRAY['one', 'two words', 'three words here', 'and four words here']) WITH ORDINALITY b(ord, embedding)
JOIN unnest(ARRAY['one', 'two words', 'three words here', 'and four words here']) WITH ORDINALITY x(t, i) ON x.i = b.ord;
RESET persona.batch_size;
-- Empty and NULL arrays give no rows.
SELECT count(*) FROM persona.embed_batch(ARRAY[]::text[]);
SELECT count(*) FROM persona.embed_batch(NULL);
-- One thread gives the same vectors as the default.
SET persona.threads = 1;
SELECT persona.cosine_similarity(persona.embed('threads do not change results'),
       (SELECT persona.embed('threads do not change results'))) >= 0.99999 AS one_thread_same;
RESET persona.threads;
-- Bad settings are refused by Postgres itself.
SET persona.batch_size = 0;
\echo :LAST_ERROR_SQLSTATE
SET persona.threads = -1;
\echo :LAST_ERROR_SQLSTATE
