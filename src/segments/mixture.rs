//! `persona.gmm_train()`: soft segments, a Gaussian mixture fitted on a
//! sample (persona-cluster, linfa's EM) and scored for every row; stored as a
//! version of a segment model like K-Means' (same ids, descriptions, floor,
//! views), plus every user's probabilities in `persona.segment_probabilities`.
//! `persona._mixture_assign()` scores one vector against the current version,
//! for `refresh_profiles`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use persona_cluster::{anomaly_score, assign_soft, fit_gmm, mixture_segments, GmmModel, GmmParams, GmmParts, GmmProgress, Spread};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use super::read::first_read;
use super::store::store;
use super::train::resolve_source;
use super::{parse_metric, raise_train_error, Trained};
use crate::access::Kind;
use crate::errors::{raise, raise_spi_error as spi_err, required};
use crate::runtime::run_on_pool;
use crate::sql_text::quote_ident;

/// The stored form of a mixture: its parts, and the segment id of each
/// component (label order).
fn to_json(p: &GmmParts, ids: &[i32]) -> serde_json::Value {
    serde_json::json!({
        "format": 1, "metric": p.metric.name(), "dim": p.dim, "components_dim": p.components_dim, "k": p.k,
        "mean": p.mean, "projection": p.projection, "weights": p.weights, "means": p.means,
        "covariances": p.covariances, "log_likelihood": p.log_likelihood, "bic": p.bic,
        "sample_rows": p.sample_rows, "segments": ids,
    })
}

fn from_json(model: &str, v: &serde_json::Value) -> (GmmModel, Vec<i32>) {
    let bad = || -> ! {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
            format!("the stored mixture of model \"{model}\" cannot be read"),
            None,
            Some("Train the model again with persona.gmm_train()."),
        )
    };
    let floats = |k: &str| -> Vec<f64> {
        v.get(k).and_then(|a| a.as_array()).map(|a| a.iter().map(|x| x.as_f64().unwrap_or_else(|| bad())).collect()).unwrap_or_else(|| bad())
    };
    let int = |k: &str| v.get(k).and_then(|x| x.as_u64()).unwrap_or_else(|| bad()) as usize;
    if v.get("format").and_then(|f| f.as_u64()) != Some(1) {
        bad();
    }
    let parts = GmmParts {
        metric: parse_metric(v.get("metric").and_then(|m| m.as_str()).unwrap_or_else(|| bad())),
        dim: int("dim"),
        components_dim: int("components_dim"),
        k: int("k"),
        mean: floats("mean"),
        projection: floats("projection"),
        weights: floats("weights"),
        means: floats("means"),
        covariances: floats("covariances"),
        log_likelihood: v.get("log_likelihood").and_then(|x| x.as_f64()).unwrap_or_else(|| bad()),
        bic: v.get("bic").and_then(|x| x.as_f64()).unwrap_or_else(|| bad()),
        sample_rows: int("sample_rows"),
    };
    let ids: Vec<i32> = v
        .get("segments")
        .and_then(|a| a.as_array())
        .map(|a| a.iter().map(|x| x.as_i64().unwrap_or_else(|| bad()) as i32).collect())
        .unwrap_or_else(|| bad());
    let m = GmmModel::from_parts(parts).unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_DATA_CORRUPTED, e.to_string(), None, None));
    if ids.len() != m.k() {
        bad();
    }
    (m, ids)
}

/// Trains a Gaussian mixture on (key, vector) rows and stores it as a new
/// version of the model.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn gmm_train(
    model: Option<&str>,
    source: default!(Option<&str>, "NULL"),
    vector_col: default!(Option<&str>, "'profile_vec'"),
    k: default!(Option<i32>, "NULL"),
    key_col: default!(Option<&str>, "'user_id'"),
    k_min: default!(Option<i32>, 2),
    k_max: default!(Option<i32>, 10),
    metric: default!(Option<&str>, "'cosine'"),
    components_dim: default!(Option<i32>, 16),
    n_runs: default!(Option<i32>, 3),
    max_iter: default!(Option<i32>, 200),
    seed: default!(Option<i64>, 1),
    sample_size: default!(Option<i32>, 5_000),
    profiles: default!(Option<&str>, "NULL"),
    texts: default!(Option<&str>, "NULL"),
    k_anonymity_floor: default!(Option<i32>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(version, i32),
        name!(k, i32),
        name!(log_likelihood, f64),
        name!(bic, f64),
        name!(rows, i64),
        name!(seconds, f64),
    ),
> {
    required!(model, vector_col, key_col, k_min, k_max, metric, components_dim, n_runs, max_iter, seed, sample_size);
    crate::access::claim(Kind::Kmeans, model);
    if let Some(f) = k_anonymity_floor.filter(|&f| f < 1) {
        raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, format!("k_anonymity_floor must be at least 1, not {f}"), None, None);
    }
    let defaults = GmmParams::default();
    let params = GmmParams {
        k: k.map(i64::from),
        k_min: k_min.into(),
        k_max: k_max.into(),
        metric,
        components_dim: components_dim.into(),
        max_iter: max_iter.into(),
        n_runs: n_runs.into(),
        seed: seed as u64,
        sample_size: sample_size.into(),
        ..defaults
    }
    .check()
    .unwrap_or_else(|e| raise_train_error(e));
    let (source_text, from, key_col, vector_col) = resolve_source(source, profiles, key_col, vector_col);
    let texts_from = texts.map(|t| crate::source::from_item(t, "texts"));
    let query = format!("SELECT (s.{})::bigint, (s.{})::real[] FROM {from} s", quote_ident(&key_col), quote_ident(&vector_col));
    let budget = crate::gucs::kmeans_work_mem_bytes();
    let started = Instant::now();
    let job = crate::progress::Job::start("gmm_train", "reading rows", "rows", None);
    let read = first_read(&query, params.metric(), params.sample_size(), params.seed(), budget);
    if read.skipped > 0 {
        pgrx::notice!("gmm_train: skipped {} rows with a NULL key or vector", read.skipped);
    }
    if read.keys.is_empty() {
        pgrx::notice!("gmm_train: no rows with a vector in the source; nothing trained");
        return TableIterator::once((0, 0, 0.0, 0.0, 0, 0.0));
    }
    let Some(rows) = persona_cluster::RowSource::in_memory(&read.rows) else {
        raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!("gmm_train scores every row in memory, and {} rows do not fit in persona.kmeans_work_mem", read.keys.len()),
            None,
            Some("Raise persona.kmeans_work_mem, or use persona.kmeans_train, which can train in passes."),
        )
    };
    let dim = persona_cluster::RowSource::dim(&read.rows);
    job.phase("projecting the sample", "steps", None);
    // Restarts of every k tried (the most there can be: k_max is cut to what the sample allows).
    let restarts = i64::from(n_runs) * k.map_or(i64::from(k_max - k_min + 1).max(1), |_| 1);
    let fitted = std::cell::Cell::new(0i64);
    let progress = |p: GmmProgress| match p {
        GmmProgress::Projected { rows, dim, components, explained, seconds } => {
            pgrx::notice!(
                "gmm_train: {rows} sample rows of {dim} dimensions projected to {components} ({:.1}% of the variance) in {seconds:.3} s",
                100.0 * explained
            );
            job.phase("fitting", "restarts", Some(restarts));
        }
        GmmProgress::Run { k, run, runs, outcome, seconds } => {
            match outcome {
                Ok(ll) => pgrx::notice!("gmm_train: k = {k}, run {run}/{runs}: log-likelihood {ll:.4} a row, {seconds:.3} s"),
                Err(why) => pgrx::notice!("gmm_train: k = {k}, run {run}/{runs} failed: {why}"),
            }
            fitted.set(fitted.get() + 1);
            job.step(fitted.get(), &format!("fitting: k = {k}, run {run}/{runs} done"));
        }
        GmmProgress::Candidate(c) => pgrx::notice!("gmm_train: k = {}: log-likelihood {:.4} a row, BIC {:.1}", c.k, c.log_likelihood, c.bic),
        GmmProgress::ChoseK { k } => pgrx::notice!("gmm_train: chose k = {k} by BIC"),
    };
    let stop = || {
        check_for_interrupts!();
        false
    };
    let parallel = |work: &mut (dyn FnMut() + Send)| run_on_pool(work);
    let hooks = persona_cluster::Hooks { stop: &stop, progress: &progress, parallel: &parallel };
    let fit = fit_gmm(&read.rows, &params, &hooks).unwrap_or_else(|e| raise_train_error(e));
    check_for_interrupts!();
    job.phase("scoring every row", "steps", None);
    let soft = run_on_pool(|| mixture_segments(rows, dim, &fit.model)).unwrap_or_else(|e| raise_train_error(e));
    check_for_interrupts!();
    let k_found = fit.model.k();
    let parts = fit.model.parts().clone();
    let candidates = serde_json::Value::Array(
        fit.candidates.iter().map(|c| serde_json::json!({"k": c.k, "log_likelihood": c.log_likelihood, "bic": c.bic})).collect(),
    );
    let probabilities = soft.scores.probabilities;
    let trained = Trained { model: soft.segmentation, keys: read.keys, skipped: read.skipped, seconds: started.elapsed().as_secs_f64() };
    let settings = serde_json::json!({
        "algorithm": "gmm", "key_col": key_col, "vector_col": vector_col, "k": k, "k_min": k_min, "k_max": k_max,
        "metric": metric, "components_dim": components_dim, "n_runs": n_runs, "max_iter": max_iter, "seed": seed,
        "sample_size": sample_size, "texts": texts, "explained_variance": fit.explained_variance, "failed_runs": fit.failed_runs,
    });
    job.phase("storing the version", "steps", None);
    let (version, ids) =
        store(model, &source_text, &query, profiles, params.metric(), settings, &trained, texts_from.as_deref(), k_anonymity_floor);
    Spi::run_with_args(
        "UPDATE persona.kmeans_models SET algorithm = 'gmm', mixture = $3::jsonb, k_candidates = $4::jsonb WHERE name = $1 AND version = $2",
        &[model.into(), version.into(), to_json(&parts, &ids).to_string().into(), candidates.to_string().into()],
    )
    .unwrap_or_else(|e| spi_err("write persona.kmeans_models", e));
    job.phase("writing probabilities", "rows", Some(trained.keys.len() as i64));
    write_probabilities(model, version, &trained.keys, &probabilities, &ids, &job);
    TableIterator::once((
        version,
        k_found as i32,
        parts.log_likelihood,
        parts.bic,
        trained.keys.len() as i64,
        started.elapsed().as_secs_f64(),
    ))
}

/// The segments of one row's probabilities, most probable first.
fn ranked(p: &[f64], ids: &[i32]) -> (Vec<i32>, Vec<f32>) {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
    (order.iter().map(|&j| ids[j]).collect(), order.iter().map(|&j| p[j] as f32).collect())
}

fn write_probabilities(model: &str, version: i32, keys: &[i64], probabilities: &[f64], ids: &[i32], job: &crate::progress::Job) {
    let k = ids.len();
    for (chunk_keys, chunk) in keys.chunks(20_000).zip(probabilities.chunks(20_000 * k)) {
        check_for_interrupts!();
        let (mut segs, mut probs) = (Vec::with_capacity(chunk.len()), Vec::with_capacity(chunk.len()));
        for p in chunk.chunks_exact(k) {
            let (s, q) = ranked(p, ids);
            segs.extend(s);
            probs.extend(q);
        }
        Spi::run_with_args(
            "INSERT INTO persona.segment_probabilities (name, version, user_id, segments, probabilities)
             SELECT $1, $2, $3[j], $4[(j - 1) * $6 + 1 : j * $6], $5[(j - 1) * $6 + 1 : j * $6] FROM generate_subscripts($3, 1) j",
            &[model.into(), version.into(), chunk_keys.to_vec().into(), segs.into(), probs.into(), (k as i32).into()],
        )
        .unwrap_or_else(|e| spi_err("write persona.segment_probabilities", e));
        job.add(chunk_keys.len() as i64);
    }
}

/// The current version of a mixture, ready to score one vector.
struct Current {
    version: i32,
    model: GmmModel,
    /// Segment id of each component.
    ids: Vec<i32>,
    /// Centres and spreads, in component order.
    centroids: Vec<f32>,
    spreads: Vec<Spread>,
}

thread_local! {
    static CURRENT: RefCell<HashMap<(String, i32, String), Rc<Current>>> = RefCell::new(HashMap::new());
}

fn current(name: &str) -> Rc<Current> {
    let head = Spi::get_three_with_args::<i32, String, String>(
        "SELECT version, algorithm, created_at::text FROM persona.kmeans_models WHERE name = $1 ORDER BY version DESC LIMIT 1",
        &[name.into()],
    );
    let (version, created) = match head {
        Ok((Some(v), Some(a), Some(c))) if a == "gmm" => (v, c),
        Ok((Some(_), Some(_), Some(_))) => raise(
            PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
            format!("the current version of model \"{name}\" is not a mixture"),
            None,
            Some("Use persona.kmeans_nearest() for K-Means models."),
        ),
        _ => raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("segment model \"{name}\" does not exist"),
            None,
            Some("Train it first with persona.gmm_train()."),
        ),
    };
    let key = (name.to_owned(), version, created);
    if let Some(c) = CURRENT.with(|m| m.borrow().get(&key).cloned()) {
        return c;
    }
    let stored: crate::jsonb::JsonbText = crate::spi::first(
        "read persona.kmeans_models",
        "SELECT mixture FROM persona.kmeans_models WHERE name = $1 AND version = $2",
        &[name.into(), version.into()],
    )
    .unwrap_or_else(|| raise(PgSqlErrorCode::ERRCODE_DATA_CORRUPTED, format!("model \"{name}\" has no stored mixture"), None, None));
    let (model, ids) = from_json(name, &stored.parse("the stored mixture"));
    let mut by_id: HashMap<i32, (Vec<f32>, Spread)> = Spi::connect(|c| {
        c.select(
            "SELECT segment, centroid, distance_median, distance_scale, size FROM persona.kmeans_centroids WHERE name = $1 AND version = $2",
            None,
            &[name.into(), version.into()],
        )
        .map(|rows| {
            rows.filter_map(|r| {
                let (id, c, median, scale, size) =
                    (r.get::<i32>(1).ok()??, r.get::<Vec<f32>>(2).ok()??, r.get::<f64>(3).ok()??, r.get::<f64>(4).ok()??, r.get::<i64>(5).ok()??);
                Some((id, (c, Spread { median, mad: scale / 1.4826, scale, count: size as usize })))
            })
            .collect()
        })
        .unwrap_or_else(|e| spi_err("read persona.kmeans_centroids", e))
    });
    let mut centroids = Vec::with_capacity(ids.len() * model.dim());
    let mut spreads = Vec::with_capacity(ids.len());
    for id in &ids {
        let Some((c, s)) = by_id.remove(id).filter(|(c, _)| c.len() == model.dim()) else {
            raise(PgSqlErrorCode::ERRCODE_DATA_CORRUPTED, format!("model \"{name}\" lacks the centre of segment {id}"), None, None)
        };
        centroids.extend(c);
        spreads.push(s);
    }
    let c = Rc::new(Current { version, model, ids, centroids, spreads });
    CURRENT.with(|m| m.borrow_mut().insert(key, c.clone()));
    c
}

/// One vector against the current version of a mixture: its segment (the
/// most probable), distance, margin and anomaly score as K-Means gives them,
/// and every segment's probability, most probable first.
#[pg_extern(stable, strict, parallel_safe, name = "_mixture_assign")]
fn mixture_assign(
    model: &str,
    vec: Array<'_, f32>,
) -> TableIterator<
    'static,
    (
        name!(version, i32),
        name!(segment, i32),
        name!(distance, f64),
        name!(margin, Option<f64>),
        name!(anomaly_score, f64),
        name!(segments, Vec<i32>),
        name!(probabilities, Vec<f32>),
    ),
> {
    let c = current(model);
    let vector = crate::similarity::as_vector(vec, "vector");
    if vector.len() != c.model.dim() {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("vector has {} dimensions, model \"{model}\" has {}", vector.len(), c.model.dim()),
            None,
            None,
        );
    }
    let s = assign_soft(&c.model, &vector, &c.centroids).unwrap_or_else(|e| raise_train_error(e));
    let a = s.assignment;
    let (segments, probabilities) = ranked(&s.probabilities, &c.ids);
    TableIterator::once((
        c.version,
        c.ids[a.label as usize],
        f64::from(a.distance),
        a.second_distance.is_finite().then(|| f64::from(a.second_distance - a.distance)),
        anomaly_score(f64::from(a.distance), &c.spreads[a.label as usize]),
        segments,
        probabilities,
    ))
}
