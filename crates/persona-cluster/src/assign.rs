//! Scoring rows against trained centroids.

use rayon::prelude::*;

use crate::data::{centroid_count, inspect_rows, normalize_rows, prepare_rows, reported_distance};
use crate::kernel::{Prepared, RowSink};
use crate::nearest::{argmin, argmin_except};
use crate::{ClusterError, Metric};

/// Rows per parallel task.
const TASK_ROWS: usize = 4096;

/// A row's nearest centroid and its margin to the next one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assignment {
    /// Index of the nearest centroid.
    pub label: u32,
    /// Distance to it: Euclidean under L2, `1 - cos` under Cosine.
    pub distance: f32,
    /// Distance to the second-nearest centroid; `+inf` when there is only one.
    pub second_distance: f32,
}

/// Nearest and second-nearest centroid of every row of `rows`.
///
/// Candidates come from the fast blocked kernel; the two reported distances
/// are then recomputed directly from the coordinates, so that they are exact
/// even for rows very close to a centroid (where the expanded form
/// `||x||² - 2x·c + ||c||²` loses digits). Under Cosine rows and centroids
/// are normalised first (rows a task at a time, so a table of rows that are
/// not unit length is never copied whole). Ties go to the lower centroid index.
pub fn assign(rows: &[f32], dim: usize, centroids: &[f32], metric: Metric) -> Result<Vec<Assignment>, ClusterError> {
    let (_, needs_normalising) = inspect_rows(rows, dim, metric)?;
    let k = centroid_count(centroids, dim)?;
    let unit = prepare_rows(centroids, dim, metric)?.0;
    let prepared = Prepared::new(&unit, k, dim, metric);
    let parts: Result<Vec<Vec<Assignment>>, ClusterError> = rows
        .par_chunks(TASK_ROWS * dim)
        .map(|task_rows| {
            let mut sink = AssignSink { centroids: &unit, dim, k, metric, out: Vec::with_capacity(TASK_ROWS) };
            if needs_normalising {
                let mut copy = task_rows.to_vec();
                normalize_rows(&mut copy, dim)?;
                prepared.scan(&copy, &mut sink);
            } else {
                prepared.scan(task_rows, &mut sink);
            }
            Ok(sink.out)
        })
        .collect();
    Ok(parts?.concat())
}

struct AssignSink<'a> {
    centroids: &'a [f32],
    dim: usize,
    k: usize,
    metric: Metric,
    out: Vec<Assignment>,
}

impl RowSink for AssignSink<'_> {
    #[inline(always)]
    fn row(&mut self, _index: usize, row: &[f32], scores: &[f32]) {
        let dim = self.dim;
        let distance_to = |j: usize| reported_distance(row, &self.centroids[j * dim..(j + 1) * dim], self.metric) as f32;
        let (best, _) = argmin(scores, self.k);
        let mut label = best;
        let mut distance = distance_to(best);
        let mut second_distance = f32::INFINITY;
        if let Some((second, _)) = argmin_except(scores, self.k, best) {
            second_distance = distance_to(second);
            // The exact distances may reverse a near tie of the fast scores.
            if second_distance < distance || (second_distance == distance && second < best) {
                std::mem::swap(&mut distance, &mut second_distance);
                label = second;
            }
        }
        self.out.push(Assignment { label: label as u32, distance, second_distance });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_and_second_nearest() {
        let centroids = [0.0, 0.0, 10.0, 0.0, 0.0, 5.0];
        let rows = [1.0, 0.0, 9.0, 0.0, 0.0, 4.0];
        let out = assign(&rows, 2, &centroids, Metric::L2).unwrap();
        assert_eq!(out[0], Assignment { label: 0, distance: 1.0, second_distance: 26f32.sqrt() });
        assert_eq!(out[1].label, 1);
        assert_eq!(out[1].distance, 1.0);
        assert_eq!(out[2], Assignment { label: 2, distance: 1.0, second_distance: 4.0 });
        let single = assign(&rows, 2, &centroids[..2], Metric::L2).unwrap();
        assert!(single.iter().all(|a| a.label == 0 && a.second_distance == f32::INFINITY));
    }

    #[test]
    fn cosine_distances_are_one_minus_cos() {
        let centroids = [1.0, 0.0, 0.0, 1.0];
        let out = assign(&[2.0, 2.0, 0.0, -3.0], 2, &centroids, Metric::Cosine).unwrap();
        let expected = 1.0 - std::f32::consts::FRAC_1_SQRT_2;
        assert!((out[0].distance - expected).abs() < 1e-6);
        assert_eq!(out[0].label, 0);
        assert_eq!(out[1], Assignment { label: 0, distance: 1.0, second_distance: 2.0 });
        assert!(matches!(assign(&[0.0, 0.0], 2, &centroids, Metric::Cosine), Err(ClusterError::ZeroVector { row: 0 })));
    }
}
