-- Recommendations: trained models, their item rows, and precomputed lists.

-- One row per recommender model, written by persona.train_recommender().
CREATE TABLE persona.recommender_models (
    name         text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]{1,63}$'),
    method       text NOT NULL CHECK (method IN ('ease', 'knn', 'blend', 'vectors', 'popularity')),
    sources      jsonb NOT NULL,
    parameters   jsonb NOT NULL,
    selection    jsonb NOT NULL DEFAULT '{}',
    users        bigint NOT NULL,
    items        bigint NOT NULL,
    interactions bigint NOT NULL,
    seconds      float8 NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by   name NOT NULL DEFAULT current_user
);
SELECT pg_catalog.pg_extension_config_dump('persona.recommender_models', '');

-- One row per (model, catalogue item): popularity, category, the item's
-- strongest neighbours under the model (sparse top-N, best first) and under
-- transitions, and its vectors.
CREATE TABLE persona.recommender_items (
    model        text NOT NULL REFERENCES persona.recommender_models (name) ON DELETE CASCADE,
    item_id      bigint NOT NULL,
    popularity   bigint NOT NULL,
    category     text,
    neighbours   bigint[] NOT NULL DEFAULT '{}',
    weights      real[] NOT NULL DEFAULT '{}',
    next_items   bigint[] NOT NULL DEFAULT '{}',
    next_weights real[] NOT NULL DEFAULT '{}',
    embedding    real[],
    text_vec     real[],
    PRIMARY KEY (model, item_id)
);
SELECT pg_catalog.pg_extension_config_dump('persona.recommender_items', '');

-- Lists written by persona.recommend_all(): one row per (model, user), the
-- items best first. Personal data: nothing is granted to PUBLIC.
CREATE TABLE persona.recommendation_lists (
    model       text NOT NULL,
    user_id     bigint NOT NULL,
    items       bigint[] NOT NULL,
    scores      real[] NOT NULL,
    reasons     text[] NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, user_id)
);
SELECT pg_catalog.pg_extension_config_dump('persona.recommendation_lists', '');

-- One row per recommendation, rank 1 first: the stable interface to the lists.
CREATE VIEW persona.recommendations AS
SELECT l.model, l.user_id, r.rank::integer AS rank, r.item_id, r.score::float8 AS score, r.reason, l.computed_at
FROM persona.recommendation_lists l,
     unnest(l.items, l.scores, l.reasons) WITH ORDINALITY AS r(item_id, score, reason, rank);
