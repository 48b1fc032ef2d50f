//! `persona.kmeans_train()`: segments of users, trained in the database.
//!
//! The maths is `persona-cluster`; this layer streams (key, vector) rows from
//! a table or query (`vector_scan`, straight out of the executor), runs one Lloyd iteration at a time on the
//! per-backend thread pool, checks for interrupts and reports a NOTICE
//! between iterations, and writes a new version of the model at the end, in
//! the caller's transaction: a cancelled training leaves earlier versions as
//! they were.
//!
//! Memory: when the vectors fit in `persona.kmeans_work_mem` they are held in
//! memory (mode `in_memory`); otherwise only a sample (for seeding and the
//! silhouette) and the per-row assignments are kept, and every iteration is
//! one pass over the source (mode `passes`: exact Lloyd, same answer).

use std::time::Instant;

use persona_cluster::{
    assign, choose_k, cluster_spreads, kmeans_plus_plus, normalize_rows, random_rows, silhouette, Assignment,
    KMeansConfig, Lloyd, Metric, PassAccumulator,
};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::errors::{raise, raise_cluster_error};
use crate::kmeans_store::Trained;
use crate::runtime::run_on_pool;
use crate::vector_scan::scan_vectors;

/// Rows handed to the thread pool at a time in the passes mode.
const CHUNK_ROWS: usize = 10_000;


pub fn parse_metric(metric: &str) -> Metric {
    match metric {
        "cosine" => Metric::Cosine,
        "l2" => Metric::L2,
        other => raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("metric must be 'cosine' or 'l2', not '{other}'"),
            None,
            None,
        ),
    }
}

fn bad(msg: String) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, msg, None, None)
}

/// A deterministic generator for sampling (splitmix64).
struct Sampler(u64);
impl Sampler {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// What one read of the source found.
pub struct Scan {
    /// Keys of the rows used, in read order (every row, in both modes).
    pub keys: Vec<i64>,
    /// All vectors (in memory) or none (passes).
    data: Vec<f32>,
    /// A uniform sample of at most `sample_size` rows (reservoir), for seeding and silhouette.
    sample: Vec<f32>,
    dim: usize,
    pub skipped: i64,
    in_memory: bool,
}

/// Checks one row's vector; ERROR naming the row's key when it cannot be used.
fn check_row(key: i64, v: &[f32], dim: &mut usize, metric: Metric) {
    if *dim == 0 {
        *dim = v.len();
    }
    if v.len() != *dim || v.is_empty() {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("vector of key {key} has {} dimensions, not {}", v.len(), *dim),
            None,
            Some("All vectors must come from the same model."),
        );
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("vector of key {key} has NaN or infinity at element {}", i + 1),
            None,
            None,
        );
    }
    if metric == Metric::Cosine && v.iter().all(|&x| x == 0.0) {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("vector of key {key} is all zeros, which has no direction for metric 'cosine'"),
            None,
            Some("Filter out zero vectors, or use metric => 'l2'."),
        );
    }
}

fn scan(query: &str, metric: Metric, budget_bytes: usize, sample_size: usize, seed: u64) -> Scan {
    let mut s = Scan { keys: Vec::new(), data: Vec::new(), sample: Vec::new(), dim: 0, skipped: 0, in_memory: true };
    let mut rng = Sampler(seed ^ 0x5EED);
    let mut seen = 0u64;
    let mut row = Vec::new();
    s.skipped = scan_vectors(query, &mut |key, v| {
        check_row(key, v, &mut s.dim, metric);
        let dim = s.dim;
        row.clear();
        row.extend_from_slice(v);
        if metric == Metric::Cosine {
            let _ = normalize_rows(&mut row, dim);
        }
        s.keys.push(key);
        seen += 1;
        // Reservoir sample (algorithm R), deterministic for the seed.
        if (seen as usize) <= sample_size {
            s.sample.extend_from_slice(&row);
        } else {
            let j = (rng.next() % seen) as usize;
            if j < sample_size {
                s.sample[j * dim..(j + 1) * dim].copy_from_slice(&row);
            }
        }
        if s.in_memory {
            if (s.data.len() + dim) * 4 > budget_bytes {
                s.in_memory = false;
                s.data = Vec::new();
            } else {
                s.data.extend_from_slice(&row);
            }
        }
    });
    s
}

/// Reads the source again and hands its vectors (checked, normalised for
/// cosine) to `each` in chunks of `CHUNK_ROWS`, for the passes mode.
fn for_each_chunk(query: &str, metric: Metric, dim: usize, mut each: impl FnMut(&[f32])) {
    let mut chunk = Vec::with_capacity(CHUNK_ROWS * dim);
    let mut d = dim;
    let mut flush = |chunk: &mut Vec<f32>| {
        if metric == Metric::Cosine {
            let _ = normalize_rows(chunk, dim);
        }
        each(chunk);
        chunk.clear();
    };
    scan_vectors(query, &mut |key, v| {
        check_row(key, v, &mut d, metric);
        chunk.extend_from_slice(v);
        if chunk.len() >= CHUNK_ROWS * dim {
            flush(&mut chunk);
            check_for_interrupts!();
        }
    });
    if !chunk.is_empty() {
        flush(&mut chunk);
    }
}

pub struct TrainArgs {
    pub k: Option<usize>,
    pub k_min: usize,
    pub k_max: usize,
    pub metric: Metric,
    pub n_init: usize,
    pub max_iter: usize,
    pub tol: f64,
    pub seed: u64,
    pub sample_size: usize,
    pub random_init: bool,
}

fn seeds(sample_or_data: &[f32], dim: usize, k: usize, a: &TrainArgs, seed: u64) -> Vec<f32> {
    let initial = if a.random_init {
        // k distinct rows chosen uniformly, as FAISS and scikit-learn's 'random' do.
        random_rows(sample_or_data, dim, k, a.metric, seed)
    } else {
        run_on_pool(|| kmeans_plus_plus(sample_or_data, dim, k, a.metric, seed))
    };
    initial.unwrap_or_else(|e| raise_cluster_error(e))
}

/// Inertia of an assignment: squared distances under L2, `1 - cos` under cosine.
fn final_inertia(all: &[Assignment], metric: Metric) -> f64 {
    all.iter().map(|x| if metric == Metric::L2 { f64::from(x.distance).powi(2) } else { f64::from(x.distance) }).sum()
}

fn converged(previous: Option<f64>, inertia: f64, moved: Option<usize>, tol: f64) -> bool {
    moved == Some(0) || previous.is_some_and(|p| (p - inertia).abs() <= tol * p)
}

/// Trains and returns centroids, assignments of every row, and figures.
pub fn train(query: &str, a: &TrainArgs, budget_bytes: usize) -> (Scan, Trained) {
    let started = Instant::now();
    let s = scan(query, a.metric, budget_bytes, a.sample_size, a.seed);
    let read_seconds = started.elapsed().as_secs_f64();
    let n = s.keys.len();
    if s.skipped > 0 {
        pgrx::notice!("kmeans_train: skipped {} rows with a NULL key or vector", s.skipped);
    }
    if n == 0 {
        return (s, Trained::empty());
    }
    if let Some(k) = a.k.filter(|&k| k > n) {
        bad(format!("k ({k}) is greater than the number of rows ({n})"));
    }
    let dim = s.dim;
    let mode = if s.in_memory { "in_memory" } else { "passes" };
    pgrx::notice!("kmeans_train: {n} rows of {dim} dimensions read in {read_seconds:.3} s, {mode}");
    let sample_n = s.sample.len() / dim;
    let mut candidates = Vec::new();
    let k = match a.k {
        Some(k) => k,
        None => {
            let k_max = a.k_max.min(sample_n);
            if k_max < a.k_min {
                bad(format!("k range {}..{} needs at least {} rows, got {sample_n}", a.k_min, a.k_max, a.k_min));
            }
            let config = KMeansConfig { k: a.k_min, max_iter: a.max_iter, tol: a.tol, n_init: 1, seed: a.seed, metric: a.metric };
            // One candidate k per call, so that cancel is noticed between them.
            let mut best_k = a.k_min;
            let mut best_silhouette = f64::NEG_INFINITY;
            for k in a.k_min..=k_max {
                check_for_interrupts!();
                let choice = run_on_pool(|| choose_k(&s.sample, dim, k, k, &config)).unwrap_or_else(|e| raise_cluster_error(e));
                for c in &choice.candidates {
                    pgrx::notice!("kmeans_train: k = {}: inertia {:.4}, silhouette {:.4}", c.k, c.inertia, c.silhouette);
                    // Ties go to the smaller k.
                    if c.silhouette > best_silhouette {
                        best_silhouette = c.silhouette;
                        best_k = c.k;
                    }
                    candidates.push((c.k, c.inertia, c.silhouette));
                }
            }
            pgrx::notice!("kmeans_train: chose k = {best_k} by silhouette on {sample_n} rows");
            best_k
        }
    };

    if !s.in_memory && k > sample_n {
        bad(format!("sample_size ({}) must be at least k ({k}) when training in passes", a.sample_size));
    }
    let mut best: Option<(Vec<f32>, f64, usize)> = None;
    let restarts = if s.in_memory { a.n_init } else { 1 };
    for restart in 0..restarts {
        let seed = a.seed.wrapping_add(restart as u64 * 0x9E37_79B9);
        let (centroids, inertia, iterations) = if s.in_memory {
            let initial = seeds(&s.data, dim, k, a, seed);
            let mut lloyd = Lloyd::new(&s.data, dim, initial, a.metric).unwrap_or_else(|e| raise_cluster_error(e));
            let mut previous = None;
            for _ in 0..a.max_iter {
                check_for_interrupts!();
                let t = Instant::now();
                let stats = run_on_pool(|| lloyd.step());
                pgrx::notice!(
                    "kmeans_train: run {}/{restarts}, iteration {}: inertia {:.6}, moved {}, {:.3} s",
                    restart + 1,
                    stats.iteration,
                    stats.inertia,
                    stats.moved,
                    t.elapsed().as_secs_f64()
                );
                if converged(previous, stats.inertia, Some(stats.moved), a.tol) {
                    break;
                }
                previous = Some(stats.inertia);
            }
            // Restarts are compared by the inertia of their final centroids;
            // a single run gets it from the final assignment below instead
            // (one pass over the rows fewer).
            let inertia = if restarts > 1 { run_on_pool(|| lloyd.relabel()) } else { f64::NAN };
            let iterations = lloyd.iteration();
            (lloyd.into_parts().0, inertia, iterations)
        } else {
            let mut centroids = seeds(&s.sample, dim, k, a, seed);
            let mut previous = None;
            let mut inertia = 0.0;
            let mut iterations = 0;
            for _ in 0..a.max_iter {
                let t = Instant::now();
                let mut acc = PassAccumulator::new(k, dim, a.metric).unwrap_or_else(|e| raise_cluster_error(e));
                for_each_chunk(query, a.metric, dim, |chunk| {
                    run_on_pool(|| acc.add_chunk(chunk, &centroids)).unwrap_or_else(|e| raise_cluster_error(e));
                });
                let out = acc.finish(&centroids).unwrap_or_else(|e| raise_cluster_error(e));
                iterations += 1;
                pgrx::notice!(
                    "kmeans_train: pass {iterations}: inertia {:.6}, max centroid shift {:.6}, {:.3} s",
                    out.inertia,
                    out.max_centroid_shift,
                    t.elapsed().as_secs_f64()
                );
                centroids = out.centroids;
                inertia = out.inertia;
                if converged(previous, out.inertia, None, a.tol) || out.max_centroid_shift == 0.0 {
                    break;
                }
                previous = Some(out.inertia);
            }
            (centroids, inertia, iterations)
        };
        if best.as_ref().is_none_or(|b| inertia < b.1 || b.1.is_nan()) {
            best = Some((centroids, inertia, iterations));
        }
    }
    let Some((centroids, _, iterations)) = best else { return (s, Trained::empty()) };

    // Final assignment of every row (nearest, second nearest).
    let assignments: Vec<Assignment> = if s.in_memory {
        run_on_pool(|| assign(&s.data, dim, &centroids, a.metric)).unwrap_or_else(|e| raise_cluster_error(e))
    } else {
        let mut all = Vec::with_capacity(n);
        for_each_chunk(query, a.metric, dim, |chunk| {
            all.extend(run_on_pool(|| assign(chunk, dim, &centroids, a.metric)).unwrap_or_else(|e| raise_cluster_error(e)));
        });
        all
    };
    let inertia = final_inertia(&assignments, a.metric);
    pgrx::debug1!("kmeans_train: assigned every row at {:.3} s", started.elapsed().as_secs_f64());
    let labels: Vec<u32> = assignments.iter().map(|x| x.label).collect();
    let distances: Vec<f32> = assignments.iter().map(|x| x.distance).collect();
    let spreads = cluster_spreads(&labels, &distances, k).unwrap_or_else(|e| raise_cluster_error(e));
    let sample_labels: Vec<u32> = run_on_pool(|| assign(&s.sample, dim, &centroids, a.metric))
        .unwrap_or_else(|e| raise_cluster_error(e))
        .iter()
        .map(|x| x.label)
        .collect();
    let sil = if k >= 2 && sample_n > k {
        run_on_pool(|| silhouette(&s.sample, dim, &sample_labels, k, a.metric)).ok()
    } else {
        None
    };
    pgrx::debug1!("kmeans_train: spreads and silhouette done at {:.3} s", started.elapsed().as_secs_f64());
    let trained = Trained {
        k,
        dim,
        centroids,
        assignments,
        spreads,
        inertia,
        silhouette: sil,
        iterations,
        mode,
        candidates,
        seconds: started.elapsed().as_secs_f64(),
    };
    (s, trained)
}
