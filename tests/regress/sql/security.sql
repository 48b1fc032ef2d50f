-- Security and privileges: what a role stores runs with that role's rights
-- only; models belong to their owners; the k-anonymity floor is the
-- superuser's; a user can be erased; only UTF8 databases.
\set SHOW_CONTEXT never
-- Roles are cluster-wide: named after this database, so that runs in other
-- databases of the cluster never meet them.
SELECT current_database() AS regress_db, current_database() || '_mallory' AS mallory,
       current_database() || '_alice' AS alice, current_database() || '_bob' AS bob \gset
SET client_min_messages = warning;
DROP ROLE IF EXISTS :"mallory", :"alice", :"bob";
RESET client_min_messages;
CREATE ROLE :"mallory";
CREATE ROLE :"alice";
CREATE ROLE :"bob";
-- What the README tells a DBA to grant the roles that train.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA persona TO :"mallory", :"alice", :"bob";
CREATE SCHEMA mal AUTHORIZATION :"mallory";
CREATE SCHEMA alice AUTHORIZATION :"alice";
CREATE SCHEMA bob AUTHORIZATION :"bob";
\i tests/regress/sql/security_try.psql

-- 1. The exploit: mallory stores sources that call a function which makes
-- mallory a superuser whenever it runs as one (armed once the models exist).
SET ROLE :"mallory";
CREATE TABLE mal.armed (on_ boolean);
CREATE TABLE mal.events (user_id bigint, item_id bigint, event_type text, event_time timestamptz);
INSERT INTO mal.events SELECT u, 1 + (u + e) % 5, 'purchase', timestamptz '2026-01-01' + make_interval(days => u + e)
FROM generate_series(1, 5) u, generate_series(1, 4) e;
CREATE FUNCTION mal.f() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('ALTER ROLE %I SUPERUSER', (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'mal'));
    END IF;
    RETURN true;
END
$$;
-- The same, escaping the owner's identity first: RESET ROLE back to the
-- session's superuser.
CREATE FUNCTION mal.g() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM mal.armed) THEN
        RESET ROLE;
        EXECUTE format('ALTER ROLE %I SUPERUSER', (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'mal'));
    END IF;
    RETURN true;
END
$$;
-- Or leaving a temporary table behind, to shadow the caller's own tables.
CREATE FUNCTION mal.h() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM mal.armed) THEN
        CREATE TEMP TABLE IF NOT EXISTS trap (x int);
    END IF;
    RETURN true;
END
$$;
SET client_min_messages = warning;
SELECT profiles FROM persona.build_profiles('mal', '(SELECT e.* FROM mal.events e WHERE mal.f())');
SELECT profiles FROM persona.build_profiles('mal_g', '(SELECT e.* FROM mal.events e WHERE mal.g())');
SELECT profiles FROM persona.build_profiles('mal_h', '(SELECT e.* FROM mal.events e WHERE mal.h())');
SELECT users FROM persona.train_recommender('mal', '(SELECT e.* FROM mal.events e WHERE mal.f())');
SELECT k FROM persona.kmeans_train('mal', source => '(SELECT DISTINCT ON (user_id) user_id, ARRAY[user_id, item_id]::real[] AS v FROM mal.events e WHERE mal.f())',
                                   vector_col => 'v', k => 2, n_init => 1);
RESET client_min_messages;
INSERT INTO mal.armed VALUES (true);
RESET ROLE;
INSERT INTO mal.events VALUES (6, 1, 'purchase', '2026-03-01');
-- The README's pg_cron job runs refresh_profiles as the superuser, and
-- anyone may call recommend() or the report.
SET client_min_messages = warning;
SELECT profiles FROM persona.refresh_profiles('mal');
RESET client_min_messages;
SELECT count(*) AS recommended FROM persona.recommend(1, 3, 'mal');
SET client_min_messages = warning;
SELECT users FROM persona.recommend_all(3, 'mal');
SELECT method FROM persona.evaluate_recommendations('mal', 3);
RESET client_min_messages;
SELECT length(persona.report('mal')) > 0 AS report_made;
SELECT pg_temp.try($$SELECT persona.refresh_profiles('mal_g')$$) AS refresh_that_resets_role;
SELECT pg_temp.try($$SELECT persona.refresh_profiles('mal_h')$$) AS refresh_that_makes_a_temp_table;
SELECT to_regclass('pg_temp.trap') AS trap;
SELECT rolsuper AS mallory_is_superuser FROM pg_roles WHERE rolname = :'mallory';

-- 2. Ownership: alice's models are hers; bob neither replaces, retrains,
-- drops nor reads them until she shares them, and then only reads.
SET ROLE :"alice";
SET search_path = alice, public;
SET client_min_messages = warning;
\i tests/fixtures/planted_shop.sql
-- A user to erase later, with the shape of user 1.
INSERT INTO shop_events SELECT 987654, item_id, event_type, event_time FROM shop_events WHERE user_id = 1;
INSERT INTO shop_users VALUES (987654, 'bargain');
-- And one who leaves the shop.
INSERT INTO shop_events SELECT 987655, item_id, event_type, event_time FROM shop_events WHERE user_id = 2;
SELECT items FROM persona.train_item2vec('alice_i', 'shop_events', time_col => 'event_time', dim => 16);
SELECT profiles FROM persona.build_profiles('alice_p', 'shop_events', items => 'shop_items', item2vec_model => 'alice_i');
SELECT k FROM persona.kmeans_train('alice_k', profiles => 'alice_p', k => 5, n_init => 1);
SELECT k FROM persona.kmeans_train('alice_k', profiles => 'alice_p', k => 5, n_init => 1, seed => 2);
SELECT users FROM persona.train_recommender('alice_r', 'shop_events', segments => 'alice_k');
SELECT users FROM persona.recommend_all(5, 'alice_r');
RESET client_min_messages;
SELECT kind, name, owner = :'alice'::regrole AS owned_by_alice FROM persona.model_owners WHERE name LIKE 'alice%' ORDER BY 1, 2;
RESET ROLE;

SET ROLE :"bob";
SET search_path = bob, public;
CREATE TABLE bob.events AS SELECT 1::bigint AS user_id, 1::bigint AS item_id, 'view'::text AS event_type, now() AS event_time;
SELECT pg_temp.try($$SELECT persona.build_profiles('alice_p', 'bob.events')$$) AS replace_profiles;
SELECT pg_temp.try($$SELECT persona.refresh_profiles('alice_p')$$) AS refresh_profiles;
SELECT pg_temp.try($$SELECT persona.kmeans_train('alice_k', source => '(SELECT 1::bigint AS user_id, ARRAY[1, 2]::real[] AS v)', vector_col => 'v', k => 1)$$) AS retrain_kmeans;
SELECT pg_temp.try($$SELECT persona.train_recommender('alice_r', 'bob.events')$$) AS replace_recommender;
SELECT pg_temp.try($$SELECT persona.train_item2vec('alice_i', 'bob.events', time_col => 'event_time')$$) AS replace_item2vec;
SELECT pg_temp.try($$SELECT persona.drop_model('kmeans', 'alice_k')$$) AS drop_kmeans;
SELECT pg_temp.try(format($$SELECT persona.grant_model('kmeans', 'alice_k', %L)$$, :'bob')) AS grant_to_self;
SELECT pg_temp.try($$SELECT * FROM persona.recommend(1, 5, 'alice_r')$$) AS recommend;
SELECT pg_temp.try($$SELECT persona.report('alice_k')$$) AS report;
SELECT pg_temp.try($$SELECT * FROM persona.similar_items(1, 5, 'alice_r')$$) AS similar_items;
SELECT pg_temp.try($$SELECT persona.kmeans_train('bob_k', profiles => 'alice_p', k => 2)$$) AS train_on_her_profiles;
-- Straight at the tables: nothing of hers is visible, and nothing can be
-- changed or added in her name.
SELECT (SELECT count(*) FROM persona.profiles WHERE name = 'alice_p') AS profiles,
       (SELECT count(*) FROM persona.segment_assignments WHERE name = 'alice_k') AS assignments,
       (SELECT count(*) FROM persona.segments WHERE model = 'alice_k') AS segments,
       (SELECT count(*) FROM persona.recommendations WHERE model = 'alice_r') AS recommendations,
       (SELECT count(*) FROM persona.item_vectors WHERE model = 'alice_i') AS item_vectors;
WITH d AS (DELETE FROM persona.kmeans_models WHERE name = 'alice_k' RETURNING 1) SELECT count(*) AS deleted FROM d;
WITH u AS (UPDATE persona.model_owners SET owner = :'bob' WHERE name = 'alice_k' RETURNING 1) SELECT count(*) AS taken_over FROM u;
SELECT pg_temp.try($$INSERT INTO persona.item_vectors VALUES ('alice_i', 999, '{1}')$$) AS insert_in_her_name;
RESET ROLE;

SET ROLE :"alice";
SELECT persona.grant_model('kmeans', 'alice_k', :'bob');
SELECT persona.grant_model('recommender', 'alice_r', :'bob');
RESET ROLE;
SET ROLE :"bob";
-- Shared: bob reads her segments and lists, still writes nothing of hers.
SELECT (SELECT count(*) > 0 FROM persona.segments WHERE model = 'alice_k') AS sees_segments,
       (SELECT count(*) > 0 FROM persona.segment_members WHERE model = 'alice_k') AS sees_members,
       (SELECT count(*) > 0 FROM persona.recommendations WHERE model = 'alice_r') AS sees_lists,
       (SELECT count(*) FROM persona.similar_items(1, 3, 'alice_r')) AS similar_items,
       (SELECT count(*) FROM persona.profiles WHERE name = 'alice_p') AS profiles_not_shared;
WITH d AS (DELETE FROM persona.segment_assignments WHERE name = 'alice_k' RETURNING 1) SELECT count(*) AS deleted FROM d;
SELECT pg_temp.try($$SELECT persona.kmeans_train('alice_k', profiles => 'alice_p', k => 2)$$) AS retrain_shared;

-- 3. The k-anonymity floor is the superuser's: readers cannot lower it.
SELECT pg_temp.try($$SET persona.k_anonymity_floor = 1$$) AS lower_floor;
SELECT min(size) >= 10 AS floor_holds FROM persona.segments WHERE model = 'alice_k';
RESET ROLE;
-- In a new session, before the library is loaded, SET only makes a
-- placeholder; the library drops it when it defines the setting.
\c
\set SHOW_CONTEXT never
\i tests/regress/sql/security_try.psql
SET ROLE :"bob";
SET persona.k_anonymity_floor = 1;
SELECT min(size) >= 10 AS floor_holds FROM persona.segments WHERE model = 'alice_k';
SHOW persona.k_anonymity_floor;
RESET ROLE;
-- The owner may raise the floor of her model at training.
SET ROLE :"alice";
SET search_path = alice, public;
SET client_min_messages = warning;
SELECT version FROM persona.kmeans_train('alice_k', profiles => 'alice_p', k => 5, n_init => 1, k_anonymity_floor => 1000);
RESET client_min_messages;
SELECT count(*) AS visible_segments FROM persona.segments WHERE model = 'alice_k';
SELECT pg_temp.try($$SELECT persona.kmeans_train('alice_k', profiles => 'alice_p', k => 5, k_anonymity_floor => 0)$$) AS floor_zero;

-- 4. Erasure. A user who left the shop's tables leaves the profiles and
-- segments at the next refresh.
SELECT count(*) AS before FROM persona.profiles WHERE user_id = 987655;
DELETE FROM shop_events WHERE user_id = 987655;
SET client_min_messages = warning;
SELECT profiles FROM persona.refresh_profiles('alice_p');
RESET client_min_messages;
SELECT (SELECT count(*) FROM persona.profiles WHERE user_id = 987655) AS profiles,
       (SELECT count(*) FROM persona.segment_assignments WHERE user_id = 987655) AS assignments;
RESET ROLE;
-- forget_user() removes one user from everything persona stores, every
-- model and version; afterwards no row of any persona table mentions them.
SELECT stored_in, removed > 0 AS removed FROM persona.forget_user(987654) ORDER BY 1;
DO $$
DECLARE
    t regclass;
    n bigint;
    total bigint := 0;
BEGIN
    FOR t IN SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'persona'::regnamespace AND c.relkind = 'r' ORDER BY c.relname LOOP
        EXECUTE format('SELECT count(*) FROM %s x WHERE x::text ~ ''\m987654\M''', t) INTO n;
        IF n > 0 THEN
            RAISE NOTICE '% still holds user 987654 in % rows', t, n;
        END IF;
        total := total + n;
    END LOOP;
    RAISE NOTICE 'rows mentioning user 987654 after forget_user: %', total;
END
$$;
-- Dropping a model takes everything of it, and only its owner may.
SET ROLE :"alice";
SELECT persona.drop_model('kmeans', 'alice_k');
SELECT (SELECT count(*) FROM persona.kmeans_models WHERE name = 'alice_k') AS versions,
       (SELECT count(*) FROM persona.model_owners WHERE name = 'alice_k') AS owner_rows;
RESET ROLE;
RESET search_path;

-- 5. Only UTF8 databases: elsewhere CREATE EXTENSION says so.
CREATE DATABASE regress_persona_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
CREATE DATABASE regress_persona_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c regress_persona_latin1
\set SHOW_CONTEXT never
CREATE EXTENSION persona;
\c regress_persona_ascii
\set SHOW_CONTEXT never
CREATE EXTENSION persona;
\c :regress_db
DROP DATABASE regress_persona_latin1;
DROP DATABASE regress_persona_ascii;

SET client_min_messages = warning;
SELECT count(persona.drop_model(kind, name)) AS dropped FROM persona.model_owners
WHERE name IN ('mal', 'mal_g', 'mal_h', 'alice_p', 'alice_r', 'alice_i');
DROP SCHEMA mal, alice, bob CASCADE;
DROP OWNED BY :"mallory", :"alice", :"bob";
DROP ROLE :"mallory", :"alice", :"bob";
