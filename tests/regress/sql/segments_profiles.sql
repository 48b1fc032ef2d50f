-- The pipeline on a shop with planted personas and bots
-- (tests/fixtures/planted_shop.sql): item2vec, profiles, segments with
-- automatic k, descriptions, risk scores, and refresh re-assigning users.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
\i tests/fixtures/planted_shop.sql
SELECT items FROM persona.train_item2vec('shop', 'shop_events', time_col => 'event_time', dim => 16, epochs => 20, seed => 3);
SELECT profiles FROM persona.build_profiles('shop', 'shop_events', items => 'shop_items', item2vec_model => 'shop');
SELECT k, training_mode FROM persona.kmeans_train('shop_segments', profiles => 'shop', k_max => 8,
    texts => '(SELECT user_id, body FROM shop_reviews)');
RESET client_min_messages;
-- Segments against the planted personas (bots left out): at least 0.9.
SELECT persona.adjusted_rand_index(array_agg(dense_rank ORDER BY user_id), array_agg(segment ORDER BY user_id)) >= 0.9 AS ari_at_least_0_9
FROM (SELECT user_id, dense_rank() OVER (ORDER BY persona)::int FROM shop_users WHERE persona <> 'bot') p
JOIN persona.segment_members m USING (user_id) WHERE m.model = 'shop_segments';
-- Risk control: how well the anomaly score ranks bots above everyone else
-- (AUC: the chance that a random bot scores higher than a random user).
SELECT round(avg(CASE WHEN b.anomaly_score > o.anomaly_score THEN 1 WHEN b.anomaly_score = o.anomaly_score THEN 0.5 ELSE 0 END), 3) AS bot_detection_auc
FROM persona.segment_members b JOIN shop_users bu ON bu.user_id = b.user_id AND bu.persona = 'bot',
     persona.segment_members o JOIN shop_users ou ON ou.user_id = o.user_id AND ou.persona <> 'bot'
WHERE b.model = 'shop_segments' AND o.model = 'shop_segments';
-- Every segment explains itself: a label, categories by lift, words from its reviews.
SELECT count(*) AS segments, bool_and(label <> '' AND label NOT LIKE 'segment %') AS labelled,
       bool_and(cardinality(top_categories) > 0) AS with_categories,
       bool_and(cardinality(top_items) > 0) AS with_items,
       bool_and(cardinality(exemplar_users) = 5) AS with_exemplars
FROM persona.segments WHERE model = 'shop_segments';
-- The premium persona's segment: its categories and words.
SELECT (SELECT array_agg(c ORDER BY c) FROM unnest(s.top_categories[1:2]) c) AS categories, 'luxurious' = ANY (s.distinctive_words) AS says_luxurious,
       s.monetary_lift > 1 AS spends_more
FROM persona.segments s
WHERE s.model = 'shop_segments'
  AND s.segment = (SELECT m.segment FROM persona.segment_members m WHERE m.model = 'shop_segments' AND m.user_id = 1);
-- A new user who shops like premium user 1 arrives: refresh the profiles,
-- and the user is assigned to the current segments, in user 1's segment.
INSERT INTO shop_events SELECT 900, item_id, event_type, event_time + interval '60 days' FROM shop_events WHERE user_id = 1;
SET client_min_messages = warning;
SELECT profiles FROM persona.refresh_profiles('shop');
RESET client_min_messages;
SELECT m.segment = (SELECT segment FROM persona.segment_members WHERE model = 'shop_segments' AND user_id = 1) AS joins_premium_segment
FROM persona.segment_members m WHERE m.model = 'shop_segments' AND m.user_id = 900;
-- persona.segments reads stored figures; after the refresh they are those
-- an aggregate over the members and their profiles gives now.
WITH live AS (
    SELECT m.segment, count(*) AS size, avg(p.monetary) AS monetary, avg(p.events_30d) AS events_30d,
           avg(p.recency_days) AS recency_days
    FROM persona.segment_members m JOIN persona.profiles p ON p.name = 'shop' AND p.user_id = m.user_id
    WHERE m.model = 'shop_segments' GROUP BY 1)
SELECT bool_and(s.size = l.size) AS sizes_current,
       bool_and(abs(s.avg_monetary - l.monetary) < 1e-9) AS monetary_current,
       bool_and(abs(s.avg_events_30d - l.events_30d) < 1e-9) AS activity_current,
       bool_and(s.avg_recency_days IS NOT DISTINCT FROM l.recency_days OR abs(s.avg_recency_days - l.recency_days) < 1e-9) AS recency_current,
       abs(sum(s.share) - 1) < 0.01 AS shares_sum_to_one
FROM persona.segments s JOIN live l USING (segment) WHERE s.model = 'shop_segments';
-- The report: one HTML document, every section, one bar, legend entry and
-- heat-map row per segment shown, a point per sampled user, bots among the risks.
WITH r AS (SELECT persona.report('shop_segments', map_points => 400) AS html),
n AS (SELECT (SELECT count(*) FROM regexp_matches(html, '<section id="', 'g')) AS sections,
             (SELECT count(*) FROM regexp_matches(html, 'class="bar"', 'g')) AS bars,
             (SELECT count(*) FROM regexp_matches(html, 'class="legend-entry"', 'g')) AS legend,
             (SELECT count(*) FROM regexp_matches(html, 'class="heat-row"', 'g')) AS heat_rows,
             (SELECT count(*) FROM regexp_matches(html, '<circle', 'g')) AS points,
             (SELECT count(*) FROM regexp_matches(html, 'class="risk"', 'g')) AS risks,
             html FROM r)
SELECT sections, bars = (SELECT count(*) FROM persona.segments WHERE model = 'shop_segments') AS one_bar_per_segment,
       legend = bars AND heat_rows = bars AS legend_and_heat_map_match, points >= 400 AS sampled,
       risks = (SELECT least(20, count(*)) FROM persona.top_outliers WHERE model = 'shop_segments') AS top_20_risks_listed,
       html LIKE '<!DOCTYPE html>%' AS is_html, html !~ '<script|src=|https?://[^w]' AS self_contained
FROM n;
SELECT persona.report('no_such_model');
\echo :LAST_ERROR_SQLSTATE
SELECT persona.report('shop_segments', map_points => -1);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.report('shop_segments', top_risks => 10001);
\echo :LAST_ERROR_SQLSTATE
DELETE FROM persona.kmeans_models;
DELETE FROM persona.profile_definitions;
DELETE FROM persona.item_vectors;
DROP TABLE shop_items, shop_users, shop_events, shop_reviews;
