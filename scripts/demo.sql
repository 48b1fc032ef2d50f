-- The demo pipeline, step by step (run by scripts/demo.sh from the directory of the
-- generated shop, whose CSV files it loads). Variables: texts (how many distinct review
-- texts to embed), report (path of the HTML report), lang (en or zh: the language of the
-- reviews and of the report), embed_model (the embedding model for reviews and searches),
-- build_s / generate_s (seconds the shell steps took) and generate_note; shop_dir (this
-- directory) and risk_shop / risk_note: a second shop, generated with another seed and
-- another kind of bot ring, on which only the risk score is run.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset footer off
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS persona CASCADE;
CREATE EXTENSION persona;
SET client_min_messages = notice;
-- Every embedding of the demo, reviews and searches alike, with the model of its language.
SET persona.default_model = :'embed_model';
-- Risk reasons in the demo's language.
SELECT CASE WHEN :'lang' = 'zh' THEN 'reasons_zh' ELSE 'reasons' END AS reasons_col \gset
-- The segment words come from the reviews and the searches, in either language.
\set segment_texts '(SELECT user_id, body FROM shop.reviews UNION ALL SELECT user_id, query FROM shop.searches)'

CREATE TEMP TABLE demo_steps (n serial, step text, seconds float8, note text);
INSERT INTO demo_steps (step, seconds, note) VALUES
    ('build and install (release)', :build_s, NULL),
    ('generate the shop (persona-shop)', :generate_s, :'generate_note');

-- 1. Your data, as it is: a catalogue, users, 90 days of events, searches and reviews.
--    The planted personas go to a schema of their own that the pipeline never reads.
\echo '==> 1. load the shop: COPY shop.items, shop.users, shop.events, shop.searches, shop.reviews FROM the CSV files'
SELECT clock_timestamp() AS t0 \gset
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS shop CASCADE;
DROP SCHEMA IF EXISTS demo_truth CASCADE;
SET client_min_messages = notice;
CREATE SCHEMA shop;
CREATE SCHEMA demo_truth;
CREATE TABLE shop.items (item_id int PRIMARY KEY, title text, category text, class text, price numeric(10, 2));
CREATE TABLE shop.users (user_id bigint PRIMARY KEY, signup_at timestamptz, age int, region text, channel text);
CREATE TABLE shop.events (user_id bigint, item_id int, event_type text, price numeric(10, 2), order_id text, occurred_at timestamptz);
CREATE TABLE shop.searches (user_id bigint, query text, searched_at timestamptz);
CREATE TABLE shop.reviews (user_id bigint, item_id int, rating int, title text, body text, reviewed_at timestamptz);
CREATE TABLE demo_truth.personas (user_id bigint PRIMARY KEY, persona_id int, persona text);
\copy shop.items FROM 'items.csv' WITH (FORMAT csv, HEADER true)
\copy shop.users FROM 'users.csv' WITH (FORMAT csv, HEADER true)
\copy shop.events FROM 'events.csv' WITH (FORMAT csv, HEADER true)
\copy shop.searches FROM 'searches.csv' WITH (FORMAT csv, HEADER true)
\copy shop.reviews FROM 'reviews.csv' WITH (FORMAT csv, HEADER true)
\copy demo_truth.personas FROM 'personas.csv' WITH (FORMAT csv, HEADER true)
CREATE INDEX ON shop.events (user_id, occurred_at);
ANALYZE shop.items, shop.users, shop.events, shop.searches, shop.reviews;
INSERT INTO demo_steps (step, seconds, note)
SELECT 'load the shop (COPY)', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz),
       format('%s items, %s users, %s events, %s searches, %s reviews',
              (SELECT count(*) FROM shop.items), (SELECT count(*) FROM shop.users), (SELECT count(*) FROM shop.events),
              (SELECT count(*) FROM shop.searches), (SELECT count(*) FROM shop.reviews));
SELECT note FROM demo_steps WHERE step = 'load the shop (COPY)' \gset
\echo '    ' :note

-- 2. Embed the text inside the database. Searches repeat a few hundred queries: each
--    distinct query is embedded once and joined back. Review texts are the slow part
--    (about 33 a second on 2 cores), so the demo embeds a fixed, seeded sample of them.
SELECT format('==> 2. embed the searches: CALL persona.embed_column(''shop.search_queries'', ''query'', ''embedding'', model => %L)', :'embed_model') AS line \gset
\echo :line
SELECT clock_timestamp() AS t0 \gset
CREATE TABLE shop.search_queries AS SELECT DISTINCT query, NULL::real[] AS embedding FROM shop.searches;
ALTER TABLE shop.search_queries ADD PRIMARY KEY (query);
CALL persona.embed_column('shop.search_queries', 'query', 'embedding', model => :'embed_model', batch_size => 1000);
INSERT INTO demo_steps (step, seconds, note)
SELECT 'embed distinct search queries (' || :'embed_model' || ')', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz),
       format('%s distinct queries of %s searches', (SELECT count(*) FROM shop.search_queries), (SELECT count(*) FROM shop.searches));

SELECT format('==> 3. embed the reviews: CALL persona.embed_column(''shop.review_texts'', ''body'', ''embedding'', model => %L) on %s distinct texts', :'embed_model', :texts) AS line \gset
\echo :line
SELECT clock_timestamp() AS t0 \gset
CREATE TABLE shop.review_texts AS
SELECT body, NULL::real[] AS embedding
FROM (SELECT DISTINCT body FROM shop.reviews) d
ORDER BY md5(body) LIMIT :texts;
ALTER TABLE shop.review_texts ADD PRIMARY KEY (body);
CALL persona.embed_column('shop.review_texts', 'body', 'embedding', model => :'embed_model', batch_size => 1000);
INSERT INTO demo_steps (step, seconds, note)
SELECT 'embed review texts (' || :'embed_model' || ')', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz),
       format('%s of %s distinct texts (PERSONA_DEMO_TEXTS), %s of %s reviews covered',
              (SELECT count(*) FROM shop.review_texts), (SELECT count(DISTINCT body) FROM shop.reviews),
              (SELECT count(*) FROM shop.reviews r JOIN shop.review_texts t USING (body)), (SELECT count(*) FROM shop.reviews));
CREATE VIEW shop.texts AS
SELECT r.user_id, t.embedding, r.reviewed_at AS created_at FROM shop.reviews r JOIN shop.review_texts t USING (body)
UNION ALL
SELECT s.user_id, q.embedding, s.searched_at FROM shop.searches s JOIN shop.search_queries q USING (query);

-- 3. Item vectors from behaviour: items touched one after another by the same users.
\echo '==> 4. item2vec: SELECT * FROM persona.train_item2vec(''shop'', ''shop.events'', time_col => ''occurred_at'', epochs => 5)'
SELECT clock_timestamp() AS t0 \gset
SET client_min_messages = warning;
SELECT items, sequences, trained_items FROM persona.train_item2vec('shop', 'shop.events', time_col => 'occurred_at', dim => 64, epochs => 5, seed => 1) \gset i2v_
SET client_min_messages = notice;
INSERT INTO demo_steps (step, seconds, note)
SELECT 'train item2vec', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz),
       format('%s items, %s user sequences, 64 dimensions, 5 epochs', :i2v_items, :i2v_sequences);

-- 4. One profile per user: traits for people, a vector for machines.
\echo '==> 5. profiles: SELECT * FROM persona.build_profiles(''shop'', events => ''shop.events'', items => ''shop.items'', texts => ''shop.texts'', ...)'
SELECT clock_timestamp() AS t0 \gset
SELECT profiles FROM persona.build_profiles('shop',
    events         => 'shop.events',
    time_col       => 'occurred_at',
    price_col      => 'price',
    order_col      => 'order_id',
    items          => 'shop.items',
    texts          => 'shop.texts',
    users          => 'shop.users',
    item2vec_model => 'shop') \gset
INSERT INTO demo_steps (step, seconds, note)
SELECT 'build profiles', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), :profiles || ' profiles';

-- 5. Segments with automatic k (silhouette over k = 2..10), labels, risk scores.
SELECT format('==> 6. segments: SELECT * FROM persona.kmeans_train(''shop_segments'', profiles => ''shop'', texts => %L)', :'segment_texts') AS line \gset
\echo :line
SELECT clock_timestamp() AS t0 \gset
SET client_min_messages = warning;
SELECT k, round(silhouette::numeric, 3) AS silhouette FROM persona.kmeans_train('shop_segments', profiles => 'shop',
    texts => :'segment_texts') \gset km_
SET client_min_messages = notice;
INSERT INTO demo_steps (step, seconds, note)
SELECT 'train K-Means (automatic k), assign, score', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz),
       format('k = %s chosen by silhouette (%s)', :km_k, :km_silhouette);

-- 5b. Risk: signals of abuse against the shop's own users, rings of near-identical accounts.
\echo '==> 6b. risk: SELECT * FROM persona.score_risks(''shop'', signup_col => ''signup_at'')'
SELECT clock_timestamp() AS t0 \gset
SET client_min_messages = warning;
SELECT risky AS risk_risky, rings AS risk_rings FROM persona.score_risks('shop', signup_col => 'signup_at') \gset
SET client_min_messages = notice;
INSERT INTO demo_steps (step, seconds, note)
SELECT 'score risks, find rings', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz),
       format('%s users with a risk reason, %s ring(s) of near-identical accounts', :risk_risky, :risk_rings);

-- The second shop: its events and users only, its own profiles and risk scores.
SELECT format('==> 6c. a second shop (%s): load, build_profiles, score_risks', :'risk_note') AS line \gset
\echo :line
SELECT clock_timestamp() AS t0 \gset
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS shop2 CASCADE;
SET client_min_messages = notice;
CREATE SCHEMA shop2;
CREATE TABLE shop2.users (LIKE shop.users);
CREATE TABLE shop2.events (LIKE shop.events);
CREATE TABLE demo_truth.personas2 (LIKE demo_truth.personas);
\cd :risk_shop
\copy shop2.users FROM 'users.csv' WITH (FORMAT csv, HEADER true)
\copy shop2.events FROM 'events.csv' WITH (FORMAT csv, HEADER true)
\copy demo_truth.personas2 FROM 'personas.csv' WITH (FORMAT csv, HEADER true)
\cd :shop_dir
ANALYZE shop2.users, shop2.events;
SET client_min_messages = warning;
SELECT profiles AS shop2_profiles FROM persona.build_profiles('shop2', events => 'shop2.events', time_col => 'occurred_at',
    price_col => 'price', order_col => 'order_id', users => 'shop2.users') \gset
SELECT risky AS shop2_risky FROM persona.score_risks('shop2', signup_col => 'signup_at') \gset
SET client_min_messages = notice;
INSERT INTO demo_steps (step, seconds, note)
SELECT 'second shop: load, profiles, risks', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz),
       format('%s profiles, %s with a risk reason', :shop2_profiles, :shop2_risky);

-- 6. Recommendations, when this build has them.
SELECT count(DISTINCT proname) = 3 AS has_recommend FROM pg_proc
WHERE pronamespace = 'persona'::regnamespace AND proname IN ('train_recommender', 'recommend_all', 'evaluate_recommendations') \gset
\if :has_recommend
\echo '==> 7. recommendations: persona.train_recommender(''shop'', ...); persona.recommend_all(10, ''shop''); persona.evaluate_recommendations(''shop'', 10)'
SELECT clock_timestamp() AS t0 \gset
SET client_min_messages = warning;
SELECT users AS rec_users, items AS rec_items FROM persona.train_recommender('shop',
    events       => 'shop.events',
    time_col     => 'occurred_at',
    items        => 'shop.items',
    category_col => 'category',
    users        => 'shop.users',
    profiles     => 'shop',
    segments     => 'shop_segments') \gset
SELECT recommendations AS rec_lists FROM persona.recommend_all(10, 'shop') \gset
INSERT INTO demo_steps (step, seconds, note)
SELECT 'train recommender, recommend_all (top 10)', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz),
       format('%s recommendations for %s users', :rec_lists, :rec_users);
SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE demo_eval AS SELECT * FROM persona.evaluate_recommendations('shop', 10);
SET client_min_messages = notice;
INSERT INTO demo_steps (step, seconds, note)
SELECT 'evaluate recommendations (leave last out)', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz),
       format('%s users with a held-out item', (SELECT max(users) FROM demo_eval));
\else
\echo '==> 7. recommendations: skipped (this build has no persona.recommend_all yet)'
\endif

-- 7. The report, when this build has it.
SELECT count(*) > 0 AS has_report FROM pg_proc WHERE pronamespace = 'persona'::regnamespace AND proname = 'report' \gset
\if :has_report
SELECT format('==> 8. report: SELECT persona.report(''shop_segments'', lang => %L) to %s', :'lang', :'report') AS line \gset
\echo :line
SELECT clock_timestamp() AS t0 \gset
\pset format unaligned
\pset tuples_only on
\o :report
SELECT persona.report('shop_segments', lang => :'lang');
\o
\pset format aligned
\pset tuples_only off
INSERT INTO demo_steps (step, seconds, note)
SELECT 'write the HTML report', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), :'report';
\else
\echo '==> 8. report: skipped (this build has no persona.report yet)'
\endif

-- The summary.
\echo
\echo 'Segments found (persona.segments; lift = segment average / everyone''s average; planted = the persona most members have, which the pipeline never saw):'
SELECT s.segment AS seg, s.label, s.size, round(100 * s.share::numeric, 1) AS "share%",
       round(s.avg_frequency::numeric, 1) AS orders, round(s.frequency_lift::numeric, 2) AS "orders lift",
       round(s.monetary_lift::numeric, 2) AS "spend lift", round(s.activity_lift::numeric, 2) AS "activity lift",
       array_to_string(s.top_categories[1:2], ', ') AS categories,
       array_to_string(s.distinctive_words[1:3], ', ') AS words,
       p.persona || ' ' || round(100 * p.n::numeric / s.size) || '%' AS planted
FROM persona.segments s
LEFT JOIN LATERAL (
    SELECT t.persona, count(*) AS n FROM persona.segment_members m JOIN demo_truth.personas t USING (user_id)
    WHERE m.model = s.model AND m.segment = s.segment GROUP BY 1 ORDER BY 2 DESC LIMIT 1) p ON true
WHERE s.model = 'shop_segments' ORDER BY s.size DESC;

-- How the planted bots rank by risk score (users never scored count as 0; ties are broken
-- against the bots, so precision is never flattered).
CREATE FUNCTION pg_temp.bot_ranking(p text, truth regclass) RETURNS TABLE (bots bigint, auc numeric, precision_at_bots numeric)
LANGUAGE plpgsql AS $f$
BEGIN
    RETURN QUERY EXECUTE format($q$
        WITH s AS (SELECT t.user_id, t.persona = 'bot' AS bot, coalesce(r.score, 0) AS score
                   FROM %s t LEFT JOIN persona.risk_scores r ON r.name = %L AND r.user_id = t.user_id),
             n AS (SELECT count(*) FILTER (WHERE bot) AS nb, count(*) FILTER (WHERE NOT bot) AS nh FROM s),
             r AS (SELECT bot, rank() OVER (ORDER BY score) + (count(*) OVER (PARTITION BY score) - 1) / 2.0 AS avg_rank,
                          row_number() OVER (ORDER BY score DESC, bot, user_id) AS pos FROM s)
        SELECT n.nb, round(((SELECT sum(avg_rank) FROM r WHERE bot) - n.nb * (n.nb + 1) / 2.0) / nullif(n.nb * n.nh, 0), 4),
               round((SELECT count(*) FROM r WHERE bot AND pos <= n.nb)::numeric / nullif(n.nb, 0), 4)
        FROM n$q$, truth, p);
END
$f$;
SELECT bots, auc, precision_at_bots FROM pg_temp.bot_ranking('shop', 'demo_truth.personas') \gset risk1_
SELECT bots, auc, precision_at_bots FROM pg_temp.bot_ranking('shop2', 'demo_truth.personas2') \gset risk2_
WITH m AS (SELECT m.user_id, m.segment, t.persona_id
           FROM persona.segment_members m JOIN demo_truth.personas t USING (user_id) WHERE m.model = 'shop_segments')
SELECT format('Against the planted personas (6, never read by the pipeline): adjusted Rand index %s, normalised mutual information %s',
              round(persona.adjusted_rand_index(array_agg(persona_id ORDER BY user_id), array_agg(segment ORDER BY user_id))::numeric, 3),
              round(persona.normalized_mutual_info(array_agg(persona_id ORDER BY user_id), array_agg(segment ORDER BY user_id))::numeric, 3))
           AS agreement,
       format('Bots by risk score (persona.risks): AUC %s, precision at the %s planted bots %s; on the second shop (%s): AUC %s, precision at its %s bots %s',
              :risk1_auc, :risk1_bots, :risk1_precision_at_bots, :'risk_note', :risk2_auc, :risk2_bots, :risk2_precision_at_bots)
           AS bots
FROM m \gset
\echo
\echo :agreement
\echo :bots

\if :has_recommend
\echo
\echo 'Recommendations, leave-last-out (persona.evaluate_recommendations, k = 10):'
SELECT method, users, round(hit_rate::numeric, 4) AS "HR@10", round(ndcg::numeric, 4) AS "NDCG@10",
       round(coverage::numeric, 3) AS coverage FROM demo_eval ORDER BY hit_rate DESC;
\endif

\echo 'Top risky users (persona.risks, with the reasons; planted persona shown for checking):'
SELECT r.rank, r.user_id, round(r.score::numeric, 2) AS score, t.persona AS planted, r.:reasons_col AS reasons
FROM persona.risks r JOIN demo_truth.personas t USING (user_id)
WHERE r.profiles = 'shop' ORDER BY r.rank, r.user_id LIMIT 5;
\echo 'The lowest-ranked planted bot, and the highest-ranked ordinary customer:'
(SELECT r.rank, r.user_id, round(r.score::numeric, 2) AS score, t.persona AS planted, r.:reasons_col AS reasons
 FROM persona.risks r JOIN demo_truth.personas t USING (user_id)
 WHERE r.profiles = 'shop' AND t.persona = 'bot' ORDER BY r.rank DESC, r.user_id LIMIT 1)
UNION ALL
(SELECT r.rank, r.user_id, round(r.score::numeric, 2), t.persona, r.:reasons_col
 FROM persona.risks r JOIN demo_truth.personas t USING (user_id)
 WHERE r.profiles = 'shop' AND t.persona <> 'bot' ORDER BY r.rank, r.user_id LIMIT 1);

\echo 'Time per step:'
SELECT step, round(seconds::numeric, 1) AS seconds, note FROM demo_steps ORDER BY n;
SELECT round(sum(seconds)::numeric, 1) AS total FROM demo_steps \gset
\echo 'Total:' :total 's'
