-- persona.score_risks on a hand-made shop: 200 ordinary customers and one
-- account for each risk reason, a ring of twelve accounts with one crawl, and
-- bad input. Every ordinary customer views at a human pace, buys what it
-- carts, and has an account a month old.
\set SHOW_CONTEXT never
CREATE TABLE customers (user_id bigint PRIMARY KEY, signup_at timestamptz);
CREATE TABLE events (user_id bigint, item_id int, event_type text, event_time timestamptz, price numeric);
-- Ordinary customers: three visits a week apart, each four views two
-- minutes apart, a cart and a purchase; every twentieth returns one.
INSERT INTO customers SELECT u, '2026-05-01+00' FROM generate_series(1, 200) u;
INSERT INTO events
SELECT u, (u * 7 + v * 13 + j) % 200, 'view', t0 + make_interval(mins => 2 * j), NULL
FROM generate_series(1, 200) u, generate_series(0, 2) v, generate_series(0, 3) j,
     LATERAL (SELECT '2026-06-01+00'::timestamptz + make_interval(days => 7 * v, hours => u % 12) AS t0) s;
INSERT INTO events
SELECT u, (u * 7 + v * 13) % 200, kind, t0 + make_interval(mins => 10 + k), 40 + u % 20
FROM generate_series(1, 200) u, generate_series(0, 2) v, (VALUES (0, 'cart'), (1, 'purchase')) AS x(k, kind),
     LATERAL (SELECT '2026-06-01+00'::timestamptz + make_interval(days => 7 * v, hours => u % 12) AS t0) s;
UPDATE events SET price = NULL WHERE event_type = 'cart';
INSERT INTO events SELECT u, (u * 7) % 200, 'return', '2026-06-25+00', 40 + u % 20 FROM generate_series(20, 200, 20) u;
-- 900: 150 views in five minutes, with one purchase (velocity).
INSERT INTO customers VALUES (900, '2026-05-01+00');
INSERT INTO events SELECT 900, 300 + j, 'view', '2026-06-10 03:00+00'::timestamptz + make_interval(secs => 2 * j), NULL FROM generate_series(0, 149) j;
INSERT INTO events VALUES (900, 300, 'cart', '2026-06-11 03:00+00', NULL), (900, 300, 'purchase', '2026-06-11 03:01+00', 45);
-- 901: 200 views, one an hour, never a cart or purchase (views without purchase).
INSERT INTO customers VALUES (901, '2026-05-01+00');
INSERT INTO events SELECT 901, 500 + j % 150, 'view', '2026-06-01+00'::timestamptz + make_interval(hours => j), NULL FROM generate_series(0, 199) j;
-- 910-921: the same twenty items in the same order at a human pace, each
-- buying one (a ring of twelve, nothing else unusual).
INSERT INTO customers SELECT u, '2026-05-01+00' FROM generate_series(910, 921) u;
INSERT INTO events SELECT u, 700 + j, 'view', '2026-06-05+00'::timestamptz + make_interval(days => u - 910, mins => 3 * j), NULL
FROM generate_series(910, 921) u, generate_series(0, 19) j;
INSERT INTO events SELECT u, 700, kind, '2026-06-05 02:00+00'::timestamptz + make_interval(days => u - 910, mins => k), CASE WHEN k = 1 THEN 50 END
FROM generate_series(910, 921) u, (VALUES (0, 'cart'), (1, 'purchase')) AS x(k, kind);
-- 940: an account opened the day it spends 6,000 (new account, high spend).
INSERT INTO customers VALUES (940, '2026-06-15 08:00+00');
INSERT INTO events VALUES (940, 10, 'view', '2026-06-15 09:00+00', NULL), (940, 10, 'cart', '2026-06-15 09:05+00', NULL),
  (940, 10, 'purchase', '2026-06-15 09:06+00', 6000);
-- 930: buys eight times and returns all eight (refunds).
INSERT INTO customers VALUES (930, '2026-05-01+00');
INSERT INTO events SELECT 930, 20 + j, kind, '2026-06-01+00'::timestamptz + make_interval(days => 2 * j, mins => k), CASE WHEN k > 0 THEN 45 END
FROM generate_series(0, 7) j, (VALUES (0, 'view'), (1, 'cart'), (2, 'purchase')) AS x(k, kind);
UPDATE events SET price = NULL WHERE user_id = 930 AND event_type = 'cart';
INSERT INTO events SELECT 930, 20 + j, 'return', '2026-06-01+00'::timestamptz + make_interval(days => 2 * j + 1), 45 FROM generate_series(0, 7) j;

SELECT profiles FROM persona.build_profiles('risky', 'events', time_col => 'event_time', price_col => 'price',
    users => 'customers', active_days => 30, lapsed_days => 90);
SELECT users, risky, rings FROM persona.score_risks('risky', signup_col => 'signup_at');
-- Every special account above every ordinary one, each for its own reason.
SELECT user_id, rank, round(score::numeric, 2) AS score, reason_codes, ring_size FROM persona.risks WHERE profiles = 'risky' ORDER BY rank, user_id;
SELECT count(*) FILTER (WHERE user_id < 900) AS ordinary, count(*) FILTER (WHERE user_id >= 900) AS special FROM persona.risks WHERE profiles = 'risky';
SELECT user_id, reasons FROM persona.risks WHERE profiles = 'risky' AND user_id IN (900, 901, 910, 940, 930) ORDER BY user_id;
SELECT reason, value, round(typical::numeric, 4) AS typical, round(contribution::numeric, 2) AS contribution, text FROM persona.risk_reasons('risky', 930);
-- The same reasons in Chinese, for Chinese shops and their reports.
SELECT user_id, reasons_zh FROM persona.risks WHERE profiles = 'risky' AND user_id IN (900, 901, 910, 940, 930) ORDER BY user_id;
SELECT reason, text_zh FROM persona.risk_reasons('risky', 930);
SELECT ring, size, members FROM persona.risk_rings WHERE name = 'risky';
-- Scoring again replaces the results; a wider window still catches 900.
SELECT users, risky, rings FROM persona.score_risks('risky', "window" => '1 hour', signup_col => 'signup_at');
SELECT count(*) FROM persona.risk_scores WHERE name = 'risky';
SELECT 'velocity' = ANY (reason_codes) FROM persona.risks WHERE profiles = 'risky' AND user_id = 900;
-- Without signup times, an account's age starts at its first event.
SELECT users FROM persona.score_risks('risky');
SELECT 'new_account_high_spend' = ANY (reason_codes) FROM persona.risks WHERE profiles = 'risky' AND user_id = 940;
-- Forgetting a user removes its score and its place in a ring.
SELECT stored_in, removed FROM persona.forget_user(911) WHERE stored_in LIKE 'persona.risk%';
SELECT size, 911 = ANY (members) FROM persona.risk_rings WHERE name = 'risky';

-- Bad input: the SQLSTATE and the message.
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$f$;
SET client_min_messages = warning;
SELECT pg_temp.try($$SELECT * FROM persona.score_risks(NULL)$$);
SELECT pg_temp.try($$SELECT * FROM persona.score_risks('nobody')$$);
SELECT pg_temp.try($$SELECT * FROM persona.score_risks('risky', "window" => '0 seconds')$$);
SELECT pg_temp.try($$SELECT * FROM persona.score_risks('risky', "window" => '2 days')$$);
SELECT pg_temp.try($$SELECT * FROM persona.score_risks('risky', ring_distance => -1)$$);
SELECT pg_temp.try($$SELECT * FROM persona.score_risks('risky', ring_distance => 'NaN')$$);
SELECT pg_temp.try($$SELECT * FROM persona.score_risks('risky', ring_min_accounts => 0)$$);
SELECT pg_temp.try($$SELECT * FROM persona.score_risks('risky', threshold => 'Infinity')$$);
SELECT pg_temp.try($$SELECT * FROM persona.score_risks('risky', view_types => '{}')$$);
SELECT pg_temp.try($$SELECT * FROM persona.score_risks('risky', cart_types => '{purchase}')$$);
SELECT pg_temp.try($$SELECT * FROM persona.score_risks('risky', signup_col => 'no_such_column')$$);
SELECT profiles FROM persona.build_profiles('nousers', 'events', time_col => 'event_time');
SELECT pg_temp.try($$SELECT * FROM persona.score_risks('nousers', signup_col => 'signup_at')$$);
-- A negative price is left out of spend, not an error.
INSERT INTO events VALUES (1, 1, 'purchase', '2026-06-20+00', -5);
SELECT users FROM persona.score_risks('risky');
SET client_min_messages = warning;
SELECT persona.drop_model('profiles', p) FROM unnest(ARRAY['risky', 'nousers']) p;
SELECT count(*) FROM persona.risk_scores;
DROP TABLE events, customers;
