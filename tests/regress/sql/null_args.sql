-- NULL in each argument that has no meaning as NULL: 22004 naming the
-- argument (the functions with defaulted arguments), or NULL / no rows (the
-- STRICT functions). Before the fix these were XX000 "argument N must not be
-- null". The checks come before any model is looked up, so no model is needed.
\set SHOW_CONTEXT never
-- kmeans_train: NULL source, k, profiles and texts mean "not given".
SELECT * FROM persona.kmeans_train(NULL, profiles => 'p');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('m', profiles => 'p', vector_col => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('m', profiles => 'p', key_col => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('m', profiles => 'p', k_min => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('m', profiles => 'p', k_max => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('m', profiles => 'p', metric => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('m', profiles => 'p', n_init => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('m', profiles => 'p', max_iter => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('m', profiles => 'p', tol => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('m', profiles => 'p', seed => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('m', profiles => 'p', sample_size => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('m', profiles => 'p', init => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.kmeans_train('m', source => NULL, k => NULL, profiles => 'no_such_profiles', texts => NULL);
\echo :LAST_ERROR_SQLSTATE
-- train_recommender: NULL sources mean "not given".
SELECT * FROM persona.train_recommender(NULL, 'events');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('m', 'events', user_col => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('m', 'events', item_col => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('m', 'events', time_col => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('m', 'events', method => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('m', 'events', item_key_col => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('m', 'events', users_key_col => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('m', 'events', options => NULL);
\echo :LAST_ERROR_SQLSTATE
-- jsonb options serde_json cannot hold (nesting over 128 levels, a number
-- beyond float8): 22023 naming the argument, not XX000 from serde.
SELECT * FROM persona.train_recommender('m', 'events', options => (repeat('{"a":', 200) || '1' || repeat('}', 200))::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('m', 'events', options => (repeat('[', 5000) || repeat(']', 5000))::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('m', 'events', options => '{"lambda": 1e400}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_recommender('m', 'events', options => '{"lambda": [[[[1]]]]}');
\echo :LAST_ERROR_SQLSTATE
-- Serving: user, item and k are needed; a NULL model is the only model.
SELECT * FROM persona.recommend(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.recommend(1, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.recommend(1, 10, 'm', exclude_seen => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.recommend_all(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.recommend_all(10, 'm', exclude_seen => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.recommend_all(10, 'm', batch_size => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.similar_items(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.similar_items(1, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.evaluate_recommendations('m', NULL);
\echo :LAST_ERROR_SQLSTATE
-- report
SELECT persona.report(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.report('m', map_points => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.report('m', top_risks => NULL);
\echo :LAST_ERROR_SQLSTATE
-- profile_vector: a NULL vector is a missing part (both missing: NULL);
-- the weight and the dimensions are needed.
SELECT persona.profile_vector('{3,4}', NULL, 0.5, 2, 1) AS behaviour_only, persona.profile_vector(NULL, NULL, 0.5, 2, 1) IS NULL AS both_missing;
SELECT persona.profile_vector('{3,4}', '{1}', NULL, 2, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.profile_vector('{3,4}', '{1}', 0.5, NULL, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT persona.profile_vector('{3,4}', '{1}', 0.5, 2, NULL);
\echo :LAST_ERROR_SQLSTATE
-- train_item2vec
SELECT * FROM persona.train_item2vec(NULL, 'events');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('m', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('m', 'events', user_col => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('m', 'events', item_col => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('m', 'events', time_col => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('m', 'events', dim => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('m', 'events', window_size => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('m', 'events', negatives => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('m', 'events', epochs => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('m', 'events', min_count => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('m', 'events', ns_exponent => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('m', 'events', sample => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('m', 'events', alpha => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.train_item2vec('m', 'events', seed => NULL);
\echo :LAST_ERROR_SQLSTATE
-- register_model
SELECT * FROM persona.register_model(NULL, '/tmp');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.register_model('m', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.register_model('m', '/tmp', replace => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.register_model('m', '/tmp', weights => NULL);
\echo :LAST_ERROR_SQLSTATE
-- STRICT functions: NULL in, NULL out (or no rows).
SELECT persona.cosine_similarity(NULL, '{1}') IS NULL AS a, persona.inner_product('{1}', NULL) IS NULL AS b,
       persona.l2_distance(NULL, NULL) IS NULL AS c, persona.normalize(NULL) IS NULL AS d,
       persona.clean_text(NULL) IS NULL AS e, persona.embed(NULL) IS NULL AS f,
       persona.adjusted_rand_index(NULL, '{1}') IS NULL AS g, persona.normalized_mutual_info('{1}', NULL) IS NULL AS h,
       persona.kmeans_assign(NULL, '{1}') IS NULL AS i, persona.anomaly_score('m', NULL) IS NULL AS j,
       persona.bgnbd_probability_alive(NULL, 1, 1, 1) IS NULL AS k,
       persona.bgnbd_expected_purchases(ROW(0.2, 4, 0.8, 2.4, 0, 1)::persona.bgnbd_model, 1, 1, 1, NULL) IS NULL AS l,
       persona.gamma_gamma_expected_spend(ROW(6, 4, 15, 0, 1)::persona.gamma_gamma_model, NULL, 1) IS NULL AS m;
SELECT count(*) AS no_rows FROM persona.kmeans_nearest('m', NULL);
SELECT count(*) AS no_rows FROM persona.embed_batch(NULL);
-- Helpers the PL/pgSQL code calls (callable by anyone in schema persona).
SELECT persona._source('shop_events', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT persona._claim_model(NULL, 'm');
\echo :LAST_ERROR_SQLSTATE
SELECT persona._use_model(NULL, 'm', 'read it');
\echo :LAST_ERROR_SQLSTATE
SELECT persona._use_model('kmeans', 'm', NULL);
\echo :LAST_ERROR_SQLSTATE
-- jsonb a query returns is passed on as it is, never parsed by serde (was
-- XX000 for nesting over 128 levels or a number beyond float8).
SELECT length(persona._as_owner(10, $$SELECT (repeat('[', 200) || repeat(']', 200))::jsonb$$)::text) AS deep;
SELECT persona._as_owner(10, $$SELECT '{"a": 1e400}'::jsonb$$)->>'a' = '1' || repeat('0', 400) AS exact;
