-- Catalog tables of persona. Created before any function, since functions read them.

-- Registered sentence-embedding models. Rows are written by
-- persona.register_model() (superuser only); everyone may read them.
CREATE TABLE persona.models (
    name          text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]{1,63}$'),
    path          text NOT NULL,
    dimension     integer NOT NULL CHECK (dimension > 0),
    max_tokens    integer NOT NULL CHECK (max_tokens > 0),
    builtin       boolean NOT NULL DEFAULT false,
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by name NOT NULL DEFAULT current_user
);

-- The model the set-up command installs under the share directory.
INSERT INTO persona.models (name, path, dimension, max_tokens, builtin)
VALUES ('all-MiniLM-L6-v2', '$sharedir/persona/models/all-MiniLM-L6-v2', 384, 256, true);

-- Models a user registered survive pg_dump; the shipped row is recreated by CREATE EXTENSION.
SELECT pg_catalog.pg_extension_config_dump('persona.models', 'WHERE NOT builtin');

GRANT USAGE ON SCHEMA persona TO PUBLIC;
GRANT SELECT ON persona.models TO PUBLIC;

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
