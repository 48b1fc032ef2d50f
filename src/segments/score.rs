//! Answers from the current version of a model: the nearest segment of one
//! vector and its anomaly score; and agreement scores of two labellings.

use std::cell::RefCell;
use std::collections::HashMap;

use persona_cluster::{anomaly_score, assign, Metric, Spread};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use super::{is_major, parse_metric, raise_train_error};
use crate::errors::{raise, raise_spi_error as spi_err};
use crate::spi::Columns;

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
    let a = assign(v, c.dim, &c.centroids, c.metric).unwrap_or_else(|e| raise_train_error(e));
    let a = a[0];
    let score = if c.major.contains(&(a.label as usize)) {
        c.spreads[a.label as usize].as_ref().map(|s| anomaly_score(f64::from(a.distance), s))
    } else {
        let m = assign(v, c.dim, &c.major_centroids, c.metric).unwrap_or_else(|e| raise_train_error(e))[0];
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
    f(&a, &b).unwrap_or_else(|e| raise_train_error(e))
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
