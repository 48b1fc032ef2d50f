//! The SQL surface of segments: `persona.kmeans_train()`, which stores each
//! training as a new model version (with segment ids matched to the previous
//! version's), and `persona.kmeans_nearest()`, which scores one vector
//! against the current version.

use std::cell::RefCell;
use std::collections::HashMap;

use persona_cluster::{anomaly_score, assign, class_tfidf, match_centroids, Assignment, Metric, Spread};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::access::Kind;
use crate::errors::{raise, raise_cluster_error, raise_spi_error as spi_err, required};
use crate::sql_text::{quote_ident, quote_literal as literal};
use crate::kmeans::{parse_metric, train, TrainArgs};
use crate::spi::Columns;

pub struct Trained {
    pub k: usize,
    pub dim: usize,
    pub centroids: Vec<f32>,
    pub assignments: Vec<Assignment>,
    pub spreads: Vec<Option<Spread>>,
    pub inertia: f64,
    pub silhouette: Option<f64>,
    pub iterations: usize,
    pub mode: &'static str,
    pub candidates: Vec<(usize, f64, f64)>,
    pub seconds: f64,
}

impl Trained {
    pub fn empty() -> Self {
        Trained {
            k: 0,
            dim: 0,
            centroids: Vec::new(),
            assignments: Vec::new(),
            spreads: Vec::new(),
            inertia: 0.0,
            silhouette: None,
            iterations: 0,
            mode: "in_memory",
            candidates: Vec::new(),
            seconds: 0.0,
        }
    }
}


/// Segment ids for the new centroids: the previous version's id of the
/// centroid each one takes over (optimal matching by distance), fresh ids for
/// the rest; for a first version, 1 for the largest segment, 2 for the next.
fn segment_ids(model: &str, t: &Trained, sizes: &[i64], metric: Metric) -> Vec<i32> {
    let old: Vec<(i32, Vec<f32>)> = Spi::connect(|c| {
        c.select(
            "SELECT c.segment, c.centroid FROM persona.kmeans_centroids c JOIN persona.kmeans_models m USING (name, version)
             WHERE c.name = $1 AND m.version = (SELECT max(version) FROM persona.kmeans_models WHERE name = $1)
               AND m.dimension = $2 AND m.metric = $3 ORDER BY c.segment",
            None,
            &[model.into(), (t.dim as i32).into(), metric_name(metric).into()],
        )
        .map(|rows| {
            rows.filter_map(|r| Some((r.col::<i32>(1)?, r.col::<Vec<f32>>(2)?))).collect()
        })
        .unwrap_or_default()
    });
    let mut ids = vec![0i32; t.k];
    if old.is_empty() {
        let mut order: Vec<usize> = (0..t.k).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(sizes[i]), i));
        for (rank, &i) in order.iter().enumerate() {
            ids[i] = rank as i32 + 1;
        }
        return ids;
    }
    let old_flat: Vec<f32> = old.iter().flat_map(|(_, c)| c.iter().copied()).collect();
    let matched = match_centroids(&t.centroids, &old_flat, t.dim, metric).unwrap_or_else(|e| raise_cluster_error(e));
    let mut next = old.iter().map(|(id, _)| *id).max().unwrap_or(0) + 1;
    for (i, m) in matched.iter().enumerate() {
        ids[i] = match m {
            Some(j) => old[*j].0,
            None => {
                next += 1;
                next - 1
            }
        };
    }
    ids
}

pub fn metric_name(m: Metric) -> &'static str {
    match m {
        Metric::Cosine => "cosine",
        Metric::L2 => "l2",
    }
}

/// Words that set each segment's texts apart (class-based TF-IDF).
fn distinctive_words(texts: &str, keys: &[i64], t: &Trained, ids: &[i32]) -> HashMap<i32, Vec<String>> {
    let by_key: HashMap<i64, u32> = keys.iter().zip(&t.assignments).map(|(k, a)| (*k, a.label)).collect();
    let mut docs: Vec<(u32, String)> = Vec::new();
    Spi::connect(|c| {
        // The first two columns, whatever their names: (user id, text).
        let query = format!("SELECT (t.c1)::bigint, (t.c2)::text FROM {texts} AS t(c1, c2)");
        let mut cursor = c.open_cursor(&query, &[]);
        loop {
            check_for_interrupts!();
            let batch = cursor.fetch(10_000).unwrap_or_else(|e| spi_err("read texts", e));
            if batch.is_empty() {
                break;
            }
            for row in batch {
                if let (Ok(Some(k)), Ok(Some(body))) = (row.get::<i64>(1), row.get::<String>(2)) {
                    if let Some(&label) = by_key.get(&k) {
                        docs.push((label, body));
                    }
                }
            }
        }
    });
    let words = class_tfidf(docs.iter().map(|(c, s)| (*c, s.as_str())), t.k, 10, 2).unwrap_or_default();
    words
        .into_iter()
        .enumerate()
        .map(|(i, w)| (ids[i], w.into_iter().map(|(word, _)| word).collect()))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn store(model: &str, source: &str, query: &str, profiles: Option<&str>, args: &TrainArgs, params: serde_json::Value, keys: &[i64], skipped: i64, t: &Trained, texts: Option<&str>, floor: Option<i32>) -> i32 {
    let mut sizes = vec![0i64; t.k];
    for a in &t.assignments {
        sizes[a.label as usize] += 1;
    }
    let ids = segment_ids(model, t, &sizes, args.metric);
    let version = crate::spi::first::<i32>(
        "number the new version",
        "SELECT coalesce(max(version), 0) + 1 FROM persona.kmeans_models WHERE name = $1",
        &[model.into()],
    )
    .unwrap_or(1);
    let candidates = serde_json::Value::Array(
        t.candidates
            .iter()
            .map(|(k, i, s)| serde_json::json!({"k": k, "inertia": i, "silhouette": s}))
            .collect(),
    );
    Spi::run_with_args(
        "INSERT INTO persona.kmeans_models (name, version, k, dimension, metric, inertia, silhouette, iterations, rows,
             skipped_rows, training_mode, source, profile_name, parameters, k_candidates, seconds, k_anonymity_floor)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15::jsonb, $16, $17)",
        &[
            model.into(),
            version.into(),
            (t.k as i32).into(),
            (t.dim as i32).into(),
            metric_name(args.metric).into(),
            t.inertia.into(),
            t.silhouette.into(),
            (t.iterations as i32).into(),
            (keys.len() as i64).into(),
            skipped.into(),
            t.mode.into(),
            source.into(),
            profiles.into(),
            params.to_string().into(),
            candidates.to_string().into(),
            t.seconds.into(),
            floor.into(),
        ],
    )
    .unwrap_or_else(|e| spi_err("write persona.kmeans_models", e));
    let words = texts.map(|tx| distinctive_words(tx, keys, t, &ids)).unwrap_or_default();
    for i in 0..t.k {
        let (median, scale) = t.spreads[i].as_ref().map(|s| (s.median, s.scale)).unwrap_or((0.0, 0.0));
        let centroid = t.centroids[i * t.dim..(i + 1) * t.dim].to_vec();
        let w: Option<Vec<String>> = words.get(&ids[i]).cloned();
        Spi::run_with_args(
            "INSERT INTO persona.kmeans_centroids (name, version, segment, centroid, size, distance_median, distance_scale, words)
             VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, '{}'))",
            &[model.into(), version.into(), ids[i].into(), centroid.into(), sizes[i].into(), median.into(), scale.into(), w.into()],
        )
        .unwrap_or_else(|e| spi_err("write persona.kmeans_centroids", e));
    }
    for (chunk_keys, chunk) in keys.chunks(100_000).zip(t.assignments.chunks(100_000)) {
        check_for_interrupts!();
        let segs: Vec<i32> = chunk.iter().map(|a| ids[a.label as usize]).collect();
        let dist: Vec<f64> = chunk.iter().map(|a| f64::from(a.distance)).collect();
        let margin: Vec<Option<f64>> = chunk
            .iter()
            .map(|a| a.second_distance.is_finite().then(|| f64::from(a.second_distance - a.distance)))
            .collect();
        let anomaly: Vec<Option<f64>> = chunk
            .iter()
            .map(|a| t.spreads[a.label as usize].as_ref().map(|s| anomaly_score(f64::from(a.distance), s)))
            .collect();
        Spi::run_with_args(
            "INSERT INTO persona.segment_assignments (name, version, user_id, segment, distance, margin, anomaly_score)
             SELECT $1, $2, u, s, d, m, a FROM unnest($3::bigint[], $4::int[], $5::float8[], $6::float8[], $7::float8[]) AS x(u, s, d, m, a)",
            &[model.into(), version.into(), chunk_keys.to_vec().into(), segs.into(), dist.into(), margin.into(), anomaly.into()],
        )
        .unwrap_or_else(|e| spi_err("write persona.segment_assignments", e));
    }
    let total = keys.len() as i64;
    let minor: Vec<i32> = (0..t.k).filter(|&i| !is_major(sizes[i], total)).map(|i| ids[i]).collect();
    if !minor.is_empty() && minor.len() < t.k {
        // The assignments written above have no statistics yet; a planner that
        // guesses one row per (name, version) picks a nested loop over the whole
        // source for every member. Hash joins only, for this statement.
        let nestloop = crate::spi::first::<String>("read enable_nestloop", "SELECT current_setting('enable_nestloop')", &[]).unwrap_or_else(|| "on".to_owned());
        Spi::run("SELECT set_config('enable_nestloop', 'off', true)").unwrap_or_else(|e| spi_err("plan the scoring of small segments", e));
        Spi::run_with_args(
            &format!(
                "UPDATE persona.segment_assignments a SET anomaly_score = n.anomaly_score
                 FROM ({query}) src(user_id, vec), persona.kmeans_nearest($1, src.vec) n
                 WHERE a.name = $1 AND a.version = $2 AND a.user_id = src.user_id AND a.segment = ANY ($3)"
            ),
            &[model.into(), version.into(), minor.into()],
        )
        .unwrap_or_else(|e| spi_err("score the members of small segments", e));
        Spi::run_with_args("SELECT set_config('enable_nestloop', $1, true)", &[nestloop.into()])
            .unwrap_or_else(|e| spi_err("plan the scoring of small segments", e));
    }
    // Exemplars: the five members nearest each centroid, ties by key.
    let mut nearest: Vec<Vec<(f32, i64)>> = vec![Vec::new(); t.k];
    for (key, a) in keys.iter().zip(&t.assignments) {
        let list = &mut nearest[a.label as usize];
        list.push((a.distance, *key));
        if list.len() > 64 {
            list.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            list.truncate(5);
        }
    }
    for (i, list) in nearest.iter_mut().enumerate() {
        list.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let exemplars: Vec<i64> = list.iter().take(5).map(|x| x.1).collect();
        Spi::run_with_args(
            "INSERT INTO persona.segment_descriptions (name, version, segment, label, exemplar_users)
             VALUES ($1, $2, $3, 'segment ' || $3, $4)",
            &[model.into(), version.into(), ids[i].into(), exemplars.into()],
        )
        .unwrap_or_else(|e| spi_err("write persona.segment_descriptions", e));
    }
    Spi::run_with_args("SELECT persona._describe_segments($1, $2)", &[model.into(), version.into()])
        .unwrap_or_else(|e| spi_err("describe the segments", e));
    version
}

/// Trains K-Means on (key, vector) rows of a table or query and stores the
/// result as a new version of the model.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn kmeans_train(
    model: Option<&str>,
    source: default!(Option<&str>, "NULL"),
    vector_col: default!(Option<&str>, "'profile_vec'"),
    k: default!(Option<i32>, "NULL"),
    key_col: default!(Option<&str>, "'user_id'"),
    k_min: default!(Option<i32>, 2),
    k_max: default!(Option<i32>, 10),
    metric: default!(Option<&str>, "'cosine'"),
    n_init: default!(Option<i32>, 3),
    max_iter: default!(Option<i32>, 100),
    tol: default!(Option<f64>, 1e-4),
    seed: default!(Option<i64>, 1),
    sample_size: default!(Option<i32>, 5_000),
    init: default!(Option<&str>, "'k-means++'"),
    profiles: default!(Option<&str>, "NULL"),
    texts: default!(Option<&str>, "NULL"),
    k_anonymity_floor: default!(Option<i32>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(version, i32),
        name!(k, i32),
        name!(inertia, f64),
        name!(silhouette, Option<f64>),
        name!(iterations, i32),
        name!(rows, i64),
        name!(training_mode, String),
        name!(seconds, f64),
    ),
> {
    // NULL k means "choose k"; NULL source/profiles/texts mean "not given".
    required!(model, vector_col, key_col, k_min, k_max, metric, n_init, max_iter, tol, seed, sample_size, init);
    // Before any work: one training of a name at a time, and only its owner's.
    crate::access::claim(Kind::Kmeans, model);
    let floor = k_anonymity_floor;
    if let Some(f) = floor.filter(|&f| f < 1) {
        raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, format!("k_anonymity_floor must be at least 1, not {f}"), None, None);
    }
    if let Some(k) = k {
        if k < 1 {
            raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, format!("k must be at least 1, not {k}"), None, None);
        }
    }
    if k_min < 2 || k_min > k_max {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("k range must satisfy 2 <= k_min <= k_max, not k_min = {k_min}, k_max = {k_max}"),
            None,
            None,
        );
    }
    let positive = |name: &str, v: i32, max: i32| {
        if v < 1 || v > max {
            raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, format!("{name} must be between 1 and {max}, not {v}"), None, None);
        }
        v as usize
    };
    let random_init = match init {
        "k-means++" => false,
        "random" => true,
        other => raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("init must be 'k-means++' or 'random', not '{other}'"),
            None,
            None,
        ),
    };
    if !(tol.is_finite() && tol >= 0.0) {
        raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, format!("tol must be >= 0, not {tol}"), None, None);
    }
    let args = TrainArgs {
        k: k.map(|k| k as usize),
        k_min: k_min as usize,
        k_max: k_max as usize,
        metric: parse_metric(metric),
        n_init: positive("n_init", n_init, 100),
        max_iter: positive("max_iter", max_iter, 100_000),
        tol,
        seed: seed as u64,
        sample_size: positive("sample_size", sample_size, 1_000_000),
        random_init,
    };
    let (source_text, from, key_col, vector_col) = match (source, profiles) {
        (Some(s), None) => {
            let from = crate::source::from_item(s, "source");
            for (col, kind, arg) in [(key_col, "integer", "key_col"), (vector_col, "vector", "vector_col")] {
                Spi::run_with_args("SELECT persona._column_type($1, $2, $3, $4)", &[s.into(), col.into(), kind.into(), arg.into()])
                    .unwrap_or_else(|e| spi_err("check the source", e));
            }
            (s.to_owned(), from, key_col.to_owned(), vector_col.to_owned())
        }
        (None, Some(p)) => {
            crate::access::require_read(Kind::Profiles, p, "train on them");
            let from = format!("(SELECT user_id, profile_vec FROM persona.profiles WHERE name = {})", literal(p));
            (from.clone(), from, "user_id".to_owned(), "profile_vec".to_owned())
        }
        _ => raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "give either source or profiles".to_owned(),
            None,
            Some("source => 'table or (query)', or profiles => 'a name given to persona.build_profiles()'."),
        ),
    };
    let texts_from = texts.map(|t| crate::source::from_item(t, "texts"));
    let query = format!(
        "SELECT (s.{k})::bigint, (s.{v})::real[] FROM {from} s",
        k = quote_ident(&key_col),
        v = quote_ident(&vector_col)
    );
    let budget = crate::gucs::kmeans_work_mem_bytes();
    let (scan, trained) = train(&query, &args, budget);
    let keys = &scan.keys;
    if keys.is_empty() {
        pgrx::notice!("kmeans_train: no rows with a vector in the source; nothing trained");
        return TableIterator::once((0, 0, 0.0, None, 0, 0, "none".to_owned(), 0.0));
    }
    let params = serde_json::json!({
        "key_col": key_col, "vector_col": vector_col, "k": k, "k_min": k_min, "k_max": k_max, "metric": metric,
        "n_init": n_init, "max_iter": max_iter, "tol": tol, "seed": seed, "sample_size": sample_size, "init": init,
        "texts": texts, "work_mem_bytes": budget,
    });
    let version = store(model, &source_text, &query, profiles, &args, params, keys, scan.skipped, &trained, texts_from.as_deref(), floor);
    TableIterator::once((
        version,
        trained.k as i32,
        trained.inertia,
        trained.silhouette,
        trained.iterations as i32,
        keys.len() as i64,
        trained.mode.to_owned(),
        trained.seconds,
    ))
}

struct Current {
    version: i32,
    metric: Metric,
    dim: usize,
    ids: Vec<i32>,
    centroids: Vec<f32>,
    spreads: Vec<Option<Spread>>,
    /// Indexes of the major segments and their centroids (see `is_major`).
    major: Vec<usize>,
    major_centroids: Vec<f32>,
}

/// A segment with at least 1% of the rows (and 2 members). Members of
/// smaller segments are scored against the nearest major segment: a tight
/// little cluster of identical accounts (bots) is itself the anomaly.
pub fn is_major(size: i64, rows: i64) -> bool {
    size >= 2 && (size as f64) >= 0.01 * rows as f64
}

thread_local! {
    static CURRENT: RefCell<HashMap<(String, i32, String), std::rc::Rc<Current>>> = RefCell::new(HashMap::new());
}

fn current(model: &str) -> std::rc::Rc<Current> {
    // The creation time is part of the cache key: a model deleted and
    // trained again starts from version 1 with other centroids.
    let head = Spi::get_three_with_args::<i32, String, String>(
        "SELECT version, metric, created_at::text FROM persona.kmeans_models WHERE name = $1 ORDER BY version DESC LIMIT 1",
        &[model.into()],
    );
    let (Ok((Some(version), Some(metric), Some(created))),) = (head,) else {
        raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("k-means model \"{model}\" does not exist"),
            None,
            Some("Train it first with persona.kmeans_train()."),
        )
    };
    let key = (model.to_owned(), version, created);
    if let Some(c) = CURRENT.with(|m| m.borrow().get(&key).cloned()) {
        return c;
    }
    let rows: Vec<(i32, Vec<f32>, f64, f64, i64)> = Spi::connect(|c| {
        c.select(
            "SELECT segment, centroid, distance_median, distance_scale, size FROM persona.kmeans_centroids
             WHERE name = $1 AND version = $2 ORDER BY segment",
            None,
            &[model.into(), version.into()],
        )
        .map(|rows| {
            rows.filter_map(|r| {
                Some((r.col::<i32>(1)?, r.col::<Vec<f32>>(2)?, r.col::<f64>(3)?, r.col::<f64>(4)?, r.col::<i64>(5)?))
            })
            .collect()
        })
        .unwrap_or_else(|e| spi_err("read persona.kmeans_centroids", e))
    });
    let dim = rows.first().map(|r| r.1.len()).unwrap_or(0);
    let total: i64 = rows.iter().map(|r| r.4).sum();
    let mut major: Vec<usize> = (0..rows.len()).filter(|&i| is_major(rows[i].4, total)).collect();
    if major.is_empty() {
        major = (0..rows.len()).collect();
    }
    let major_centroids = major.iter().flat_map(|&i| rows[i].1.iter().copied()).collect();
    let c = std::rc::Rc::new(Current {
        major,
        major_centroids,
        version,
        metric: parse_metric(&metric),
        dim,
        ids: rows.iter().map(|r| r.0).collect(),
        centroids: rows.iter().flat_map(|r| r.1.iter().copied()).collect(),
        spreads: rows
            .iter()
            .map(|r| Some(Spread { median: r.2, mad: r.3 / 1.4826, scale: r.3, count: r.4 as usize }))
            .collect(),
    });
    CURRENT.with(|m| m.borrow_mut().insert(key, c.clone()));
    c
}

/// Nearest segment of the current version for one vector, with its distance,
/// the margin to the second nearest, and the anomaly score.
#[pg_extern(stable, strict, parallel_safe)]
fn kmeans_nearest(
    model: &str,
    vec: Array<'_, f32>,
) -> TableIterator<
    'static,
    (
        name!(segment, i32),
        name!(distance, f64),
        name!(margin, Option<f64>),
        name!(anomaly_score, Option<f64>),
        name!(version, i32),
    ),
> {
    let c = current(model);
    let vector = crate::similarity::as_vector(vec, "vector");
    let v: &[f32] = &vector;
    if v.len() != c.dim {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("vector has {} dimensions, model \"{model}\" has {}", v.len(), c.dim),
            None,
            None,
        );
    }
    // One row: the backend thread is quicker than a hand-off to the pool.
    let a = assign(v, c.dim, &c.centroids, c.metric).unwrap_or_else(|e| raise_cluster_error(e));
    let a = a[0];
    let score = if c.major.contains(&(a.label as usize)) {
        c.spreads[a.label as usize].as_ref().map(|s| anomaly_score(f64::from(a.distance), s))
    } else {
        let m = assign(v, c.dim, &c.major_centroids, c.metric).unwrap_or_else(|e| raise_cluster_error(e))[0];
        c.spreads[c.major[m.label as usize]].as_ref().map(|s| anomaly_score(f64::from(m.distance), s))
    };
    TableIterator::once((
        c.ids[a.label as usize],
        f64::from(a.distance),
        a.second_distance.is_finite().then(|| f64::from(a.second_distance - a.distance)),
        score,
        c.version,
    ))
}

fn labels(arr: &Array<'_, i32>, arg: &str) -> Vec<u32> {
    // Any integers will do as labels: map them to 0..n in order of appearance.
    let mut ids: HashMap<i32, u32> = HashMap::new();
    arr.iter()
        .map(|x| match x {
            Some(x) => {
                let next = ids.len() as u32;
                *ids.entry(x).or_insert(next)
            }
            None => raise(PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED, format!("{arg} contains NULL labels"), None, None),
        })
        .collect()
}

fn agreement(a: Array<'_, i32>, b: Array<'_, i32>, f: fn(&[u32], &[u32]) -> Result<f64, persona_cluster::ClusterError>) -> f64 {
    let (a, b) = (labels(&a, "first labelling"), labels(&b, "second labelling"));
    f(&a, &b).unwrap_or_else(|e| raise_cluster_error(e))
}

/// Adjusted Rand index of two labellings of the same items (1 = identical partitions, about 0 = chance).
#[pg_extern(immutable, strict, parallel_safe)]
fn adjusted_rand_index(labels_a: Array<'_, i32>, labels_b: Array<'_, i32>) -> f64 {
    agreement(labels_a, labels_b, persona_cluster::adjusted_rand_index)
}

/// Normalised mutual information (arithmetic mean normalisation) of two labellings.
#[pg_extern(immutable, strict, parallel_safe)]
fn normalized_mutual_info(labels_a: Array<'_, i32>, labels_b: Array<'_, i32>) -> f64 {
    agreement(labels_a, labels_b, persona_cluster::normalized_mutual_info)
}
