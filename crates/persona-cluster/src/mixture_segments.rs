//! A fitted mixture as segments: every row's most probable component is its
//! segment, each segment's centre is the probability-weighted mean of the
//! rows in their own space (the M-step mean, so defined even for a component
//! that is no row's first choice), and distances, spreads and anomaly scores
//! mean what they mean for K-Means. The probabilities come along.

use rayon::prelude::*;

use crate::anomaly::cluster_spreads;
use crate::assign::Assignment;
use crate::data::{normalize_rows, reported_distance};
use crate::driver::Segmentation;
use crate::gmm_model::{GmmModel, MixtureScores};
use crate::{ClusterError, Metric};

/// Rows per parallel task.
const CHUNK_ROWS: usize = 1024;

/// Segments and probabilities of the rows a mixture scored.
#[derive(Debug, Clone)]
pub struct SoftSegmentation {
    /// Hard segments, as K-Means gives them: `iterations` 0, no silhouette,
    /// no candidates (the mixture's own are in its fit).
    pub segmentation: Segmentation,
    /// Every row's probabilities (row-major, `k` each, summing to 1), labels
    /// and log-densities.
    pub scores: MixtureScores,
}

/// The distance K-Means reports (`1 - cos` of unit vectors under Cosine).
fn distance(row: &[f32], centre: &[f32], metric: Metric) -> f32 {
    reported_distance(row, centre, metric) as f32
}

/// The index of the largest value other than `first` (`None` with one value).
fn second(p: &[f64], first: usize) -> Option<usize> {
    (0..p.len()).filter(|&j| j != first).max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)))
}

/// Scores `rows` (row-major, `dim` values each; under Cosine unit length, as
/// a source's first read keeps them) with `model` and turns the result into
/// segments. Under Cosine the centres are unit length.
pub fn mixture_segments(rows: &[f32], dim: usize, model: &GmmModel) -> Result<SoftSegmentation, ClusterError> {
    if dim != model.dim() {
        return Err(ClusterError::InvalidSetting(format!("rows have {dim} values, the mixture {}", model.dim())));
    }
    let scores = model.score_rows(rows)?;
    let (k, n, metric) = (scores.k, rows.len() / dim, model.parts().metric);
    // Probability-weighted means, in f64, summed per chunk then combined in
    // chunk order so that the result does not depend on the threads.
    let partial: Vec<(Vec<f64>, Vec<f64>)> = rows
        .par_chunks(CHUNK_ROWS * dim)
        .zip(scores.probabilities.par_chunks(CHUNK_ROWS * k))
        .map(|(chunk, probs)| {
            let (mut sums, mut mass) = (vec![0.0f64; k * dim], vec![0.0f64; k]);
            for (row, p) in chunk.chunks_exact(dim).zip(probs.chunks_exact(k)) {
                for (j, &w) in p.iter().enumerate() {
                    if w > 0.0 {
                        mass[j] += w;
                        for (s, &x) in sums[j * dim..(j + 1) * dim].iter_mut().zip(row) {
                            *s += w * f64::from(x);
                        }
                    }
                }
            }
            (sums, mass)
        })
        .collect();
    let (mut sums, mut mass) = (vec![0.0f64; k * dim], vec![0.0f64; k]);
    for (s, m) in partial {
        sums.iter_mut().zip(&s).for_each(|(a, b)| *a += b);
        mass.iter_mut().zip(&m).for_each(|(a, b)| *a += b);
    }
    let mut centroids = vec![0.0f32; k * dim];
    for j in 0..k {
        let c = &mut centroids[j * dim..(j + 1) * dim];
        if mass[j] > 0.0 {
            for (o, s) in c.iter_mut().zip(&sums[j * dim..(j + 1) * dim]) {
                *o = (s / mass[j]) as f32;
            }
        }
        if metric == Metric::Cosine {
            let norm = c.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
            if norm > 0.0 {
                c.iter_mut().for_each(|x| *x = (f64::from(*x) / norm) as f32);
            }
        }
    }
    let assignments: Vec<Assignment> = rows
        .par_chunks(dim)
        .zip(scores.probabilities.par_chunks(k))
        .zip(scores.labels.par_iter())
        .map(|((row, p), &label)| {
            let l = label as usize;
            let d = distance(row, &centroids[l * dim..(l + 1) * dim], metric);
            let second_distance =
                second(p, l).map_or(f32::INFINITY, |s| distance(row, &centroids[s * dim..(s + 1) * dim], metric));
            Assignment { label, distance: d, second_distance }
        })
        .collect();
    let distances: Vec<f32> = assignments.iter().map(|a| a.distance).collect();
    let spreads = cluster_spreads(&scores.labels, &distances, k)?;
    let inertia = match metric {
        Metric::L2 => distances.iter().map(|d| f64::from(*d).powi(2)).sum(),
        Metric::Cosine => distances.iter().map(|d| f64::from(*d)).sum(),
    };
    debug_assert_eq!(assignments.len(), n);
    Ok(SoftSegmentation {
        segmentation: Segmentation {
            k,
            dim,
            centroids,
            assignments,
            spreads,
            inertia,
            silhouette: None,
            iterations: 0,
            in_memory: true,
            candidates: Vec::new(),
        },
        scores,
    })
}

/// One row against a mixture and its segments' centres (label order, as
/// [`mixture_segments`] gives them).
#[derive(Debug, Clone, PartialEq)]
pub struct SoftAssignment {
    /// Probability of each component, summing to 1.
    pub probabilities: Vec<f64>,
    /// The most probable component and its centre's distance.
    pub assignment: Assignment,
    /// The second most probable component, if there are two.
    pub second: Option<u32>,
}

/// Scores one row as [`mixture_segments`] scores every row.
pub fn assign_soft(model: &GmmModel, row: &[f32], centroids: &[f32]) -> Result<SoftAssignment, ClusterError> {
    let (k, dim, metric) = (model.k(), model.dim(), model.parts().metric);
    if centroids.len() != k * dim {
        return Err(ClusterError::InvalidSetting(format!("{} centre values for {k} segments of {dim}", centroids.len())));
    }
    let probabilities = model.probabilities(row)?;
    let mut unit = row.to_vec();
    if metric == Metric::Cosine {
        normalize_rows(&mut unit, dim)?;
    }
    let row = &unit[..];
    let label = (0..k).max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]).then(b.cmp(&a))).unwrap_or(0);
    let second = second(&probabilities, label);
    let centre = |j: usize| &centroids[j * dim..(j + 1) * dim];
    let assignment = Assignment {
        label: label as u32,
        distance: distance(row, centre(label), metric),
        second_distance: second.map_or(f32::INFINITY, |s| distance(row, centre(s), metric)),
    };
    Ok(SoftAssignment { probabilities, assignment, second: second.map(|s| s as u32) })
}
