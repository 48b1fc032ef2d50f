-- persona stores embeddings as real[]; pgvector, when installed, reads them with a cast.
-- pgvector is not packaged for Debian 12's PostgreSQL 15 here, so this test has
-- two expected outputs: pgvector.out (installed) and pgvector_1.out (absent, skipped).
\set SHOW_CONTEXT never
SELECT NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS skip_pgvector \gset
\if :skip_pgvector
\echo 'SKIP: pgvector is not installed; real[] -> vector cast not tested'
\else
CREATE EXTENSION IF NOT EXISTS vector;
SELECT vector_dims(persona.embed('cast me')::vector) AS dims;
SELECT round((1 - (persona.embed('a red dress')::vector <=> persona.embed('a crimson gown')::vector))::numeric, 5)
     = round(persona.cosine_similarity(persona.embed('a red dress'), persona.embed('a crimson gown'))::numeric, 5)
       AS same_cosine;
\endif
