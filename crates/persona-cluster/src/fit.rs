//! Whole fits for data that fits in memory: restarts, convergence, choice of k.

use crate::data::prepare_rows;
use crate::driver::{best_of_restarts, Restarts};
use crate::Hooks;
use crate::params::Init;
use crate::silhouette::silhouette;
use crate::{ClusterError, Metric};

/// Settings of [`fit`].
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansConfig {
    /// Number of clusters, at least 1 and at most the number of rows.
    pub k: usize,
    /// Most Lloyd steps per restart (at least 1).
    pub max_iter: usize,
    /// Stop when inertia changes by less than this fraction between steps.
    pub tol: f64,
    /// Restarts from fresh k-means++ seeds; the lowest inertia wins.
    pub n_init: usize,
    /// Seed of the first restart; the others derive from it.
    pub seed: u64,
    /// Distance used throughout.
    pub metric: Metric,
}

impl Default for KMeansConfig {
    /// scikit-learn's defaults: 300 steps, tolerance 1e-4, one k-means++ start.
    fn default() -> Self {
        KMeansConfig { k: 8, max_iter: 300, tol: 1e-4, n_init: 1, seed: 0, metric: Metric::L2 }
    }
}

/// Outcome of [`fit`].
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansResult {
    /// `k × dim`, row-major.
    pub centroids: Vec<f32>,
    /// Nearest centroid of each row, for the final centroids.
    pub labels: Vec<u32>,
    /// Inertia of `labels` against `centroids` (see [`IterationStats::inertia`](crate::IterationStats)).
    pub inertia: f64,
    /// Lloyd steps taken by the winning restart.
    pub iterations: usize,
    /// Which restart (0-based) won.
    pub n_init_best: usize,
}

impl KMeansConfig {
    /// Checks the settings that do not depend on the data.
    pub fn check(&self) -> Result<(), ClusterError> {
        if self.max_iter == 0 {
            return Err(ClusterError::InvalidParameter { name: "max_iter", reason: "must be at least 1" });
        }
        if self.n_init == 0 {
            return Err(ClusterError::InvalidParameter { name: "n_init", reason: "must be at least 1" });
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(ClusterError::InvalidParameter { name: "tol", reason: "must be a finite number >= 0" });
        }
        Ok(())
    }
}

/// K-means on in-memory rows: `n_init` restarts, each seeded by k-means++ and
/// run with Lloyd steps until no row changes cluster, the relative change in
/// inertia falls below `tol`, or `max_iter` steps. Keeps the restart with the
/// lowest final inertia (the earliest on ties). Deterministic for a seed.
/// The restarts are [`train`](crate::train)'s, without its callbacks.
pub fn fit(data: &[f32], dim: usize, config: &KMeansConfig) -> Result<KMeansResult, ClusterError> {
    config.check()?;
    let (rows, n) = prepare_rows(data, dim, config.metric)?;
    if config.k < 1 || config.k > n {
        return Err(ClusterError::InvalidK { k: config.k, rows: n });
    }
    let plan = Restarts {
        k: config.k,
        metric: config.metric,
        init: Init::KMeansPlusPlus,
        n_init: config.n_init,
        max_iter: config.max_iter,
        tol: config.tol,
        seed: config.seed,
        relabel_single: true,
    };
    let run = best_of_restarts(&rows, dim, &plan, &Hooks::NONE)?;
    Ok(KMeansResult {
        centroids: run.centroids,
        labels: run.labels,
        inertia: run.inertia,
        iterations: run.iterations,
        n_init_best: run.restart,
    })
}

/// Quality of one candidate number of clusters.
#[derive(Debug, Clone, PartialEq)]
pub struct KCandidate {
    /// Number of clusters tried.
    pub k: usize,
    /// Final inertia of the fit with this `k`.
    pub inertia: f64,
    /// Mean silhouette of that fit over the sample.
    pub silhouette: f64,
}

/// The candidates of [`choose_k`] and the winner.
#[derive(Debug, Clone, PartialEq)]
pub struct KChoice {
    /// One entry per `k`, ascending.
    pub candidates: Vec<KCandidate>,
    /// The `k` with the highest silhouette (the smallest such `k` on ties).
    pub best_k: usize,
}

/// Fits every `k` in `k_min..=k_max` on `sample` (with `config`, whose `k` is
/// ignored) and scores each by mean silhouette. Silhouette needs at least 2
/// clusters and fewer clusters than rows, so `2 <= k_min <= k_max < rows`.
/// The cost is one O(rows²) silhouette per `k`: pass a sample of a few
/// thousand rows, not a table.
pub fn choose_k(sample: &[f32], dim: usize, k_min: usize, k_max: usize, config: &KMeansConfig) -> Result<KChoice, ClusterError> {
    config.check()?;
    let (rows, n) = prepare_rows(sample, dim, config.metric)?;
    if k_min < 2 || k_min > k_max {
        return Err(ClusterError::InvalidParameter { name: "k range", reason: "need 2 <= k_min <= k_max" });
    }
    if k_max >= n {
        return Err(ClusterError::InvalidK { k: k_max, rows: n });
    }
    let mut candidates = Vec::with_capacity(k_max - k_min + 1);
    for k in k_min..=k_max {
        let result = fit(&rows, dim, &KMeansConfig { k, ..config.clone() })?;
        let score = silhouette(&rows, dim, &result.labels, k, config.metric)?;
        candidates.push(KCandidate { k, inertia: result.inertia, silhouette: score });
    }
    let mut best = 0;
    for (i, candidate) in candidates.iter().enumerate() {
        // Strictly greater, so ties keep the smaller k.
        if candidate.silhouette > candidates[best].silhouette {
            best = i;
        }
    }
    Ok(KChoice { best_k: candidates[best].k, candidates })
}
