-- BG/NBD and Gamma-Gamma fitted in the database.
\set SHOW_CONTEXT never
-- Customers simulated from a BG/NBD process (Poisson purchases while alive,
-- dropping out after each purchase with probability p), 26 weeks observed.
SELECT setseed(0.42);
CREATE TABLE summary AS
WITH c AS (
    SELECT id, 0.05 + random() * 0.6 AS lambda, 0.05 + random() * 0.5 AS p, 26.0 AS t
    FROM generate_series(1, 1500) id
), sim AS (
    SELECT c.id, c.t, s.x, s.t_x
    FROM c, LATERAL (
        WITH RECURSIVE walk(n, at, alive) AS (
            SELECT 0, 0.0::float8, true
            UNION ALL
            SELECT n + 1, at - ln(1 - random()) / c.lambda, random() >= c.p
            FROM walk WHERE alive AND at < c.t AND n < 200
        )
        SELECT count(*) FILTER (WHERE n > 0 AND at <= c.t) AS x,
               coalesce(max(at) FILTER (WHERE n > 0 AND at <= c.t), 0) AS t_x
        FROM walk
    ) s
)
SELECT id, x::float8 AS frequency, round(t_x::numeric, 2)::float8 AS recency, t AS t,
       CASE WHEN x > 0 THEN 10 + (id % 13) * 3 + x END::float8 AS mean_spend
FROM sim;
SELECT count(*) AS customers, count(*) FILTER (WHERE frequency > 0) AS repeat_buyers FROM summary;
-- The fit: one composite row.
SELECT round(m.r::numeric, 3) AS r, round(m.alpha::numeric, 3) AS alpha, round(m.a::numeric, 3) AS a,
       round(m.b::numeric, 3) AS b, round(m.log_likelihood::numeric, 2) AS ll, m.customers
FROM (SELECT persona.bgnbd_fit(frequency, recency, t) AS m FROM summary) f, LATERAL (SELECT (f.m).*) m;
-- Applying it: more recent and frequent buyers expect more and are more likely alive.
WITH m AS (SELECT persona.bgnbd_fit(frequency, recency, t) AS m FROM summary)
SELECT round(persona.bgnbd_expected_purchases(m, 5, 25, 26, 13)::numeric, 3) AS active_13w,
       round(persona.bgnbd_expected_purchases(m, 5, 3, 26, 13)::numeric, 3) AS lapsed_13w,
       round(persona.bgnbd_probability_alive(m, 5, 25, 26)::numeric, 3) AS p_alive_active,
       round(persona.bgnbd_probability_alive(m, 5, 3, 26)::numeric, 3) AS p_alive_lapsed,
       persona.bgnbd_probability_alive(m, 0, 0, 26) AS p_alive_no_repeat
FROM m;
-- Gamma-Gamma on the repeat buyers.
SELECT round((g).p::numeric, 2) AS p, round((g).q::numeric, 2) AS q, round((g).gamma::numeric, 2) AS gamma, (g).customers
FROM (SELECT persona.gamma_gamma_fit(frequency, mean_spend) AS g FROM summary) f;
WITH g AS (SELECT persona.gamma_gamma_fit(frequency, mean_spend) AS g FROM summary)
SELECT round(persona.gamma_gamma_expected_spend(g, 4, 50)::numeric, 2) AS big_spender,
       round(persona.gamma_gamma_expected_spend(g, 4, 12)::numeric, 2) AS small_spender
FROM g;
-- NULL rows are skipped with a NOTICE; no rows gives NULL.
SELECT (persona.bgnbd_fit(frequency, recency, CASE WHEN id <= 3 THEN NULL ELSE t END)).customers FROM summary;
SELECT persona.bgnbd_fit(frequency, recency, t) IS NULL AS no_rows FROM summary WHERE false;
-- Bad input.
SELECT persona.bgnbd_fit(f, r, t) FROM (VALUES (1.0, 5.0, 2.0)) x(f, r, t);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.bgnbd_fit(f, r, t) FROM (VALUES (-1.0, 0.0, 2.0)) x(f, r, t);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.gamma_gamma_fit(f, s) FROM (VALUES (0.0, 0.0)) x(f, s);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.bgnbd_probability_alive(ROW(0.2, 4, 0.8, 2.4, 0, 1)::persona.bgnbd_model, 2, 9, 5);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.bgnbd_probability_alive(ROW(-1, 4, 0.8, 2.4, 0, 1)::persona.bgnbd_model, 2, 3, 5);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.bgnbd_expected_purchases(ROW(0.2, 4, 0.8, 2.4, 0, 1)::persona.bgnbd_model, 2, 3, 5, -1);
\echo :LAST_ERROR_SQLSTATE
-- Parallel plan for the fit.
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT persona.bgnbd_fit(frequency, recency, t) FROM summary;
SELECT round(((persona.bgnbd_fit(frequency, recency, t)).log_likelihood)::numeric, 2) AS parallel_ll FROM summary;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
DROP TABLE summary;
