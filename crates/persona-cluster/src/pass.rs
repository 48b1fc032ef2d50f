//! Exact Lloyd steps over data that does not fit in memory: one pass over the
//! table per step, fed in chunks.

use crate::accumulate::{accumulate, update_centroids, Partial, PassTargets};
use crate::data::{check_centroids, prepare_rows};
use crate::kernel::Prepared;
use crate::{ClusterError, Metric};

/// Accumulates one Lloyd step over rows that arrive in chunks.
///
/// Feed every row of the table once with [`add_chunk`](Self::add_chunk),
/// always with the same centroids, then call [`finish`](Self::finish): the
/// result is the step [`Lloyd::step`](crate::Lloyd::step) would take on the
/// whole table, including the re-seeding of empty clusters (the accumulator
/// keeps copies of the `k` rows farthest from their centroids for that).
/// Sums are kept in `f64`; chunking only changes how they are grouped, which
/// does not show in the `f32` centroids short of a one-in-millions rounding
/// tie.
#[derive(Debug, Clone)]
pub struct PassAccumulator {
    k: usize,
    dim: usize,
    metric: Metric,
    partial: Partial,
    rows_seen: u64,
    prepared: Option<(Vec<f32>, Prepared)>,
}

/// Outcome of one out-of-core pass.
#[derive(Debug, Clone, PartialEq)]
pub struct PassOutcome {
    /// Updated centroids, `k × dim`.
    pub centroids: Vec<f32>,
    /// Inertia of the pass's assignment (see [`crate::IterationStats::inertia`]).
    pub inertia: f64,
    /// Clusters that received no row (ascending); each was re-seeded with a
    /// far row where one could be spared, or kept its old centroid.
    pub empty_clusters: Vec<usize>,
    /// Largest Euclidean distance a centroid moved.
    pub max_centroid_shift: f64,
    /// Rows seen in the pass.
    pub rows: u64,
}

impl PassAccumulator {
    /// An empty pass for `k` clusters of `dim`-dimensional rows.
    pub fn new(k: usize, dim: usize, metric: Metric) -> Result<Self, ClusterError> {
        if dim == 0 {
            return Err(ClusterError::ZeroDimension);
        }
        if k == 0 {
            return Err(ClusterError::InvalidK { k, rows: 0 });
        }
        if k.checked_mul(dim).is_none() {
            return Err(ClusterError::InvalidParameter { name: "k", reason: "k × dim does not fit in memory" });
        }
        Ok(PassAccumulator { k, dim, metric, partial: Partial::new(k, dim, k), rows_seen: 0, prepared: None })
    }

    /// Assigns the rows of one chunk to the nearest of `centroids` and adds
    /// them to the per-cluster sums. Returns the chunk's inertia. Under
    /// Cosine rows and centroids are normalised on the fly.
    pub fn add_chunk(&mut self, rows: &[f32], centroids: &[f32]) -> Result<f64, ClusterError> {
        let (rows, n) = prepare_rows(rows, self.dim, self.metric)?;
        check_centroids(centroids, self.k, self.dim)?;
        // Every chunk of a pass uses the same centroids: lay them out once.
        let (cached, prepared) = match self.prepared.take() {
            Some((cached, prepared)) if cached.as_slice() == centroids => (cached, prepared),
            _ => {
                let unit = prepare_rows(centroids, self.dim, self.metric)?.0;
                (centroids.to_vec(), Prepared::new(&unit, self.k, self.dim, self.metric))
            }
        };
        let chunk = accumulate(
            &prepared,
            &rows,
            PassTargets { norms: None, labels: None, distances: None, first_order: self.rows_seen, far_capacity: self.k },
        );
        self.prepared = Some((cached, prepared));
        let inertia = chunk.inertia;
        self.partial.merge(chunk);
        self.rows_seen += n as u64;
        Ok(inertia)
    }

    /// Rows added so far.
    pub fn rows_seen(&self) -> u64 {
        self.rows_seen
    }

    /// New centroids from the pass. `old_centroids` are the centroids the
    /// chunks were assigned with: empty clusters that cannot be re-seeded keep
    /// theirs, and the shift is measured from them. Fails if the pass saw
    /// fewer rows than clusters.
    pub fn finish(self, old_centroids: &[f32]) -> Result<PassOutcome, ClusterError> {
        check_centroids(old_centroids, self.k, self.dim)?;
        if self.rows_seen < self.k as u64 {
            let rows = usize::try_from(self.rows_seen).unwrap_or(usize::MAX);
            return Err(ClusterError::InvalidK { k: self.k, rows });
        }
        let old = prepare_rows(old_centroids, self.dim, self.metric)?.0;
        let inertia = self.partial.inertia;
        let update = update_centroids(self.partial, &old, self.metric);
        Ok(PassOutcome {
            centroids: update.centroids,
            inertia,
            empty_clusters: update.empty_clusters,
            max_centroid_shift: update.max_shift,
            rows: self.rows_seen,
        })
    }
}
