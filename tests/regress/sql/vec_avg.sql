-- persona.vec_avg: element-wise (weighted) mean, parallel safe.
\set SHOW_CONTEXT never
CREATE TABLE vecs (g int, v real[], w float8);
INSERT INTO vecs VALUES (1, '{1,2,3}', 1), (1, '{3,4,5}', 3), (1, NULL, 1), (2, '{0,0}', 0), (2, '{2,2}', NULL);
SELECT g, persona.vec_avg(v) AS mean, persona.vec_avg(v, w) AS weighted FROM vecs GROUP BY g ORDER BY g;
-- No rows: NULL. Only NULLs: NULL. Total weight 0: NULL.
SELECT persona.vec_avg(v) IS NULL AS no_rows FROM vecs WHERE false;
SELECT persona.vec_avg(NULL::real[]) IS NULL AS only_nulls FROM generate_series(1, 3);
SELECT persona.vec_avg(v, 0) IS NULL AS zero_weight FROM vecs WHERE g = 1;
-- Recency decay, as the README shows it: half the weight every 30 days.
SELECT persona.vec_avg(v, 0.5 ^ (age_days / 30.0)) AS decayed
FROM (VALUES ('{1,0}'::real[], 0), ('{0,1}'::real[], 30)) e(v, age_days);
-- Bad input.
SELECT persona.vec_avg(v) FROM (VALUES ('{1,2}'::real[]), ('{1,2,3}'::real[])) x(v);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.vec_avg(v) FROM (VALUES ('{1,2}'::real[]), ('{NaN,2}'::real[])) x(v);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.vec_avg(v, -1) FROM (VALUES ('{1,2}'::real[])) x(v);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.vec_avg(v) FROM (VALUES ('{1,NULL}'::real[])) x(v);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.vec_avg(v) FROM (VALUES ('{}'::real[])) x(v);
\echo :LAST_ERROR_SQLSTATE
-- Parallel plans: Partial Aggregate in workers, combined through serial/deserial,
-- with the same result as a serial plan.
CREATE TABLE many AS
SELECT i, ARRAY[sin(i), cos(i), (i % 7)::float8 / 7, 1]::real[] AS v, 1 + (i % 5) AS w
FROM generate_series(1, 50000) i;
ANALYZE many;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT persona.vec_avg(v), persona.vec_avg(v, w) FROM many;
CREATE TEMP TABLE parallel_result AS SELECT persona.vec_avg(v) AS m, persona.vec_avg(v, w) AS wm FROM many;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT persona.vec_avg(v), persona.vec_avg(v, w) FROM many;
SELECT persona.l2_distance(p.m, s.m) < 1e-6 AS same_mean, persona.l2_distance(p.wm, s.wm) < 1e-6 AS same_weighted
FROM parallel_result p, (SELECT persona.vec_avg(v) AS m, persona.vec_avg(v, w) AS wm FROM many) s;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE vecs, many;
