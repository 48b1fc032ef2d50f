-- Catalog tables of persona. Created before any function, since functions read them.

-- persona reads text (reviews, searches, names) as UTF-8. In a database of
-- another encoding that text would have to be converted at every call, and
-- tokens and vectors would depend on it: refuse such a database up front.
DO $$
BEGIN
    IF pg_catalog.getdatabaseencoding() <> 'UTF8' THEN
        RAISE EXCEPTION 'persona needs a UTF8 database; database "%" uses %',
                        pg_catalog.current_database(), pg_catalog.getdatabaseencoding()
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Create a UTF8 database (CREATE DATABASE shop ENCODING ''UTF8'' LOCALE ''C.UTF-8'' TEMPLATE template0) and install persona there.';
    END IF;
END
$$;

-- Registered sentence-embedding models. Rows are written by
-- persona.register_model() (superuser only); everyone may read them.
CREATE TABLE persona.models (
    name          text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]{1,63}$'),
    path          text NOT NULL,
    dimension     integer NOT NULL CHECK (dimension > 0),
    max_tokens    integer NOT NULL CHECK (max_tokens > 0),
    builtin       boolean NOT NULL DEFAULT false,
    -- How the transformer's weights are held: 'fp32' is exact; 'int8'
    -- quantises them at load (faster, close to but not equal to fp32); 'q4'
    -- is a 4-bit model file's own weights (multilingual-e5-small).
    weights       text NOT NULL DEFAULT 'fp32' CHECK (weights IN ('fp32', 'int8', 'q4')),
    -- Put before every text: e5 models were trained with 'query: ' and
    -- 'passage: ' in front of their inputs (see the README).
    prefix        text NOT NULL DEFAULT '' CHECK (length(prefix) <= 64),
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by name NOT NULL DEFAULT current_user
);

-- The model the set-up command installs under the share directory, exact
-- (the default) and, opt-in, with int8 weights.
INSERT INTO persona.models (name, path, dimension, max_tokens, builtin, weights)
VALUES ('all-MiniLM-L6-v2', '$sharedir/persona/models/all-MiniLM-L6-v2', 384, 256, true, 'fp32'),
       ('all-MiniLM-L6-v2-int8', '$sharedir/persona/models/all-MiniLM-L6-v2', 384, 256, true, 'int8');
-- The multilingual model, one file under two names: 'query: ' for texts
-- compared with each other (reviews clustered into segments, profiles,
-- classifiers, searches), 'passage: ' for documents that searches embedded
-- with the first name are matched against. Both share one loaded copy.
INSERT INTO persona.models (name, path, dimension, max_tokens, builtin, weights, prefix)
VALUES ('multilingual-e5-small', '$sharedir/persona/models/multilingual-e5-small/e5-small-q4.bin', 384, 2048, true, 'q4', 'query: '),
       ('multilingual-e5-small-passage', '$sharedir/persona/models/multilingual-e5-small/e5-small-q4.bin', 384, 2048, true, 'q4', 'passage: ');

-- Models a user registered survive pg_dump; the shipped row is recreated by CREATE EXTENSION.
SELECT pg_catalog.pg_extension_config_dump('persona.models', 'WHERE NOT builtin');

GRANT USAGE ON SCHEMA persona TO PUBLIC;
GRANT SELECT ON persona.models TO PUBLIC;

-- The owner of every model persona stores: the role that first trained it.
-- Only members of that role (and superusers) retrain, replace, drop or share
-- it, or run the functions that execute its stored sources, which always run
-- with the owner's rights. Readers are roles the owner shared it with
-- (persona.grant_model); row-level security (sql/security.sql) shows each
-- role the rows of the models it owns or reads.
CREATE TABLE persona.model_owners (
    kind        text NOT NULL CHECK (kind IN ('profiles', 'item2vec', 'kmeans', 'recommender')),
    name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.-]{1,63}$'),
    owner       regrole NOT NULL,
    readers     regrole[] NOT NULL DEFAULT '{}',
    public_read boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, name)
);
SELECT pg_catalog.pg_extension_config_dump('persona.model_owners', '');
-- Row-level security decides which rows a role may write.
GRANT SELECT, INSERT, UPDATE, DELETE ON persona.model_owners TO PUBLIC;

-- Fitted customer-lifetime-value models, as returned by persona.bgnbd_fit()
-- and persona.gamma_gamma_fit() and taken by the functions that apply them.
CREATE TYPE persona.bgnbd_model AS (
    r float8, alpha float8, a float8, b float8, log_likelihood float8, customers bigint
);
CREATE TYPE persona.gamma_gamma_model AS (
    p float8, q float8, gamma float8, log_likelihood float8, customers bigint
);

-- Item vectors learned by persona.train_item2vec(), one row per (model, item).
-- Readable by everyone; training needs INSERT and DELETE on it (superusers
-- have them; GRANT them to the roles that train).
CREATE TABLE persona.item_vectors (
    model     text NOT NULL,
    item_id   bigint NOT NULL,
    embedding real[] NOT NULL,
    PRIMARY KEY (model, item_id)
);
SELECT pg_catalog.pg_extension_config_dump('persona.item_vectors', '');
GRANT SELECT ON persona.item_vectors TO PUBLIC;

-- Profile definitions: the sources and options persona.build_profiles() was
-- given under a name, so that persona.refresh_profiles(name) can redo the
-- same computation for the users with new events. Also the fitted
-- customer-value models and the population thresholds of the last build.
CREATE TABLE persona.profile_definitions (
    name              text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]{1,63}$'),
    options           jsonb NOT NULL,
    bgnbd             persona.bgnbd_model,
    gamma_gamma       persona.gamma_gamma_model,
    activity_cuts     float8[] NOT NULL DEFAULT '{}',
    -- Lifecycle cut-offs in days, from the build's arguments or derived from
    -- the shop's own times between purchases (lifecycle_basis says which).
    active_days       integer NOT NULL DEFAULT 30 CHECK (active_days >= 1),
    lapsed_days       integer NOT NULL DEFAULT 90,
    lifecycle_basis   jsonb NOT NULL DEFAULT '{}',
    CHECK (lapsed_days > active_days),
    behaviour_dim     integer NOT NULL DEFAULT 0,
    text_dim          integer NOT NULL DEFAULT 0,
    event_watermark   timestamptz,
    text_watermark    timestamptz,
    as_of             timestamptz,
    profiles          bigint NOT NULL DEFAULT 0,
    built_at          timestamptz NOT NULL DEFAULT now(),
    refreshed_at      timestamptz
);
SELECT pg_catalog.pg_extension_config_dump('persona.profile_definitions', '');

-- One profile per (name, user). Holds personal data: nothing is granted to
-- PUBLIC; GRANT SELECT to the roles that read profiles.
CREATE TABLE persona.profiles (
    name                   text NOT NULL REFERENCES persona.profile_definitions (name) ON DELETE CASCADE,
    user_id                bigint NOT NULL,
    as_of                  timestamptz NOT NULL,
    first_seen             timestamptz,
    last_seen              timestamptz,
    events                 bigint NOT NULL DEFAULT 0,
    recency_days           float8,
    frequency              bigint NOT NULL DEFAULT 0,
    monetary               float8 NOT NULL DEFAULT 0,
    avg_order_value        float8,
    top_categories         text[] NOT NULL DEFAULT '{}',
    price_index            float8,
    price_band             text CHECK (price_band IN ('budget', 'mid', 'premium')),
    events_30d             bigint NOT NULL DEFAULT 0,
    activity_level         text NOT NULL CHECK (activity_level IN ('none', 'low', 'medium', 'high')),
    lifecycle_stage        text NOT NULL CHECK (lifecycle_stage IN ('new', 'active', 'at_risk', 'lapsed')),
    expected_purchases_90d float8,
    probability_alive      float8,
    predicted_value        float8,
    text_vec               real[],
    behaviour_vec          real[],
    profile_vec            real[],
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, user_id)
);
SELECT pg_catalog.pg_extension_config_dump('persona.profiles', '');

-- K-Means models: one row per training (version) of a model name. The
-- current version is the highest; earlier versions stay readable.
CREATE TABLE persona.kmeans_models (
    name          text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.-]{1,63}$'),
    version       integer NOT NULL CHECK (version > 0),
    k             integer NOT NULL CHECK (k > 0),
    dimension     integer NOT NULL CHECK (dimension > 0),
    metric        text NOT NULL CHECK (metric IN ('cosine', 'l2')),
    inertia       float8 NOT NULL,
    silhouette    float8,
    iterations    integer NOT NULL,
    rows          bigint NOT NULL,
    skipped_rows  bigint NOT NULL,
    training_mode text NOT NULL CHECK (training_mode IN ('in_memory', 'passes')),
    -- The owner's floor for this version, if given at training: segments
    -- smaller than it, or than the superuser's persona.k_anonymity_floor, are hidden.
    k_anonymity_floor integer CHECK (k_anonymity_floor >= 1),
    source        text NOT NULL,
    profile_name  text,
    parameters    jsonb NOT NULL,
    k_candidates  jsonb NOT NULL DEFAULT '[]',
    -- kmeans (persona.kmeans_train) or gmm (persona.gmm_train: a Gaussian
    -- mixture, whose fitted parts are in mixture).
    algorithm     text NOT NULL DEFAULT 'kmeans' CHECK (algorithm IN ('kmeans', 'gmm')),
    mixture       jsonb CHECK ((algorithm = 'gmm') = (mixture IS NOT NULL)),
    seconds       float8 NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    name NOT NULL DEFAULT current_user,
    PRIMARY KEY (name, version)
);
SELECT pg_catalog.pg_extension_config_dump('persona.kmeans_models', '');

CREATE TABLE persona.kmeans_centroids (
    name            text NOT NULL,
    version         integer NOT NULL,
    segment         integer NOT NULL,
    centroid        real[] NOT NULL,
    size            bigint NOT NULL,
    distance_median float8 NOT NULL,
    distance_scale  float8 NOT NULL,
    words           text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (name, version, segment),
    FOREIGN KEY (name, version) REFERENCES persona.kmeans_models ON DELETE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('persona.kmeans_centroids', '');

CREATE TABLE persona.segment_assignments (
    name          text NOT NULL,
    version       integer NOT NULL,
    user_id       bigint NOT NULL,
    segment       integer NOT NULL,
    distance      float8 NOT NULL,
    margin        float8,
    anomaly_score float8,
    -- No foreign key to kmeans_models: checking one per row made writing a
    -- million assignments take 15 s; a trigger on kmeans_models deletes a
    -- version's rows instead.
    PRIMARY KEY (name, version, user_id)
);
SELECT pg_catalog.pg_extension_config_dump('persona.segment_assignments', '');

-- Soft segments: for a mixture (persona.gmm_train), every user's segments,
-- most probable first, and their probabilities (summing to 1).
CREATE TABLE persona.segment_probabilities (
    name          text NOT NULL,
    version       integer NOT NULL,
    user_id       bigint NOT NULL,
    segments      integer[] NOT NULL,
    probabilities real[] NOT NULL,
    -- Deleted with the version by the same trigger as the assignments.
    PRIMARY KEY (name, version, user_id)
);
SELECT pg_catalog.pg_extension_config_dump('persona.segment_probabilities', '');

-- Generated descriptions of each segment of each version (persona._describe_segments).
CREATE TABLE persona.segment_descriptions (
    name           text NOT NULL,
    version        integer NOT NULL,
    segment        integer NOT NULL,
    label          text NOT NULL,
    top_categories text[] NOT NULL DEFAULT '{}',
    top_items      bigint[] NOT NULL DEFAULT '{}',
    exemplar_users bigint[] NOT NULL DEFAULT '{}',
    -- What persona.segments shows, computed at training and again whenever
    -- the members or their profiles change (persona._segment_stats), so
    -- that reading the view never aggregates the profiles.
    size                  bigint NOT NULL DEFAULT 0,
    share                 float8,
    avg_recency_days      float8,
    recency_lift          float8,
    avg_frequency         float8,
    frequency_lift        float8,
    avg_monetary          float8,
    monetary_lift         float8,
    avg_order_value       float8,
    avg_order_value_lift  float8,
    avg_events_30d        float8,
    activity_lift         float8,
    avg_predicted_value   float8,
    predicted_value_lift  float8,
    avg_probability_alive float8,
    stats_at              timestamptz,
    PRIMARY KEY (name, version, segment),
    FOREIGN KEY (name, version) REFERENCES persona.kmeans_models ON DELETE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('persona.segment_descriptions', '');
GRANT SELECT ON persona.kmeans_models, persona.kmeans_centroids TO PUBLIC;
