-- Similarity and distance between real[] vectors, and every way they refuse input.
\set SHOW_CONTEXT never
SELECT persona.cosine_similarity('{1,2,3}', '{1,2,3}') AS same,
       persona.cosine_similarity('{1,0}', '{0,1}') AS orthogonal,
       persona.cosine_similarity('{1,0}', '{-2,0}') AS opposite;
SELECT persona.inner_product('{1,2,3}', '{4,5,6}') AS ip,
       persona.l2_distance('{0,0}', '{3,4}') AS l2;
-- A zero vector has no direction: NaN, as in pgvector.
SELECT persona.cosine_similarity('{0,0}', '{1,1}') AS zero;
-- NULL in, NULL out (the functions are strict).
SELECT persona.cosine_similarity(NULL, '{1}') IS NULL AS null_in_null_out;
-- Different dimensions.
SELECT persona.cosine_similarity('{1,2,3}', '{1,2}');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.l2_distance('{1,2}', '{1,2,3}');
\echo :LAST_ERROR_SQLSTATE
-- NaN and infinity.
SELECT persona.inner_product('{1,NaN}', '{1,2}');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.cosine_similarity('{1,2}', '{Infinity,2}');
\echo :LAST_ERROR_SQLSTATE
-- Empty vectors and NULL elements.
SELECT persona.l2_distance('{}', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.cosine_similarity('{1,NULL}', '{1,2}');
\echo :LAST_ERROR_SQLSTATE
-- The backend is still fine after all that.
SELECT persona.l2_distance('{1}', '{1}') AS still_working;
