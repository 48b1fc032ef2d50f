//! The one K-Means driver: restarts, convergence, choice of k, and the final
//! assignment, over rows in memory or read in passes.
//!
//! [`fit`](crate::fit) and [`train`] both run their restarts through
//! [`best_of_restarts`], so restart seeds and the stopping rule are the same
//! everywhere.

use std::time::Instant;

use crate::data::{normalize_rows, prepare_rows};
use crate::lloyd::{inertia_settled, Lloyd};
use crate::params::{Init, ValidTrainParams};
use crate::pass::PassAccumulator;
use crate::rng::derive_seed;
use crate::seeding::{floyd_rows, greedy_plus_plus};
use crate::{assign, choose_k, cluster_spreads, silhouette, Assignment, ClusterError, Hooks, KCandidate, KMeansConfig, Metric, RowSource, Spread};

/// What [`train`] reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress {
    /// The rows are known and k fits them; training starts.
    Started {
        /// Rows of the source.
        rows: usize,
        /// Values per row.
        dim: usize,
        /// Whether the rows are in memory (otherwise: one pass per step).
        in_memory: bool,
    },
    /// One candidate k was fitted on the sample.
    Candidate {
        /// The k.
        k: usize,
        /// Final inertia of its fit.
        inertia: f64,
        /// Mean silhouette of its fit.
        silhouette: f64,
    },
    /// k was chosen by silhouette.
    ChoseK {
        /// The k.
        k: usize,
        /// Rows of the sample it was chosen on.
        sample_rows: usize,
    },
    /// One Lloyd step in memory.
    Iteration {
        /// Restart, from 1.
        run: usize,
        /// Restarts in all.
        runs: usize,
        /// Step within the restart, from 1.
        iteration: usize,
        /// Inertia of the step's assignment.
        inertia: f64,
        /// Rows that changed cluster.
        moved: usize,
        /// Wall time of the step.
        seconds: f64,
    },
    /// One Lloyd step as a pass over the source.
    Pass {
        /// Pass, from 1.
        pass: usize,
        /// Inertia of the pass's assignment.
        inertia: f64,
        /// Largest distance a centroid moved.
        max_centroid_shift: f64,
        /// Wall time of the pass.
        seconds: f64,
    },
    /// Every row has its final assignment.
    Assigned,
    /// Spreads and the silhouette are done: training is over.
    Scored,
}

/// A trained segmentation of every row of a source.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    /// Number of clusters.
    pub k: usize,
    /// Values per row.
    pub dim: usize,
    /// `k × dim`, row-major.
    pub centroids: Vec<f32>,
    /// Every row's nearest and second-nearest centroid, in source order.
    pub assignments: Vec<Assignment>,
    /// Each cluster's distance spread (`None` for a cluster without rows).
    pub spreads: Vec<Option<Spread>>,
    /// Inertia of `assignments`.
    pub inertia: f64,
    /// Mean silhouette over the sample, when it has more rows than clusters (and k >= 2).
    pub silhouette: Option<f64>,
    /// Steps (or passes) of the winning restart.
    pub iterations: usize,
    /// Whether the rows were in memory.
    pub in_memory: bool,
    /// The candidates tried when k was chosen (empty when it was given).
    pub candidates: Vec<KCandidate>,
}

/// Seed of restart `index` of a run seeded with `seed`.
pub(crate) fn restart_seed(seed: u64, index: usize) -> u64 {
    if index == 0 {
        seed
    } else {
        derive_seed(seed, index as u64)
    }
}

/// Initial centroids from checked, prepared rows; `1 <= k <= rows`.
fn initial_centroids(rows: &[f32], dim: usize, k: usize, metric: Metric, init: Init, seed: u64) -> Vec<f32> {
    match init {
        Init::KMeansPlusPlus => greedy_plus_plus(rows, dim, k, metric, seed),
        Init::Random => floyd_rows(rows, dim, k, seed),
    }
}

/// What [`best_of_restarts`] runs.
pub(crate) struct Restarts {
    pub k: usize,
    pub metric: Metric,
    pub init: Init,
    pub n_init: usize,
    pub max_iter: usize,
    pub tol: f64,
    pub seed: u64,
    /// Bring labels and inertia up to date after a single restart too; with
    /// several they always are, to compare the restarts.
    pub relabel_single: bool,
}

/// The restart that won.
pub(crate) struct Run {
    pub centroids: Vec<f32>,
    pub labels: Vec<u32>,
    /// NaN for a single restart that was not relabelled.
    pub inertia: f64,
    pub iterations: usize,
    pub restart: usize,
}

/// Lloyd from `n_init` seeds on checked, prepared rows; the lowest final
/// inertia wins (the earliest on ties).
pub(crate) fn best_of_restarts(rows: &[f32], dim: usize, r: &Restarts, hooks: &Hooks<'_>) -> Result<Run, ClusterError> {
    let n = rows.len() / dim.max(1);
    if r.k < 1 || r.k > n {
        return Err(ClusterError::InvalidK { k: r.k, rows: n });
    }
    let mut best: Option<Run> = None;
    for restart in 0..r.n_init {
        let seed = restart_seed(r.seed, restart);
        let initial = hooks.run(|| initial_centroids(rows, dim, r.k, r.metric, r.init, seed))?;
        let mut lloyd = Lloyd::new(rows, dim, initial, r.metric)?;
        let mut previous = None;
        for _ in 0..r.max_iter {
            hooks.check()?;
            let t = Instant::now();
            let stats = hooks.run(|| lloyd.step())?;
            (hooks.progress)(Progress::Iteration {
                run: restart + 1,
                runs: r.n_init,
                iteration: stats.iteration,
                inertia: stats.inertia,
                moved: stats.moved,
                seconds: t.elapsed().as_secs_f64(),
            });
            if stats.converged(previous, r.tol) {
                break;
            }
            previous = Some(stats.inertia);
        }
        // Restarts are compared by the inertia of their final centroids; a
        // caller of a single one may get it from its own final assignment.
        let inertia = if r.n_init > 1 || r.relabel_single { hooks.run(|| lloyd.relabel())? } else { f64::NAN };
        let iterations = lloyd.iteration();
        if best.as_ref().is_none_or(|b| inertia < b.inertia || b.inertia.is_nan()) {
            let (centroids, labels) = lloyd.into_parts();
            best = Some(Run { centroids, labels, inertia, iterations, restart });
        }
    }
    best.ok_or(ClusterError::EmptyData)
}

/// `chunk` as the metric needs it: a normalised copy under Cosine.
fn prepared_chunk<'c>(chunk: &'c [f32], dim: usize, metric: Metric, scratch: &'c mut Vec<f32>) -> Result<&'c [f32], ClusterError> {
    if metric == Metric::L2 {
        return Ok(chunk);
    }
    scratch.clear();
    scratch.extend_from_slice(chunk);
    normalize_rows(scratch, dim)?;
    Ok(scratch)
}

/// One restart of exact Lloyd, one pass over the source per step, seeded
/// from the sample. Returns the centroids and the passes taken.
fn lloyd_in_passes(source: &dyn RowSource, sample: &[f32], k: usize, p: &ValidTrainParams, hooks: &Hooks<'_>) -> Result<(Vec<f32>, usize), ClusterError> {
    let (dim, metric) = (source.dim(), p.metric);
    let seed = restart_seed(p.seed, 0);
    let mut centroids = hooks.run(|| initial_centroids(sample, dim, k, metric, p.init, seed))?;
    let mut previous = None;
    let mut passes = 0;
    let mut scratch = Vec::new();
    while passes < p.max_iter {
        hooks.check()?;
        let t = Instant::now();
        let mut acc = PassAccumulator::new(k, dim, metric)?;
        source.pass(&mut |chunk| {
            let rows = prepared_chunk(chunk, dim, metric, &mut scratch)?;
            hooks.run(|| acc.add_chunk(rows, &centroids))??;
            hooks.check()
        })?;
        let out = acc.finish(&centroids)?;
        passes += 1;
        (hooks.progress)(Progress::Pass {
            pass: passes,
            inertia: out.inertia,
            max_centroid_shift: out.max_centroid_shift,
            seconds: t.elapsed().as_secs_f64(),
        });
        centroids = out.centroids;
        if inertia_settled(previous, out.inertia, p.tol) || out.max_centroid_shift == 0.0 {
            break;
        }
        previous = Some(out.inertia);
    }
    Ok((centroids, passes))
}

fn invalid(message: String) -> ClusterError {
    ClusterError::InvalidSetting(message)
}

/// Picks k in `k_min..=k_max` by silhouette on the sample, one fit per k (so
/// that a stop is noticed between them). Ties go to the smaller k.
fn choose_k_on(sample: &[f32], dim: usize, p: &ValidTrainParams, hooks: &Hooks<'_>) -> Result<(usize, Vec<KCandidate>), ClusterError> {
    let sample_n = sample.len() / dim;
    let k_max = p.k_max.min(sample_n);
    if k_max < p.k_min {
        return Err(invalid(format!("k range {}..{} needs at least {} rows, got {sample_n}", p.k_min, p.k_max, p.k_min)));
    }
    let config = KMeansConfig { k: p.k_min, max_iter: p.max_iter, tol: p.tol, n_init: 1, seed: p.seed, metric: p.metric };
    let mut best = (p.k_min, f64::NEG_INFINITY);
    let mut candidates = Vec::new();
    for k in p.k_min..=k_max {
        hooks.check()?;
        let choice = hooks.run(|| choose_k(sample, dim, k, k, &config))??;
        for c in choice.candidates {
            (hooks.progress)(Progress::Candidate { k: c.k, inertia: c.inertia, silhouette: c.silhouette });
            if c.silhouette > best.1 {
                best = (c.k, c.silhouette);
            }
            candidates.push(c);
        }
    }
    (hooks.progress)(Progress::ChoseK { k: best.0, sample_rows: sample_n });
    Ok((best.0, candidates))
}

/// Trains K-Means on every row of `source`: chooses k on the sample when it
/// is not given, runs `n_init` restarts in memory (one restart, one pass per
/// step, when the rows are not in memory), assigns every row to the winning
/// centroids, and measures each cluster's spread and the sample's silhouette.
/// Deterministic for a seed; the results do not depend on the thread count
/// nor, beyond rounding, on whether the rows were in memory.
pub fn train(source: &dyn RowSource, params: &ValidTrainParams, hooks: &Hooks<'_>) -> Result<Segmentation, ClusterError> {
    let (n, dim, metric) = (source.rows(), source.dim(), params.metric);
    if n == 0 {
        return Err(ClusterError::EmptyData);
    }
    if dim == 0 {
        return Err(ClusterError::ZeroDimension);
    }
    if let Some(k) = params.k.filter(|&k| k > n) {
        return Err(invalid(format!("k ({k}) is greater than the number of rows ({n})")));
    }
    let in_memory = source.in_memory().is_some();
    (hooks.progress)(Progress::Started { rows: n, dim, in_memory });
    let (sample, sample_n) = prepare_rows(source.sample(), dim, metric)?;
    let (k, candidates) = match params.k {
        Some(k) => (k, Vec::new()),
        None => choose_k_on(&sample, dim, params, hooks)?,
    };
    if !in_memory && k > sample_n {
        return Err(invalid(format!("sample_size ({}) must be at least k ({k}) when training in passes", params.sample_size)));
    }

    let mut scratch = Vec::new();
    let (centroids, iterations, assignments) = match source.in_memory() {
        Some(data) => {
            let (rows, _) = prepare_rows(data, dim, metric)?;
            let plan = Restarts {
                k,
                metric,
                init: params.init,
                n_init: params.n_init,
                max_iter: params.max_iter,
                tol: params.tol,
                seed: params.seed,
                relabel_single: false,
            };
            let run = best_of_restarts(&rows, dim, &plan, hooks)?;
            let assignments = hooks.run(|| assign(&rows, dim, &run.centroids, metric))??;
            (run.centroids, run.iterations, assignments)
        }
        None => {
            let (centroids, passes) = lloyd_in_passes(source, &sample, k, params, hooks)?;
            let mut all = Vec::with_capacity(n);
            source.pass(&mut |chunk| {
                let rows = prepared_chunk(chunk, dim, metric, &mut scratch)?;
                all.extend(hooks.run(|| assign(rows, dim, &centroids, metric))??);
                hooks.check()
            })?;
            (centroids, passes, all)
        }
    };
    if assignments.len() != n {
        return Err(ClusterError::SourceChanged { expected: n, got: assignments.len() });
    }
    (hooks.progress)(Progress::Assigned);
    let inertia: f64 = assignments
        .iter()
        .map(|x| if metric == Metric::L2 { f64::from(x.distance).powi(2) } else { f64::from(x.distance) })
        .sum();
    let labels: Vec<u32> = assignments.iter().map(|x| x.label).collect();
    let distances: Vec<f32> = assignments.iter().map(|x| x.distance).collect();
    let spreads = cluster_spreads(&labels, &distances, k)?;
    let sample_labels: Vec<u32> = hooks.run(|| assign(&sample, dim, &centroids, metric))??.iter().map(|x| x.label).collect();
    let silhouette = if k >= 2 && sample_n > k {
        hooks.run(|| silhouette(&sample, dim, &sample_labels, k, metric))?.ok()
    } else {
        None
    };
    (hooks.progress)(Progress::Scored);
    Ok(Segmentation { k, dim, centroids, assignments, spreads, inertia, silhouette, iterations, in_memory, candidates })
}
