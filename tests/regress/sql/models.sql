-- The model registry and how registering refuses bad input.
\set SHOW_CONTEXT never
SELECT name, dimension, max_tokens, path, builtin FROM persona.models ORDER BY name;
-- Settings exist once the library is loaded (by any persona function).
SELECT persona.l2_distance('{0}', '{0}');
SHOW persona.default_model;
SHOW persona.threads;
SHOW persona.batch_size;
-- Unknown model names.
SELECT persona.embed('hello', 'no-such-model');
\echo :LAST_ERROR_SQLSTATE
SET persona.default_model = 'no-such-model';
SELECT persona.embed('hello');
\echo :LAST_ERROR_SQLSTATE
RESET persona.default_model;
-- Registering reads server files: superuser only.
CREATE ROLE persona_analyst LOGIN;
SET ROLE persona_analyst;
SELECT * FROM persona.register_model('mine', '/tmp');
\echo :LAST_ERROR_SQLSTATE
-- Non-superusers can still embed with registered models and read the registry.
SELECT array_length(persona.embed('analysts can embed'), 1) AS dims;
SELECT count(*) AS models_visible FROM persona.models;
-- ...but cannot write it directly.
INSERT INTO persona.models (name, path, dimension, max_tokens) VALUES ('x', '/tmp', 1, 1);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE persona_analyst;
-- Bad names and paths.
SELECT * FROM persona.register_model('bad name', '/tmp');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.register_model('relative', 'models/here');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.register_model('all-MiniLM-L6-v2', '$sharedir/persona/models/all-MiniLM-L6-v2');
\echo :LAST_ERROR_SQLSTATE
-- A directory that does not exist.
SELECT * FROM persona.register_model('missing', '/nonexistent/persona/model');
\echo :LAST_ERROR_SQLSTATE
-- Corrupt directories: bad config.json, bad tokenizer.json, bad safetensors.
COPY (SELECT 1) TO PROGRAM 'rm -rf /tmp/persona_regress_model && mkdir -p /tmp/persona_regress_model';
COPY (SELECT '{ not json') TO '/tmp/persona_regress_model/config.json';
COPY (SELECT '{}') TO '/tmp/persona_regress_model/tokenizer.json';
COPY (SELECT 'garbage') TO '/tmp/persona_regress_model/model.safetensors';
SELECT * FROM persona.register_model('corrupt', '/tmp/persona_regress_model');
\echo :LAST_ERROR_SQLSTATE
COPY (SELECT 1) TO PROGRAM 'cp $(pg_config --sharedir 2>/dev/null || echo /usr/share/postgresql/15)/persona/models/all-MiniLM-L6-v2/config.json /tmp/persona_regress_model/';
SELECT * FROM persona.register_model('corrupt', '/tmp/persona_regress_model');
\echo :LAST_ERROR_SQLSTATE
COPY (SELECT 1) TO PROGRAM 'cp $(pg_config --sharedir 2>/dev/null || echo /usr/share/postgresql/15)/persona/models/all-MiniLM-L6-v2/tokenizer.json /tmp/persona_regress_model/';
SELECT * FROM persona.register_model('corrupt', '/tmp/persona_regress_model');
\echo :LAST_ERROR_SQLSTATE
-- A good copy registers, embeds like the original, and can be re-pointed.
COPY (SELECT 1) TO PROGRAM 'cp $(pg_config --sharedir 2>/dev/null || echo /usr/share/postgresql/15)/persona/models/all-MiniLM-L6-v2/. /tmp/persona_regress_model/ -r';
SELECT * FROM persona.register_model('copy', '/tmp/persona_regress_model');
SELECT persona.cosine_similarity(persona.embed('same model', 'copy'), persona.embed('same model')) > 0.999999 AS same_vectors;
SELECT * FROM persona.register_model('copy', '/tmp/persona_regress_model', replace => true);
-- A registered model whose files break later fails at load with the file named.
COPY (SELECT 'garbage') TO '/tmp/persona_regress_model/model.safetensors';
SELECT * FROM persona.register_model('copy2', '/tmp/persona_regress_model');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM persona.models WHERE name = 'copy';
COPY (SELECT 1) TO PROGRAM 'rm -rf /tmp/persona_regress_model';
SELECT name FROM persona.models ORDER BY name;
-- The opt-in int8 model: the same directory quantised at load; close to the
-- exact vectors, not equal to them.
SELECT name, weights FROM persona.models WHERE builtin ORDER BY name;
SELECT persona.cosine_similarity(persona.embed('a soft cotton dress that fits well'),
                                 persona.embed('a soft cotton dress that fits well', 'all-MiniLM-L6-v2-int8')) > 0.99 AS int8_close,
       persona.embed('a soft cotton dress that fits well')
         <> persona.embed('a soft cotton dress that fits well', 'all-MiniLM-L6-v2-int8') AS int8_not_exact;
SELECT * FROM persona.register_model('odd', '$sharedir/persona/models/all-MiniLM-L6-v2', weights => 'int4');
