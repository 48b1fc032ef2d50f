-- persona.build_profiles / refresh_profiles on a hand-made shop whose every
-- figure can be checked by hand. as_of defaults to the newest event, so the
-- output does not age.
\set SHOW_CONTEXT never
CREATE TABLE items (item_id int PRIMARY KEY, title text, category text, price numeric);
INSERT INTO items VALUES
  (1, 'wrap dress', 'dresses', 50), (2, 'midi dress', 'dresses', 100), (3, 'silk dress', 'dresses', 150),
  (4, 'sneaker', 'shoes', 80), (5, 'boot', 'shoes', 120), (6, 'tote', 'bags', 200);
CREATE TABLE events (user_id bigint, item_id int, event_type text, event_time timestamptz, price numeric, quantity int, search text);
INSERT INTO events VALUES
  -- user 1: a budget buyer, active; a double-clicked view and a search
  (1, 1, 'view',     '2026-06-20 10:00+00', NULL, NULL, NULL),
  (1, 1, 'view',     '2026-06-20 10:10+00', NULL, NULL, NULL),
  (1, 1, 'purchase', '2026-06-20 10:20+00', 45, 2, NULL),
  (1, 4, 'purchase', '2026-06-25 09:00+00', NULL, 1, NULL),
  (1, 1, 'purchase', '2026-06-25 09:00+00', 45, 1, NULL),
  (1, NULL, 'search','2026-06-26 08:00+00', NULL, NULL, 'summer dress'),
  -- user 2: premium purchases in May, at risk by the end of June
  (2, 3, 'view',     '2026-04-30 20:00+00', NULL, NULL, NULL),
  (2, 3, 'purchase', '2026-05-01 12:00+00', 150, 1, NULL),
  (2, 6, 'purchase', '2026-05-10 12:00+00', 200, 1, NULL),
  -- user 3: one view in February, lapsed
  (3, 2, 'view',     '2026-02-01 12:00+00', NULL, NULL, NULL),
  -- user 4: new this week
  (4, 5, 'cart',     '2026-06-28 12:00+00', NULL, NULL, NULL),
  -- bad rows: skipped and counted
  (NULL, 1, 'view',  '2026-06-01 00:00+00', NULL, NULL, NULL),
  (4, 5, 'view',     NULL, NULL, NULL, NULL);
CREATE TABLE reviews (user_id bigint, item_id int, body text, created_at timestamptz, embedding real[]);
INSERT INTO reviews VALUES
  (1, 1, 'love it',  '2026-06-22+00', '{1,0}'),
  (5, 2, 'too long', '2026-06-01+00', '{0,1}');
CREATE TABLE customers (user_id bigint PRIMARY KEY, email text);
INSERT INTO customers SELECT u, 'u' || u || '@example.com' FROM generate_series(1, 6) u;
-- Item vectors made by hand, so that behaviour vectors can be checked.
INSERT INTO persona.item_vectors (model, item_id, embedding) VALUES
  ('hand', 1, '{1,0}'), ('hand', 2, '{1,0}'), ('hand', 3, '{0,1}'), ('hand', 4, '{0,1}'), ('hand', 5, '{1,1}'), ('hand', 6, '{0,1}');

SELECT profiles, events_used, duplicates_removed, events_skipped
FROM persona.build_profiles('shop', 'events', price_col => 'price', quantity_col => 'quantity',
    items => 'items', texts => 'reviews', users => 'customers', item2vec_model => 'hand',
    half_life => '30 days');
SELECT as_of, event_watermark, text_watermark, behaviour_dim, text_dim, bgnbd FROM persona.profile_definitions;

SELECT user_id, events, round(recency_days::numeric, 2) AS recency_days, frequency, monetary,
       avg_order_value, top_categories, round(price_index::numeric, 2) AS price_index, price_band,
       events_30d, activity_level, lifecycle_stage
FROM persona.profiles WHERE name = 'shop' ORDER BY user_id;
-- Which users have which parts of the vector: 5 has text only, 2 and 3 behaviour only, 6 nothing.
SELECT user_id, text_vec IS NOT NULL AS has_text, behaviour_vec IS NOT NULL AS has_behaviour,
       array_length(profile_vec, 1) AS profile_dims,
       round(sqrt((SELECT sum(x * x) FROM unnest(profile_vec) x))::numeric, 4) AS profile_norm
FROM persona.profiles WHERE name = 'shop' ORDER BY user_id;
-- User 1's behaviour vector by hand: each event's type weight times 0.5 ^ (age / 30 days).
WITH e(item, w, ts) AS (VALUES (1, 1, '2026-06-20 10:00+00'::timestamptz), (1, 5, '2026-06-20 10:20+00'),
                              (4, 5, '2026-06-25 09:00+00'), (1, 5, '2026-06-25 09:00+00'))
SELECT persona.cosine_similarity(
         (SELECT behaviour_vec FROM persona.profiles WHERE name = 'shop' AND user_id = 1),
         (SELECT persona.vec_avg(v.embedding, e.w * power(0.5, extract(epoch FROM '2026-06-28 12:00+00' - e.ts) / 86400 / 30))
          FROM e JOIN persona.item_vectors v ON v.model = 'hand' AND v.item_id = e.item)) > 0.999999 AS behaviour_by_hand;

-- Refresh: nothing new, nothing changes.
CREATE TABLE before AS SELECT * FROM persona.profiles;
SELECT profiles FROM persona.refresh_profiles('shop');
SELECT count(*) AS changed_rows FROM (TABLE before EXCEPT SELECT * FROM persona.profiles) d;
-- New events for user 3 (two purchases of one item within 30 minutes: one
-- event) and a new customer: only they are recomputed, as of the newest event.
INSERT INTO events VALUES (3, 2, 'purchase', '2026-06-29 12:00+00', 100, 1, NULL), (3, 2, 'purchase', '2026-06-29 12:05+00', 100, 1, NULL);
INSERT INTO customers VALUES (7, 'u7@example.com');
SELECT profiles, events_used, duplicates_removed FROM persona.refresh_profiles('shop');
SELECT user_id, as_of, events, frequency, monetary, lifecycle_stage, top_categories
FROM persona.profiles WHERE name = 'shop' AND user_id IN (3, 7) ORDER BY user_id;
SELECT count(*) AS unchanged_users FROM (TABLE before INTERSECT SELECT * FROM persona.profiles) d;
SELECT profiles FROM persona.refresh_profiles('shop');

-- Custom column names, a query as the source, no optional sources, a fixed
-- as_of (later events are not used), no de-duplication.
INSERT INTO events VALUES (4, 6, 'view', '2026-07-15 00:00+00', NULL, NULL, NULL);
CREATE TABLE clicks AS SELECT user_id AS who, item_id AS what, event_type AS kind, event_time::date AS day FROM events;
SELECT profiles, events_used FROM persona.build_profiles('clicks', '(SELECT * FROM clicks WHERE kind <> ''search'')',
    user_col => 'who', item_col => 'what', type_col => 'kind', time_col => 'day', dedup_window => '0', as_of => '2026-06-30+00');
SELECT user_id, events, frequency, lifecycle_stage, profile_vec FROM persona.profiles WHERE name = 'clicks' ORDER BY user_id;

-- Customer value on 300 generated buyers: the traits are the stand-alone
-- BG/NBD and Gamma-Gamma functions applied to the fitted models, in days.
CREATE TABLE orders AS
SELECT u AS user_id, (u * 13 + k * 7) % 50 + 1 AS item_id, 'purchase' AS event_type,
       timestamptz '2026-01-01' + make_interval(days => (u * 31 + k * (3 + u % 17)) % 180) AS event_time,
       10 + (u * k) % 90 AS price
FROM generate_series(1, 300) u, generate_series(1, 1 + u % 6) k;
SET client_min_messages = warning;
SELECT profiles FROM persona.build_profiles('buyers', 'orders', price_col => 'price');
RESET client_min_messages;
SELECT (bgnbd).customers AS bgnbd_customers, (gamma_gamma).customers AS gamma_gamma_customers,
       (bgnbd).r > 0 AND (bgnbd).alpha > 0 AND (bgnbd).a > 0 AND (bgnbd).b > 0 AS bgnbd_fitted,
       (gamma_gamma).p > 0 AND (gamma_gamma).q > 1 AS gamma_gamma_fitted
FROM persona.profile_definitions WHERE name = 'buyers';
WITH d AS (SELECT * FROM persona.profile_definitions WHERE name = 'buyers'),
c AS (SELECT user_id, count(DISTINCT event_time::date) AS days, min(event_time::date) AS first, max(event_time::date) AS last,
             sum(price) AS spend FROM orders GROUP BY user_id),
want AS (SELECT c.user_id,
                persona.bgnbd_expected_purchases(d.bgnbd, c.days - 1, c.last - c.first, greatest(d.as_of::date - c.first, 1), 90) AS ep,
                persona.bgnbd_probability_alive(d.bgnbd, c.days - 1, c.last - c.first, greatest(d.as_of::date - c.first, 1)) AS pa,
                persona.gamma_gamma_expected_spend(d.gamma_gamma, c.days - 1, c.spend::float8 / c.days) AS spend
         FROM c, d)
SELECT count(*) AS buyers,
       max(abs(p.expected_purchases_90d - w.ep)) < 1e-9 AS expected_purchases_match,
       max(abs(p.probability_alive - w.pa)) < 1e-9 AS probability_alive_match,
       max(abs(p.predicted_value - w.ep * w.spend)) < 1e-6 AS predicted_value_match,
       bool_and(p.probability_alive BETWEEN 0 AND 1) AS probabilities
FROM persona.profiles p JOIN want w USING (user_id) WHERE p.name = 'buyers';

-- Lifecycle cut-offs from the shop's own times between purchases: 40
-- customers who buy once a year (gaps of 360 to 379 days), the last of them
-- 0 to 390 days before as_of. Fixed 30/90-day cut-offs call nearly all of
-- them lapsed; the derived ones (median and 90th percentile of the gaps)
-- call lapsed only those past nine in ten returns.
CREATE TABLE yearly AS
SELECT u AS user_id, 1 AS item_id, 'purchase' AS event_type,
       timestamptz '2027-01-01' - make_interval(days => (u * 10) % 400) - make_interval(days => k * (360 + u % 20)) AS event_time
FROM generate_series(1, 40) u, generate_series(0, 2) k;
SELECT profiles FROM persona.build_profiles('yearly', 'yearly', as_of => '2027-01-01+00');
SELECT active_days, lapsed_days, lifecycle_basis->>'active_days' AS active_basis, lifecycle_basis->>'lapsed_days' AS lapsed_basis,
       lifecycle_basis->>'purchase_gaps' AS gaps
FROM persona.profile_definitions WHERE name = 'yearly';
SELECT lifecycle_stage, count(*) FROM persona.profiles WHERE name = 'yearly' GROUP BY 1 ORDER BY 1;
-- Explicit arguments win, each on its own.
SELECT profiles FROM persona.build_profiles('yearly', 'yearly', as_of => '2027-01-01+00', active_days => 30, lapsed_days => 90);
SELECT active_days, lapsed_days, lifecycle_basis->>'active_days' AS active_basis FROM persona.profile_definitions WHERE name = 'yearly';
SELECT lifecycle_stage, count(*) FROM persona.profiles WHERE name = 'yearly' GROUP BY 1 ORDER BY 1;
SELECT profiles FROM persona.build_profiles('yearly', 'yearly', as_of => '2027-01-01+00', lapsed_days => 100);
SELECT active_days, lapsed_days, lifecycle_basis->>'active_days' AS active_basis, lifecycle_basis->>'lapsed_days' AS lapsed_basis
FROM persona.profile_definitions WHERE name = 'yearly';
SELECT profiles FROM persona.build_profiles('yearly', 'yearly', as_of => '2027-01-01+00', active_days => 500);
SELECT active_days, lapsed_days FROM persona.profile_definitions WHERE name = 'yearly';
-- A refresh keeps the build's cut-offs.
SET client_min_messages = warning;
SELECT profiles FROM persona.build_profiles('yearly', 'yearly');
RESET client_min_messages;
INSERT INTO yearly VALUES (41, 1, 'purchase', '2027-01-05+00');
SELECT profiles FROM persona.refresh_profiles('yearly');
SELECT active_days, lapsed_days FROM persona.profile_definitions WHERE name = 'yearly';
SELECT lifecycle_stage FROM persona.profiles WHERE name = 'yearly' AND user_id = 41;
DROP TABLE yearly;

-- Empty input: a NOTICE, no error, no profiles.
SELECT profiles, events_used FROM persona.build_profiles('empty', '(SELECT * FROM events WHERE false)');
SELECT count(*) FROM persona.profiles WHERE name = 'empty';

-- Bad input.
SELECT * FROM persona.build_profiles('x', 'no_such_table');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.build_profiles('x', 'events', time_col => 'no_such_col');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.build_profiles('x', 'events', time_col => 'event_time', items => 'items', category_col => 'colour');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.build_profiles('x', 'events', user_col => 'search');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.build_profiles('x', 'events', time_col => 'price');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.build_profiles('x', 'events', texts => 'reviews', text_vec_col => 'body');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.build_profiles('x', 'events', item2vec_model => 'no_such_model');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.build_profiles('x y', 'events');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.build_profiles('x', 'events', half_life => '-1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.build_profiles('x', 'events', event_weights => '{"view": "a lot"}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.build_profiles('x', 'events', text_weight => 2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.build_profiles('x', 'events', active_days => 90, lapsed_days => 30);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.build_profiles('x', 'events', active_days => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.refresh_profiles('no_such_profiles');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.profile_vector('{1,0}', '{0,1,0}', 0.5, 2, 2);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.profile_vector('{3,4}', NULL, 0.5, 2, 3), persona.normalize('{3,4}'), persona.normalize('{0,0}');

DELETE FROM persona.profile_definitions;
DELETE FROM persona.item_vectors;
DROP TABLE items, events, reviews, customers, before, clicks, orders;
