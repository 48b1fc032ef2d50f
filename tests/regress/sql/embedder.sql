-- The embedder worker: this cluster preloads persona, so sessions embed
-- through it; persona.use_embedder = off embeds in the backend instead.
\set SHOW_CONTEXT never
SELECT mode, pid IS NOT NULL AS has_pid, started_at <= now() AS started FROM persona.embedder;
-- The worker's vectors are this backend's own, one at a time and batched,
-- NULL for NULL, in input order.
CREATE TEMP TABLE texts AS
SELECT i, t FROM unnest(ARRAY['The dress runs small', '', NULL, 'Café crème 😍 这件衣服质量很好',
                              repeat('soft fabric ', 300), 'ok']) WITH ORDINALITY AS u(t, i);
CREATE TEMP TABLE via_worker AS SELECT ord, embedding FROM persona.embed_batch(ARRAY(SELECT t FROM texts ORDER BY i));
CREATE TEMP TABLE one_by_one AS SELECT i, persona.embed(t) AS v FROM texts;
SET persona.use_embedder = off;
SELECT mode FROM persona.embedder;
CREATE TEMP TABLE here AS SELECT ord, embedding FROM persona.embed_batch(ARRAY(SELECT t FROM texts ORDER BY i));
RESET persona.use_embedder;
SELECT h.ord, w.embedding IS NULL AS is_null,
       round(persona.cosine_similarity(w.embedding, h.embedding)::numeric, 5) AS batch_cosine,
       round(persona.cosine_similarity(o.v, h.embedding)::numeric, 5) AS row_cosine
FROM here h JOIN via_worker w USING (ord) JOIN one_by_one o ON o.i = h.ord ORDER BY h.ord;
-- A text longer than a request holds is embedded in the backend instead.
SELECT array_length(persona.embed(repeat('long ', 60000)), 1) AS long_text_dims;
-- Errors are the same as in-process.
SELECT persona.embed('x', 'no such model');
-- The worker has the model loaded and counts what it did.
SELECT 'all-MiniLM-L6-v2' = ANY (models) AS model_loaded, batches > 0 AS batched, texts >= 5 AS texts_counted,
       queued, running FROM persona.embedder;
-- Only fresh-column triggers (SECURITY DEFINER) may tell the worker about work.
SELECT has_function_privilege('public', 'persona._embedder_notify(oid)', 'EXECUTE') AS public_may_notify;
-- embed() and embed_batch() may run in parallel workers.
SELECT proname, proparallel FROM pg_proc WHERE proname IN ('embed', 'embed_batch')
  AND pronamespace = 'persona'::regnamespace ORDER BY 1;
DROP TABLE texts, via_worker, one_by_one, here;
