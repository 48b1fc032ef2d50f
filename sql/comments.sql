-- Descriptions of every persona object, shown by \d+, \df+ and BI tools.

COMMENT ON SCHEMA persona IS
  'persona: user profiles, segments and recommendations computed inside the database.';

COMMENT ON TABLE persona.models IS
  'Registered sentence-embedding models: name, output dimension, token limit (longer text is truncated) and server directory ($sharedir = pg_config --sharedir). Written by persona.register_model().';
COMMENT ON COLUMN persona.models.name IS 'Name used in the model argument of persona.embed() and in persona.default_model.';
COMMENT ON COLUMN persona.models.path IS 'Directory on the database server with config.json, tokenizer.json and model.safetensors.';
COMMENT ON COLUMN persona.models.dimension IS 'Length of the real[] vectors the model returns.';
COMMENT ON COLUMN persona.models.max_tokens IS 'Word pieces per text, special tokens included; longer text is truncated, not rejected.';
COMMENT ON COLUMN persona.models.builtin IS 'True for the model shipped with the extension.';
COMMENT ON COLUMN persona.models.registered_at IS 'When the row was last written.';
COMMENT ON COLUMN persona.models.registered_by IS 'Who wrote the row.';

COMMENT ON FUNCTION persona.embed(text, text) IS
  'Sentence embedding of a text as an L2-normalised real[] (mean-pooled BERT, as sentence-transformers). NULL text gives NULL; model NULL means persona.default_model.';
COMMENT ON FUNCTION persona.embed_batch(text[], text) IS
  'Sentence embeddings of an array of texts: one row (ord, embedding) per element, in input order; NULL elements give NULL. Batches by length and checks for cancel between batches.';
COMMENT ON PROCEDURE persona.embed_column(regclass, name, name, text, integer) IS
  'Fills the NULL embeddings of a real[] column from a text column, one transaction per batch_size rows (default 256); CALL it again to resume a cancelled run. Reports progress with NOTICEs.';
COMMENT ON FUNCTION persona.register_model(text, text, boolean) IS
  'Superuser only: registers a sentence-transformers BERT model directory on the server (loaded and checked first). replace => true re-points an existing name.';
COMMENT ON FUNCTION persona.cosine_similarity(real[], real[]) IS
  'Cosine similarity of two vectors of equal dimension, in [-1, 1]; NaN when one is all zeros.';
COMMENT ON FUNCTION persona.inner_product(real[], real[]) IS
  'Inner (dot) product of two vectors of equal dimension.';
COMMENT ON FUNCTION persona.l2_distance(real[], real[]) IS
  'Euclidean distance between two vectors of equal dimension.';

COMMENT ON AGGREGATE persona.vec_avg(real[]) IS
  'Element-wise mean of real[] vectors. NULL vectors are skipped; no rows gives NULL; mixed dimensions, NaN or infinity are an ERROR (22000). Parallel safe.';
COMMENT ON AGGREGATE persona.vec_avg(real[], float8) IS
  'Element-wise weighted mean of real[] vectors (weight >= 0). Rows with a NULL vector or weight are skipped; a total weight of 0 gives NULL. Recency decay: weight = 0.5 ^ (age / half_life). Parallel safe.';
COMMENT ON FUNCTION persona.vec_avg_accum(internal, real[]) IS 'Transition function of persona.vec_avg(real[]).';
COMMENT ON FUNCTION persona.vec_avg_weighted_accum(internal, real[], float8) IS 'Transition function of persona.vec_avg(real[], float8).';
COMMENT ON FUNCTION persona.vec_avg_combine(internal, internal) IS 'Combine function of persona.vec_avg (parallel aggregation).';
COMMENT ON FUNCTION persona.vec_avg_serial(internal) IS 'Serial function of persona.vec_avg (parallel aggregation).';
COMMENT ON FUNCTION persona.vec_avg_deserial(bytea, internal) IS 'Deserial function of persona.vec_avg (parallel aggregation).';
COMMENT ON FUNCTION persona.vec_avg_final(internal) IS 'Final function of persona.vec_avg.';

COMMENT ON TYPE persona.bgnbd_model IS
  'Fitted BG/NBD parameters (r, alpha, a, b), the log-likelihood at the fit and the number of customers, from persona.bgnbd_fit().';
COMMENT ON TYPE persona.gamma_gamma_model IS
  'Fitted Gamma-Gamma spend parameters (p, q, gamma), the log-likelihood and the number of repeat customers, from persona.gamma_gamma_fit().';
COMMENT ON AGGREGATE persona.bgnbd_fit(float8, float8, float8) IS
  'Maximum-likelihood BG/NBD fit over (frequency = repeat purchases, recency = time of last purchase since the first, T = time since the first purchase) rows, in any one time unit. Parallel safe.';
COMMENT ON AGGREGATE persona.gamma_gamma_fit(float8, float8) IS
  'Maximum-likelihood Gamma-Gamma spend fit over (frequency, mean spend per repeat purchase) rows; customers with frequency 0 are ignored. Parallel safe.';
COMMENT ON FUNCTION persona.bgnbd_expected_purchases(persona.bgnbd_model, float8, float8, float8, float8) IS
  'Expected purchases of a customer in the next horizon time units under a fitted BG/NBD model.';
COMMENT ON FUNCTION persona.bgnbd_probability_alive(persona.bgnbd_model, float8, float8, float8) IS
  'Probability that a customer is still active under a fitted BG/NBD model.';
COMMENT ON FUNCTION persona.gamma_gamma_expected_spend(persona.gamma_gamma_model, float8, float8) IS
  'Expected spend per future purchase of a customer under a fitted Gamma-Gamma model.';
COMMENT ON FUNCTION persona.bgnbd_fit_accum(internal, float8, float8, float8) IS 'Transition function of persona.bgnbd_fit.';
COMMENT ON FUNCTION persona.bgnbd_fit_final(internal) IS 'Final function of persona.bgnbd_fit: runs the maximum-likelihood fit.';
COMMENT ON FUNCTION persona.gamma_gamma_fit_accum(internal, float8, float8) IS 'Transition function of persona.gamma_gamma_fit.';
COMMENT ON FUNCTION persona.gamma_gamma_fit_final(internal) IS 'Final function of persona.gamma_gamma_fit: runs the maximum-likelihood fit.';
COMMENT ON FUNCTION persona.clv_fit_combine(internal, internal) IS 'Combine function of the CLV fit aggregates (parallel aggregation).';
COMMENT ON FUNCTION persona.clv_fit_serial(internal) IS 'Serial function of the CLV fit aggregates.';
COMMENT ON FUNCTION persona.clv_fit_deserial(bytea, internal) IS 'Deserial function of the CLV fit aggregates.';

COMMENT ON TABLE persona.item_vectors IS
  'Item vectors learned by persona.train_item2vec(): one real[] per (model, item_id). A new training of a model replaces its rows in one transaction.';
COMMENT ON COLUMN persona.item_vectors.model IS 'Name given to persona.train_item2vec().';
COMMENT ON COLUMN persona.item_vectors.item_id IS 'The item id from the source rows.';
COMMENT ON COLUMN persona.item_vectors.embedding IS 'The item''s input vector (skip-gram), not normalised.';
COMMENT ON FUNCTION persona.train_item2vec(text, text, text, text, text, integer, integer, integer, integer, integer, float8, float8, float8, bigint) IS
  'Trains item2vec (skip-gram with negative sampling) on each user''s time-ordered items from a table, view or parenthesised query, and replaces the model''s rows in persona.item_vectors. Deterministic for a seed. Progress NOTICE per epoch; cancel leaves the previous vectors intact.';

COMMENT ON FUNCTION persona.clean_text(text) IS
  'Cleans user-written text: removes HTML tags (script/style with their content) and decodes entities, drops control and invisible characters, applies Unicode NFKC (full-width to half-width) and collapses white space. NULL gives NULL.';
