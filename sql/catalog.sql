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
