-- Hostile sizes and extreme numbers (issue 11, items 6 and 8): each case
-- finishes quickly and gives a number or an ERROR with its SQLSTATE, never
-- NaN, Infinity, a silently flattened matrix or a minute of work.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
-- clean_text is linear on shapes that used to be quadratic (1M '<' took 41 s):
-- each of these runs in well under a second, against a 5 s timeout.
SET statement_timeout = '5s';
SELECT length(persona.clean_text(repeat('<', 1000000))) AS lt;
SELECT length(persona.clean_text(repeat('<a', 500000))) AS lt_a;
SELECT length(persona.clean_text(repeat('<script', 150000))) AS unclosed_script;
SELECT persona.clean_text('before<style>' || repeat('<a b', 250000)) AS unclosed_style;
SELECT length(persona.clean_text(repeat('<b>w</b>', 125000))) AS closed_tags;
SELECT length(persona.clean_text(repeat('&', 1000000))) AS amp;
SELECT length(persona.clean_text(repeat('&#x4E2D;', 125000))) AS entities;
-- ... and cancellable: 50 MB is cut short by the timeout, the backend carries on.
SET statement_timeout = '100ms';
SELECT length(persona.clean_text(repeat('<a', 25000000)));
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT 1 AS still_here;
-- vec_avg: weights whose products or sum leave float8 are an ERROR, not NaN.
SELECT persona.vec_avg(v, 1e308) FROM (VALUES ('{1,2,3}'::real[])) x(v);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.vec_avg(v, 1e308) FROM (VALUES ('{0.5,0.25}'::real[]), ('{0.5,0.25}'::real[])) x(v);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.vec_avg(v, 1e300) AS big_weights FROM (VALUES ('{1,2}'::real[]), ('{3,4}'::real[])) x(v);
-- Multi-dimensional arrays are not vectors (as in pgvector): 22000 from every
-- function that takes one, instead of reading the matrix as a longer vector.
SELECT persona.cosine_similarity('{{1,2},{3,4}}', '{1,2,3,4}');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.inner_product('{1,2,3,4}', '{{1,2},{3,4}}');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.l2_distance('{{{1}}}', '{1}');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.vec_avg(v) FROM (VALUES ('{1,2}'::real[]), ('{{1,2}}'::real[])) x(v);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.vec_avg(v, 1) FROM (VALUES ('{{1,2},{3,4}}'::real[])) x(v);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.normalize('{{3,4}}');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.profile_vector('{{1,0},{0,1}}', NULL, 0.5, 4, 2);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.profile_vector(NULL, '{1,0}', 0.5, 2000000000, 2);
\echo :LAST_ERROR_SQLSTATE
-- One-dimensional arrays with other bounds stay vectors.
SELECT persona.inner_product('[0:1]={1,2}', '{3,4}') AS shifted_bounds;
-- (Keys far from the other tests' users, and the model dropped at the end:
-- the regression database is shared by the whole schedule.)
CREATE TABLE limits_vecs AS
SELECT 900000 + i AS id, ARRAY[(i % 2) * 10 + sin(i), cos(i)]::real[] AS v FROM generate_series(1, 40) i;
SELECT k FROM persona.kmeans_train('limits_m', source => 'limits_vecs', vector_col => 'v', key_col => 'id', k => 2, n_init => 1);
SELECT segment IS NOT NULL AS scored FROM persona.kmeans_nearest('limits_m', '{10,0}');
SELECT * FROM persona.kmeans_nearest('limits_m', '{{10,0}}');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.kmeans_assign('limits_m', '{{10},{0}}');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.anomaly_score('limits_m', '{{10,0}}');
\echo :LAST_ERROR_SQLSTATE
-- A matrix in a training source is refused the same way.
CREATE TABLE limits_matrices AS SELECT 900000 + i AS id, ARRAY[[i, 1], [2, 3]]::real[] AS v FROM generate_series(1, 10) i;
SELECT k FROM persona.kmeans_train('limits_mm', source => 'limits_matrices', vector_col => 'v', key_col => 'id', k => 2);
\echo :LAST_ERROR_SQLSTATE
-- Lifetime value at extreme but finite inputs: a number where the model
-- gives one, 22003 where the answer is beyond float8 or infinite.
CREATE TABLE limits_bgnbd AS SELECT ROW(0.243, 4.414, 0.793, 2.426, 0, 1)::persona.bgnbd_model AS m;
-- 1e38 purchases, the last long ago: gone, expects nothing.
SELECT round(persona.bgnbd_expected_purchases(m, 1e38, 10, 38.86, 39)::numeric, 6) AS gone_purchases,
       persona.bgnbd_probability_alive(m, 1e38, 10, 38.86) AS gone_alive FROM limits_bgnbd;
-- 1e38 purchases up to the end: about 1e38 more.
SELECT round((persona.bgnbd_expected_purchases(m, 1e38, 38.86, 38.86, 39) / 1e38)::numeric, 3) AS busy_purchases_e38,
       round(persona.bgnbd_probability_alive(m, 1e38, 38.86, 38.86)::numeric, 3) AS busy_alive FROM limits_bgnbd;
SELECT persona.bgnbd_expected_purchases(m, 1e308, 38.86, 38.86, 1e300) FROM limits_bgnbd;
\echo :LAST_ERROR_SQLSTATE
SELECT persona.bgnbd_expected_purchases(m, 0, 0, 1, 1e300) FROM limits_bgnbd;
\echo :LAST_ERROR_SQLSTATE
SELECT persona.bgnbd_expected_purchases(ROW(0.243, 4.414, 1, 2.426, 0, 1)::persona.bgnbd_model, 2, 30, 38.86, 39);
\echo :LAST_ERROR_SQLSTATE
-- Gamma-Gamma: a spend of 1e308 averages to a finite answer; q <= 1 has no mean.
SELECT round((persona.gamma_gamma_expected_spend(ROW(6.25, 3.74, 15.44, 0, 1)::persona.gamma_gamma_model, 4, 1e308) / 1e308)::numeric, 4) AS huge_spend_e308,
       round(persona.gamma_gamma_expected_spend(ROW(6.25, 3.74, 15.44, 0, 1)::persona.gamma_gamma_model, 1e308, 30)::numeric, 4) AS huge_frequency;
SELECT persona.gamma_gamma_expected_spend(ROW(6.25, 0.5, 15.44, 0, 1)::persona.gamma_gamma_model, 0, 0);
\echo :LAST_ERROR_SQLSTATE
DELETE FROM persona.kmeans_models WHERE name IN ('limits_m', 'limits_mm');
DROP TABLE limits_vecs, limits_matrices, limits_bgnbd;
