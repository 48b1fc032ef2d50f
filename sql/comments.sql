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
