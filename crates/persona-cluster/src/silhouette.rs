//! Mean silhouette coefficient (Rousseeuw 1987) of a labelled sample.

use rayon::prelude::*;

use crate::data::{prepare_rows, row_sq_norms};
use crate::kernel::{Prepared, RowSink};
use crate::{ClusterError, Metric};

/// Rows per parallel task: small, because every row costs a full pass over
/// the sample.
const TASK_ROWS: usize = 64;

/// Mean silhouette over all rows of `sample`, in `[-1, 1]`; higher means
/// tighter, better separated clusters.
///
/// For row `i` with mean distance `a` to the other members of its cluster and
/// smallest mean distance `b` to the members of another non-empty cluster,
/// `s(i) = (b - a) / max(a, b)`, and 0 for a row alone in its cluster (as in
/// scikit-learn). Distances are Euclidean (not squared) under L2 and `1 - cos`
/// under Cosine. With fewer than two non-empty clusters the coefficient is
/// undefined and 0 is returned. Costs O(rows² · dim): meant for a sample of a
/// few thousand rows.
pub fn silhouette(sample: &[f32], dim: usize, labels: &[u32], k: usize, metric: Metric) -> Result<f64, ClusterError> {
    let (rows, n) = prepare_rows(sample, dim, metric)?;
    if labels.len() != n {
        return Err(ClusterError::LengthMismatch { left: n, right: labels.len() });
    }
    if k == 0 {
        return Err(ClusterError::InvalidK { k, rows: n });
    }
    if let Some(&label) = labels.iter().find(|&&l| l as usize >= k) {
        return Err(ClusterError::LabelOutOfRange { label, k });
    }
    let mut sizes = vec![0usize; k];
    for &l in labels {
        sizes[l as usize] += 1;
    }
    if sizes.iter().filter(|&&s| s > 0).count() < 2 {
        return Ok(0.0);
    }
    let norms = row_sq_norms(&rows, dim);
    // Every row of the sample plays the part of a centroid.
    let prepared = Prepared::new(&rows, n, dim, metric);
    let task_sums: Vec<f64> = rows
        .par_chunks(TASK_ROWS * dim)
        .enumerate()
        .map(|(task, task_rows)| {
            let mut sink = SilhouetteSink {
                prepared: &prepared,
                first_row: task * TASK_ROWS,
                labels,
                sizes: &sizes,
                norms: &norms,
                cluster_sums: vec![0.0; k],
                total: 0.0,
            };
            prepared.scan(task_rows, &mut sink);
            sink.total
        })
        .collect();
    // Summed in task order so the result does not depend on the thread count.
    Ok(task_sums.iter().sum::<f64>() / n as f64)
}

struct SilhouetteSink<'a> {
    prepared: &'a Prepared,
    first_row: usize,
    labels: &'a [u32],
    sizes: &'a [usize],
    norms: &'a [f32],
    cluster_sums: Vec<f64>,
    total: f64,
}

impl RowSink for SilhouetteSink<'_> {
    fn row(&mut self, index: usize, _row: &[f32], scores: &[f32]) {
        let i = self.first_row + index;
        let own = self.labels[i] as usize;
        if self.sizes[own] < 2 {
            return;
        }
        self.cluster_sums.fill(0.0);
        let norm = self.norms[i];
        for (j, (&label, &score)) in self.labels.iter().zip(scores).enumerate() {
            if j != i {
                self.cluster_sums[label as usize] += f64::from(self.prepared.distance(norm, score));
            }
        }
        let a = self.cluster_sums[own] / (self.sizes[own] - 1) as f64;
        let b = self
            .cluster_sums
            .iter()
            .zip(self.sizes)
            .enumerate()
            .filter(|&(c, (_, &size))| c != own && size > 0)
            .map(|(_, (&sum, &size))| sum / size as f64)
            .fold(f64::INFINITY, f64::min);
        let scale = a.max(b);
        if scale > 0.0 {
            self.total += (b - a) / scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_hand_computed_value() {
        // Clusters {0, 1} and {4}: the singleton scores 0. Row 0: a = 1,
        // b = 4, s = 3/4. Row 1: a = 1, b = 3, s = 2/3.
        let data = [0.0, 1.0, 4.0];
        let s = silhouette(&data, 1, &[0, 0, 1], 2, Metric::L2).unwrap();
        let expected = (0.75 + 2.0 / 3.0) / 3.0;
        assert!((s - expected).abs() < 1e-6, "{s} vs {expected}");
    }

    #[test]
    fn one_cluster_scores_zero_and_bad_labels_fail() {
        assert_eq!(silhouette(&[0.0, 1.0], 1, &[0, 0], 1, Metric::L2), Ok(0.0));
        assert!(matches!(silhouette(&[0.0, 1.0], 1, &[0, 3], 2, Metric::L2), Err(ClusterError::LabelOutOfRange { .. })));
        assert!(matches!(silhouette(&[0.0, 1.0], 1, &[0], 2, Metric::L2), Err(ClusterError::LengthMismatch { .. })));
    }
}
