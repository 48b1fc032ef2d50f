//! In-memory Lloyd iterations, one per call so the caller can report progress
//! and check for interrupts in between.

use std::borrow::Cow;

use crate::accumulate::{accumulate, update_centroids, PassTargets};
use crate::data::{centroid_count, inspect_rows, normalize_rows, prepare_rows, row_sq_norms};
use crate::kernel::Prepared;
use crate::{ClusterError, Metric};

/// Label of a row not assigned yet, so the first step counts every row as moved.
const UNASSIGNED: u32 = u32::MAX;

/// What one Lloyd step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterationStats {
    /// 1 for the first step.
    pub iteration: usize,
    /// Inertia of the assignment made in this step, i.e. measured against the
    /// centroids the step started from: the sum of squared Euclidean
    /// distances under L2, the sum of `1 - cos` under Cosine.
    pub inertia: f64,
    /// Rows whose label changed (every row on the first step).
    pub moved: usize,
    /// Largest Euclidean distance a centroid moved in the update.
    pub max_centroid_shift: f64,
    /// Clusters that got no row in the assignment (each re-seeded if possible).
    pub empty_clusters: usize,
}

impl IterationStats {
    /// The stopping rule of [`fit`](crate::fit): no row moved, or inertia
    /// changed by at most `tol` relative to `previous_inertia` (the inertia
    /// of the step before; `None` on the first step).
    pub fn converged(&self, previous_inertia: Option<f64>, tol: f64) -> bool {
        self.moved == 0 || inertia_settled(previous_inertia, self.inertia, tol)
    }
}

/// Inertia changed by at most `tol` relative to the step before (`None` on
/// the first step): the stopping rule shared by in-memory steps and passes.
pub(crate) fn inertia_settled(previous: Option<f64>, inertia: f64, tol: f64) -> bool {
    previous.is_some_and(|before| (before - inertia).abs() <= tol * before)
}

/// Exact Lloyd k-means over data held in memory.
///
/// Each [`step`](Lloyd::step) assigns every row to its nearest centroid, then
/// moves each centroid to the mean of its rows (renormalised to unit length
/// under Cosine: spherical k-means). A cluster left empty is re-seeded with
/// the row farthest from its own centroid, taken from a cluster that keeps at
/// least one member; that row is relabelled to the empty cluster.
///
/// After a step, [`labels`](Lloyd::labels) and [`distances`](Lloyd::distances)
/// describe the assignment of that step (to the centroids it started from),
/// while [`centroids`](Lloyd::centroids) are the updated ones; call
/// [`relabel`](Lloyd::relabel) to bring the labels up to date at the end.
#[derive(Debug, Clone)]
pub struct Lloyd<'a> {
    data: Cow<'a, [f32]>,
    dim: usize,
    k: usize,
    metric: Metric,
    centroids: Vec<f32>,
    norms: Vec<f32>,
    labels: Vec<u32>,
    distances: Vec<f32>,
    iteration: usize,
}

impl<'a> Lloyd<'a> {
    /// Starts from `centroids` (`k × dim`, e.g. from
    /// [`kmeans_plus_plus`](crate::kmeans_plus_plus)), borrowing the rows.
    /// Under Cosine, rows and centroids that are not unit length are
    /// normalised (the rows into a private copy).
    pub fn new(data: &'a [f32], dim: usize, centroids: Vec<f32>, metric: Metric) -> Result<Self, ClusterError> {
        let (data, n) = prepare_rows(data, dim, metric)?;
        Lloyd::with_rows(data, n, dim, centroids, metric)
    }

    /// Like [`new`](Lloyd::new), but owns the rows, so the state can be kept
    /// between calls without borrowing; under Cosine they are normalised in
    /// place.
    pub fn from_vec(mut data: Vec<f32>, dim: usize, centroids: Vec<f32>, metric: Metric) -> Result<Lloyd<'static>, ClusterError> {
        let (n, needs_normalising) = inspect_rows(&data, dim, metric)?;
        if needs_normalising {
            normalize_rows(&mut data, dim)?;
        }
        Lloyd::with_rows(Cow::Owned(data), n, dim, centroids, metric)
    }

    fn with_rows(data: Cow<'a, [f32]>, n: usize, dim: usize, centroids: Vec<f32>, metric: Metric) -> Result<Self, ClusterError> {
        let k = centroid_count(&centroids, dim)?;
        if k > n {
            return Err(ClusterError::InvalidK { k, rows: n });
        }
        let centroids = prepare_rows(&centroids, dim, metric)?.0.into_owned();
        let norms = match metric {
            Metric::L2 => row_sq_norms(&data, dim),
            Metric::Cosine => Vec::new(),
        };
        Ok(Lloyd {
            data,
            dim,
            k,
            metric,
            centroids,
            norms,
            labels: vec![UNASSIGNED; n],
            distances: vec![0.0; n],
            iteration: 0,
        })
    }

    /// One assignment and one centroid update.
    pub fn step(&mut self) -> IterationStats {
        let prepared = Prepared::new(&self.centroids, self.k, self.dim, self.metric);
        let partial = accumulate(
            &prepared,
            &self.data,
            PassTargets {
                norms: (self.metric == Metric::L2).then_some(&self.norms[..]),
                labels: Some(&mut self.labels),
                distances: Some(&mut self.distances),
                first_order: 0,
                far_capacity: self.k,
            },
        );
        let (inertia, moved) = (partial.inertia, partial.moved);
        let update = update_centroids(partial, &self.centroids, self.metric);
        for &(row, label) in &update.relocated {
            // The row now sits on its own centroid.
            self.labels[row as usize] = label;
            self.distances[row as usize] = 0.0;
        }
        self.centroids = update.centroids;
        self.iteration += 1;
        IterationStats {
            iteration: self.iteration,
            inertia,
            moved,
            max_centroid_shift: update.max_shift,
            empty_clusters: update.empty_clusters.len(),
        }
    }

    /// Reassigns every row to the current centroids without moving them and
    /// returns the inertia of that assignment.
    pub fn relabel(&mut self) -> f64 {
        let prepared = Prepared::new(&self.centroids, self.k, self.dim, self.metric);
        let partial = accumulate(
            &prepared,
            &self.data,
            PassTargets {
                norms: (self.metric == Metric::L2).then_some(&self.norms[..]),
                labels: Some(&mut self.labels),
                distances: Some(&mut self.distances),
                first_order: 0,
                far_capacity: 0,
            },
        );
        partial.inertia
    }

    /// Cluster of each row, from the latest assignment.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// Distance of each row to its cluster's centroid at assignment time:
    /// Euclidean under L2, `1 - cos` under Cosine.
    pub fn distances(&self) -> &[f32] {
        &self.distances
    }

    /// Current centroids, `k × dim` row-major.
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Steps taken so far.
    pub fn iteration(&self) -> usize {
        self.iteration
    }

    /// Takes the centroids and labels out.
    pub fn into_parts(self) -> (Vec<f32>, Vec<u32>) {
        (self.centroids, self.labels)
    }
}
