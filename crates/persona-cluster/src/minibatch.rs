//! Mini-batch k-means (Sculley 2010, "Web-scale k-means clustering").

use crate::accumulate::{accumulate, PassTargets};
use crate::data::{centroid_count, prepare_rows};
use crate::kernel::Prepared;
use crate::{ClusterError, Metric};

/// Centroids trained from a stream of small batches.
///
/// Each batch is assigned to the current centroids; then every centroid `c`
/// with `m` new members of sum `s` and `v` members seen before becomes
/// `(v c + s) / (v + m)`. That is Sculley's per-row gradient step with
/// learning rate `1 / count` applied to the whole batch at once, and makes
/// each centroid the running mean of all rows ever assigned to it. Under
/// Cosine the centroid is renormalised after the update. A centroid that
/// never wins a row stays where it was seeded, so seed with k-means++ on a
/// sample.
#[derive(Debug, Clone)]
pub struct MiniBatch {
    k: usize,
    dim: usize,
    metric: Metric,
    /// Running means in `f64`, so that late, tiny steps are not rounded away.
    means: Vec<f64>,
    centroids: Vec<f32>,
    counts: Vec<u64>,
    batches: usize,
}

impl MiniBatch {
    /// Starts from `centroids` (`k × dim`, at least one).
    pub fn new(centroids: Vec<f32>, dim: usize, metric: Metric) -> Result<Self, ClusterError> {
        let k = centroid_count(&centroids, dim)?;
        let centroids = prepare_rows(&centroids, dim, metric)?.0.into_owned();
        let means = centroids.iter().map(|&x| f64::from(x)).collect();
        Ok(MiniBatch { k, dim, metric, means, centroids, counts: vec![0; k], batches: 0 })
    }

    /// Assigns `batch` and moves the centroids; returns the batch's inertia
    /// against the centroids before the move.
    pub fn update(&mut self, batch: &[f32]) -> Result<f64, ClusterError> {
        let (rows, _) = prepare_rows(batch, self.dim, self.metric)?;
        let prepared = Prepared::new(&self.centroids, self.k, self.dim, self.metric);
        let partial = accumulate(
            &prepared,
            &rows,
            PassTargets { norms: None, labels: None, distances: None, first_order: 0, far_capacity: 0 },
        );
        let dim = self.dim;
        for j in 0..self.k {
            let added = partial.counts[j];
            if added == 0 {
                continue;
            }
            let before = self.counts[j];
            let total = (before + added) as f64;
            let mean = &mut self.means[j * dim..(j + 1) * dim];
            for (m, &s) in mean.iter_mut().zip(&partial.sums[j * dim..(j + 1) * dim]) {
                *m = (*m * before as f64 + s) / total;
            }
            self.counts[j] += added;
            if self.metric == Metric::Cosine {
                // Spherical: the running mean itself is kept on the sphere.
                let norm = mean.iter().map(|m| m * m).sum::<f64>().sqrt();
                if norm > 0.0 {
                    mean.iter_mut().for_each(|m| *m /= norm);
                }
            }
            for (c, &m) in self.centroids[j * dim..(j + 1) * dim].iter_mut().zip(mean.iter()) {
                *c = m as f32;
            }
        }
        self.batches += 1;
        Ok(partial.inertia)
    }

    /// Current centroids, `k × dim`.
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// Rows assigned to each centroid so far.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Batches applied so far.
    pub fn batches(&self) -> usize {
        self.batches
    }

    /// Takes the centroids out.
    pub fn into_centroids(self) -> Vec<f32> {
        self.centroids
    }
}
