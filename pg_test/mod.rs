// `#[pg_test]`s: run inside a real Postgres 15 backend by `cargo pgrx test`,
// against the installed default model. Included by src/lib.rs into `mod tests`.

use pgrx::prelude::*;

const MIN_COSINE: f64 = 0.99999;

/// sentence-transformers (PyTorch) reference vectors; see tests/fixtures/make_minilm_reference.py.
const REFERENCE: &str = include_str!("../tests/fixtures/minilm_reference.json");

fn reference() -> (Vec<String>, Vec<Vec<f32>>) {
    let doc: serde_json::Value = serde_json::from_str(REFERENCE).expect("fixture is JSON");
    let texts = doc["texts"].as_array().expect("texts").iter().map(|t| t.as_str().expect("text").to_owned()).collect();
    let vectors = doc["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .map(|v| v.as_array().expect("vector").iter().map(|x| x.as_f64().expect("number") as f32).collect())
        .collect();
    (texts, vectors)
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    persona_linalg::cosine_similarity(a, b).expect("same dimension")
}

#[pg_test]
fn embed_matches_pytorch_reference_per_row() {
    let (texts, vectors) = reference();
    assert!(texts.len() >= 50, "fixture has {} texts", texts.len());
    for (text, want) in texts.iter().zip(&vectors) {
        let got = Spi::get_one_with_args::<Vec<f32>>("SELECT persona.embed($1)", &[text.as_str().into()])
            .expect("spi")
            .expect("not null");
        let c = cosine(&got, want);
        assert!(c >= MIN_COSINE, "{text:.40?}: cosine {c}");
    }
}

#[pg_test]
fn embed_batch_matches_pytorch_reference_in_input_order() {
    let (texts, vectors) = reference();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for batch_size in ["1", "7", "64"] {
        Spi::run(&format!("SET persona.batch_size = {batch_size}")).expect("set");
        let rows: Vec<(i32, Vec<f32>)> = Spi::connect(|c| {
            c.select("SELECT ord, embedding FROM persona.embed_batch($1) ORDER BY ord", None, &[refs.clone().into()])
                .expect("select")
                .map(|row| (row.get::<i32>(1).unwrap().unwrap(), row.get::<Vec<f32>>(2).unwrap().unwrap()))
                .collect()
        });
        assert_eq!(rows.len(), texts.len());
        for ((ord, got), (i, want)) in rows.iter().zip(vectors.iter().enumerate()) {
            assert_eq!(*ord as usize, i + 1);
            let c = cosine(got, want);
            assert!(c >= MIN_COSINE, "batch {batch_size}, {:.40?}: cosine {c}", texts[i]);
        }
    }
}

#[pg_test]
fn similarity_functions_agree_with_the_maths_crate() {
    let c = Spi::get_one::<f64>("SELECT persona.cosine_similarity('{1,2,3}'::real[], '{2,4,6.5}'::real[])")
        .unwrap()
        .unwrap();
    assert!((c - cosine(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.5])).abs() < 1e-12);
    let l2 = Spi::get_one::<f64>("SELECT persona.l2_distance('{0,0}'::real[], '{3,4}'::real[])").unwrap();
    assert_eq!(l2, Some(5.0));
}

#[pg_test(error = "different vector dimensions 3 and 2")]
fn dimension_mismatch_is_an_error() {
    Spi::get_one::<f64>("SELECT persona.cosine_similarity('{1,2,3}'::real[], '{1,2}'::real[])").unwrap();
}

#[pg_test(error = "model \"nope\" does not exist")]
fn unknown_model_is_an_error() {
    Spi::get_one::<Vec<f32>>("SELECT persona.embed('x', 'nope')").unwrap();
}

/// `cargo pgrx test`'s cluster does not preload persona: embedding falls
/// back to the backend's own model copy, and the status view says so.
#[pg_test]
fn without_preload_embedding_is_in_process() {
    let mode = Spi::get_one::<String>("SELECT mode FROM persona.embedder").unwrap();
    assert_eq!(mode.as_deref(), Some("in-process (persona is not in shared_preload_libraries)"));
    let dims = Spi::get_one::<i32>("SELECT array_length(persona.embed('no worker here'), 1)").unwrap();
    assert_eq!(dims, Some(384));
    let pid = Spi::get_one::<i32>("SELECT pid FROM persona.embedder").unwrap();
    assert_eq!(pid, None);
}

#[pg_test]
fn default_model_setting_is_used() {
    Spi::run("SET persona.default_model = 'all-MiniLM-L6-v2'").unwrap();
    let dims = Spi::get_one::<i32>("SELECT array_length(persona.embed('hello'), 1)").unwrap();
    assert_eq!(dims, Some(384));
    let setting = Spi::get_one::<String>("SELECT current_setting('persona.threads')").unwrap();
    assert_eq!(setting.as_deref(), Some("0"));
}

#[pg_test]
fn vec_avg_matches_the_plain_sql_way() {
    Spi::run(
        "CREATE TEMP TABLE e AS SELECT i % 10 AS u, ARRAY[i, i * 0.5, -i]::real[] AS v FROM generate_series(1, 1000) i",
    )
    .unwrap();
    let same = Spi::get_one::<bool>(
        "WITH ours AS (SELECT u, persona.vec_avg(v) AS m FROM e GROUP BY u),
              plain AS (SELECT u, array_agg(a ORDER BY k)::real[] AS m
                        FROM (SELECT u, k, avg(x) AS a FROM e, unnest(v) WITH ORDINALITY t(x, k) GROUP BY u, k) s
                        GROUP BY u)
         SELECT bool_and(persona.l2_distance(ours.m, plain.m) < 1e-4) FROM ours JOIN plain USING (u)",
    )
    .unwrap();
    assert_eq!(same, Some(true));
}

/// The CDNOW sample summary is not shipped; read it from ../shared when present.
#[pg_test]
fn bgnbd_fit_in_sql_matches_published_cdnow_figures() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/cdnow-sample/cdnow_customers_summary_with_transactions.csv"
    );
    if std::fs::metadata(path).is_err() {
        pgrx::notice!("SKIP: {path} not found");
        return;
    }
    Spi::run("CREATE TEMP TABLE cdnow (id int, x float8, t_x float8, t float8, zbar float8)").unwrap();
    Spi::run(&format!("COPY cdnow FROM '{path}' WITH (FORMAT csv, HEADER true)")).unwrap();
    let (r, ll) = Spi::get_two::<f64, f64>(
        "SELECT (m).r, (m).log_likelihood FROM (SELECT persona.bgnbd_fit(x, t_x, t) AS m FROM cdnow) f",
    )
    .unwrap();
    // Fader, Hardie & Lee (2005): r = 0.243, LL = -9582.43.
    assert!((r.unwrap() - 0.243).abs() < 0.001, "r = {r:?}");
    assert!((ll.unwrap() + 9582.43).abs() < 0.01, "ll = {ll:?}");
    let gamma = Spi::get_one::<f64>("SELECT (persona.gamma_gamma_fit(x, zbar)).gamma FROM cdnow").unwrap();
    assert!((gamma.unwrap() - 15.44).abs() < 0.05, "gamma = {gamma:?}");
}

/// A generated shop: profile traits agree with the same figures computed in
/// plain SQL, every user gets a unit profile vector, and a refresh inside the
/// same transaction touches only the users with new events.
#[pg_test]
fn profiles_agree_with_plain_sql_and_refresh_only_changed_users() {
    Spi::run(
        "CREATE TABLE pt_items AS SELECT i AS item_id, 'c' || (i % 5) AS category, 10 + i % 40 AS price
         FROM generate_series(1, 100) i;
         CREATE TABLE pt_events AS
         SELECT 1 + g % 400 AS user_id, 1 + (g * 7) % 100 AS item_id,
                (ARRAY['view', 'view', 'cart', 'purchase'])[1 + g % 4] AS event_type,
                timestamptz '2026-01-01' + (g * 3607) % (120 * 86400) * interval '1 second' AS event_time
         FROM generate_series(1, 20000) g;",
    )
    .unwrap();
    Spi::run("SELECT * FROM persona.train_item2vec('pt', 'pt_events', time_col => 'event_time', dim => 8, epochs => 1)")
        .unwrap();
    let n = Spi::get_one::<i64>(
        "SELECT profiles FROM persona.build_profiles('pt', 'pt_events', items => 'pt_items', item2vec_model => 'pt',
                                                     dedup_window => '0')",
    )
    .unwrap();
    assert_eq!(n, Some(400));
    // Monetary and frequency by hand (item prices; no repeats at one instant in this data).
    let mismatches = Spi::get_one::<i64>(
        "WITH want AS (SELECT e.user_id, sum(i.price) AS monetary, count(DISTINCT e.event_time::date) AS days
                       FROM pt_events e JOIN pt_items i USING (item_id) WHERE e.event_type = 'purchase' GROUP BY 1)
         SELECT count(*) FROM persona.profiles p LEFT JOIN want w USING (user_id)
         WHERE p.name = 'pt' AND (p.monetary <> coalesce(w.monetary, 0) OR p.frequency <> coalesce(w.days, 0))",
    )
    .unwrap();
    assert_eq!(mismatches, Some(0));
    let unit = Spi::get_one::<bool>(
        "SELECT bool_and(abs(sqrt((SELECT sum(x * x) FROM unnest(profile_vec) x)) - 1) < 1e-5)
         FROM persona.profiles WHERE name = 'pt'",
    )
    .unwrap();
    assert_eq!(unit, Some(true));
    let fitted = Spi::get_one::<bool>("SELECT bgnbd IS NOT NULL FROM persona.profile_definitions WHERE name = 'pt'").unwrap();
    assert_eq!(fitted, Some(true));

    Spi::run("CREATE TEMP TABLE pt_before AS SELECT * FROM persona.profiles WHERE name = 'pt'").unwrap();
    Spi::run("INSERT INTO pt_events VALUES (5, 1, 'purchase', '2026-06-01'), (6, 2, 'view', '2026-06-01')").unwrap();
    let refreshed = Spi::get_one::<i64>("SELECT profiles FROM persona.refresh_profiles('pt')").unwrap();
    assert_eq!(refreshed, Some(2));
    let changed = Spi::get_one::<String>(
        "SELECT string_agg(user_id::text, ',' ORDER BY user_id) FROM (
             SELECT user_id, monetary, events FROM persona.profiles WHERE name = 'pt'
             EXCEPT SELECT user_id, monetary, events FROM pt_before) d",
    )
    .unwrap();
    assert_eq!(changed.as_deref(), Some("5,6"));
}

#[pg_test(error = "column \"nope\" of pt_bad does not exist")]
fn profiles_name_a_missing_column() {
    Spi::run("CREATE TABLE pt_bad (user_id int, item_id int, event_type text, event_time timestamptz)").unwrap();
    Spi::run("SELECT * FROM persona.build_profiles('bad', 'pt_bad', time_col => 'nope')").unwrap();
}

#[pg_test]
fn recommend_vectors_method_is_exact_against_plain_sql() {
    Spi::run("SELECT setseed(0.3)").unwrap();
    Spi::run(
        "CREATE TEMP TABLE iv AS SELECT i AS item_id, ARRAY(SELECT (random() - 0.5)::real FROM generate_series(1, 16) d WHERE i > 0) AS v
         FROM generate_series(1, 700) i",
    )
    .unwrap();
    Spi::run(
        "CREATE TEMP TABLE uv AS SELECT u AS user_id, ARRAY(SELECT (random() - 0.5)::real FROM generate_series(1, 16) d WHERE u > 0) AS v
         FROM generate_series(1, 300) u",
    )
    .unwrap();
    Spi::run("SET client_min_messages = warning").unwrap();
    Spi::run("SELECT 1 FROM persona.train_recommender('pgt_vec', method => 'vectors', user_vectors => 'uv', item_vectors => 'iv')").unwrap();
    Spi::run("SELECT 1 FROM persona.recommend_all(10, 'pgt_vec', batch_size => 64)").unwrap();
    // Every user's list equals the plain SQL ORDER BY cosine LIMIT 10, from
    // recommend() and from recommend_all's blocked products alike.
    let differing = Spi::get_one::<i64>(
        "SELECT count(*) FROM uv u WHERE
            (SELECT array_agg(item_id) FROM persona.recommend(u.user_id, 10, 'pgt_vec'))
            IS DISTINCT FROM (SELECT array_agg(item_id) FROM (SELECT item_id::bigint AS item_id FROM iv
                              ORDER BY persona.cosine_similarity(iv.v, u.v) DESC, item_id LIMIT 10) s)
         OR (SELECT array_agg(item_id ORDER BY rank) FROM persona.recommendations r WHERE r.model = 'pgt_vec' AND r.user_id = u.user_id)
            IS DISTINCT FROM (SELECT array_agg(item_id) FROM persona.recommend(u.user_id, 10, 'pgt_vec'))",
    )
    .unwrap()
    .unwrap();
    assert_eq!(differing, 0, "{differing} users differ from plain SQL");
    let max_diff = Spi::get_one::<f64>(
        "SELECT max(abs(r.score - persona.cosine_similarity(i.v, u.v))) FROM uv u, persona.recommend(u.user_id, 10, 'pgt_vec') r
         JOIN iv i USING (item_id)",
    )
    .unwrap()
    .unwrap();
    assert!(max_diff < 1e-5, "scores differ from cosine_similarity by {max_diff}");
}

#[pg_test]
fn evaluate_recommendations_popularity_matches_plain_sql() {
    Spi::run(
        "CREATE TEMP TABLE ev AS SELECT u AS user_id, 1 + (u * 7 + e * e * 3) % 60 AS item_id, e AS ts
         FROM generate_series(1, 400) u, generate_series(1, 2 + u % 9) e",
    )
    .unwrap();
    Spi::run("SET client_min_messages = warning").unwrap();
    Spi::run("SELECT 1 FROM persona.train_recommender('pgt_pop', 'ev', time_col => 'ts', method => 'knn')").unwrap();
    let persona = Spi::get_two::<f64, f64>(
        "SELECT hit_rate, coverage FROM persona.evaluate_recommendations('pgt_pop', 10) WHERE method = 'popularity'",
    )
    .unwrap();
    // The same protocol in plain SQL: each user's last event (by time, then
    // item) is the target; popularity = distinct users per item over every
    // user's earlier events less the target item; top 10 by popularity then
    // item id, the user's earlier items excluded.
    let plain = Spi::get_two::<f64, f64>(
        "WITH o AS (SELECT user_id, item_id, row_number() OVER (PARTITION BY user_id ORDER BY ts DESC, item_id DESC) AS back FROM ev),
              t AS (SELECT user_id, item_id AS target FROM o WHERE back = 1 AND user_id IN (SELECT user_id FROM o WHERE back = 2)),
              h AS (SELECT DISTINCT o.user_id, o.item_id FROM o LEFT JOIN t USING (user_id)
                    WHERE o.back > 1 AND o.item_id IS DISTINCT FROM t.target OR t.user_id IS NULL),
              pop AS (SELECT i AS item_id, (SELECT count(*) FROM h WHERE h.item_id = i) AS n FROM (SELECT DISTINCT item_id AS i FROM ev) c),
              top AS (SELECT t.user_id, t.target, x.item_id FROM t, LATERAL (SELECT p.item_id FROM pop p
                      WHERE NOT EXISTS (SELECT FROM h WHERE h.user_id = t.user_id AND h.item_id = p.item_id)
                      ORDER BY p.n DESC, p.item_id LIMIT 10) x)
         SELECT (SELECT count(*) FILTER (WHERE target = item_id)::float8 FROM top) / (SELECT count(*) FROM t),
                (SELECT count(DISTINCT item_id)::float8 FROM top) / (SELECT count(DISTINCT item_id) FROM ev)",
    )
    .unwrap();
    assert_eq!(persona.0, plain.0, "hit rate");
    assert_eq!(persona.1, plain.1, "coverage");
    assert!(persona.0.is_some_and(|hr| hr > 0.0));
}
