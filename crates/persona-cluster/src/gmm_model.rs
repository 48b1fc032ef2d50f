//! A fitted Gaussian mixture as plain numbers: stored, loaded and scored
//! without linfa, in log space so that no row underflows to a zero density.

use rayon::prelude::*;

use crate::data::{check_rows, normalize_rows};
use crate::projection::Projection;
use crate::{ClusterError, Metric};

/// Rows per parallel task when scoring.
const SCORE_CHUNK_ROWS: usize = 256;
/// Largest gap allowed between a covariance and its transpose, relative to its diagonal.
const SYMMETRY_TOLERANCE: f64 = 1e-9;
/// Largest gap allowed between the weights' sum and 1.
const WEIGHT_SUM_TOLERANCE: f64 = 1e-6;

/// Everything a [`GmmModel`] is, as plain numbers a table can hold.
/// `c` is `components_dim`; matrices are row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct GmmParts {
    /// How rows are prepared: under Cosine they are L2-normalised first.
    pub metric: Metric,
    /// Values per input row.
    pub dim: usize,
    /// Dimensions of the projected space (`c`).
    pub components_dim: usize,
    /// Number of mixture components.
    pub k: usize,
    /// `dim`: subtracted from a prepared row before projecting.
    pub mean: Vec<f64>,
    /// `c × dim`: the projected row is `projection · (row - mean)`.
    pub projection: Vec<f64>,
    /// `k`, positive, summing to 1.
    pub weights: Vec<f64>,
    /// `k × c`.
    pub means: Vec<f64>,
    /// `k × c × c`, each symmetric positive definite.
    pub covariances: Vec<f64>,
    /// Mean log-likelihood per row of the sample the model was fitted on.
    pub log_likelihood: f64,
    /// Bayesian information criterion on that sample (lower is better).
    pub bic: f64,
    /// Rows of that sample.
    pub sample_rows: usize,
}

/// A Gaussian mixture over projected rows, ready to score.
#[derive(Debug, Clone, PartialEq)]
pub struct GmmModel {
    parts: GmmParts,
    projection: Projection,
    /// `k × c × c`: lower Cholesky factor of each covariance.
    chol: Vec<f64>,
    /// Per component: `ln w - (c ln 2π + ln det Σ) / 2`.
    log_norm: Vec<f64>,
}

/// Soft assignments of many rows.
#[derive(Debug, Clone, PartialEq)]
pub struct MixtureScores {
    /// Components per row.
    pub k: usize,
    /// `n × k`: each row's probability of each component, summing to 1.
    pub probabilities: Vec<f64>,
    /// The most probable component of each row.
    pub labels: Vec<u32>,
    /// Each row's log-density under the whole mixture (low: unlike any segment).
    pub log_density: Vec<f64>,
}

fn bad(message: String) -> ClusterError {
    ClusterError::InvalidModel(message)
}

fn check_len(name: &str, values: &[f64], expected: usize) -> Result<(), ClusterError> {
    if values.len() != expected {
        return Err(bad(format!("{name} has {} values, expected {expected}", values.len())));
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(bad(format!("{name} has a NaN or infinity at position {i} (0-based)"))),
        None => Ok(()),
    }
}

/// Lower Cholesky factor of a symmetric `c × c` matrix; `None` when it is
/// not positive definite.
fn cholesky(a: &[f64], c: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; c * c];
    for i in 0..c {
        for j in 0..=i {
            let s: f64 = (0..j).map(|p| l[i * c + p] * l[j * c + p]).sum();
            if i == j {
                let d = a[i * c + i] - s;
                if !(d > 0.0 && d.is_finite()) {
                    return None;
                }
                l[i * c + i] = d.sqrt();
            } else {
                l[i * c + j] = (a[i * c + j] - s) / l[j * c + j];
            }
        }
    }
    Some(l)
}

/// `ln Σ exp(x)` without overflow or underflow.
fn log_sum_exp(x: &[f64]) -> f64 {
    let top = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return top;
    }
    top + x.iter().map(|v| (v - top).exp()).sum::<f64>().ln()
}

impl GmmModel {
    /// Checks parts (from a table, or from a fit) and makes a model of them:
    /// every size against `dim`, `components_dim` and `k`, every value
    /// finite, the weights positive and summing to 1, each covariance
    /// symmetric and positive definite. Never panics.
    pub fn from_parts(parts: GmmParts) -> Result<GmmModel, ClusterError> {
        let (dim, c, k) = (parts.dim, parts.components_dim, parts.k);
        if dim == 0 || c == 0 || k == 0 {
            return Err(bad(format!("dim ({dim}), components_dim ({c}) and k ({k}) must all be at least 1")));
        }
        if c > dim {
            return Err(bad(format!("components_dim ({c}) is greater than dim ({dim})")));
        }
        let sizes = [dim.checked_mul(c), k.checked_mul(c), k.checked_mul(c).and_then(|v| v.checked_mul(c))];
        let [Some(proj_len), Some(means_len), Some(cov_len)] = sizes else {
            return Err(bad("the sizes do not fit in memory".to_owned()));
        };
        check_len("mean", &parts.mean, dim)?;
        check_len("projection", &parts.projection, proj_len)?;
        check_len("weights", &parts.weights, k)?;
        check_len("means", &parts.means, means_len)?;
        check_len("covariances", &parts.covariances, cov_len)?;
        if let Some(i) = parts.weights.iter().position(|&w| w <= 0.0) {
            return Err(bad(format!("weight {i} (0-based) is not positive")));
        }
        let sum: f64 = parts.weights.iter().sum();
        if (sum - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
            return Err(bad(format!("the weights sum to {sum}, not 1")));
        }
        if !parts.log_likelihood.is_finite() || !parts.bic.is_finite() {
            return Err(bad("log_likelihood and bic must be finite".to_owned()));
        }
        let mut chol = Vec::with_capacity(cov_len);
        let mut log_norm = Vec::with_capacity(k);
        let log_2pi = (2.0 * std::f64::consts::PI).ln();
        for (j, (cov, &w)) in parts.covariances.chunks_exact(c * c).zip(&parts.weights).enumerate() {
            for r in 0..c {
                let scale = cov[r * c + r].abs().max(f64::MIN_POSITIVE);
                if (0..r).any(|s| (cov[r * c + s] - cov[s * c + r]).abs() > SYMMETRY_TOLERANCE * scale) {
                    return Err(bad(format!("covariance {j} (0-based) is not symmetric")));
                }
            }
            let l = cholesky(cov, c).ok_or_else(|| bad(format!("covariance {j} (0-based) is not positive definite")))?;
            let log_det: f64 = 2.0 * (0..c).map(|i| l[i * c + i].ln()).sum::<f64>();
            log_norm.push(w.ln() - 0.5 * (c as f64 * log_2pi + log_det));
            chol.extend_from_slice(&l);
        }
        let projection = Projection { dim, components: c, mean: parts.mean.clone(), matrix: parts.projection.clone() };
        Ok(GmmModel { parts, projection, chol, log_norm })
    }

    /// The model as plain numbers; [`from_parts`](GmmModel::from_parts) gives it back.
    pub fn to_parts(&self) -> GmmParts {
        self.parts.clone()
    }

    /// The same model with its fit statistics replaced (the fit computes them
    /// with the model itself).
    pub(crate) fn with_fit_stats(mut self, log_likelihood: f64, bic: f64, sample_rows: usize) -> GmmModel {
        self.parts.log_likelihood = log_likelihood;
        self.parts.bic = bic;
        self.parts.sample_rows = sample_rows;
        self
    }

    /// Its parts, read-only.
    pub fn parts(&self) -> &GmmParts {
        &self.parts
    }

    /// Number of components.
    pub fn k(&self) -> usize {
        self.parts.k
    }

    /// Values per input row.
    pub fn dim(&self) -> usize {
        self.parts.dim
    }

    /// Dimensions of the projected space.
    pub fn components_dim(&self) -> usize {
        self.parts.components_dim
    }

    /// Free values of the mixture (what BIC charges for).
    pub fn free_parameters(&self) -> usize {
        let (k, c) = (self.parts.k, self.parts.components_dim);
        (k - 1) + k * c + k * c * (c + 1) / 2
    }

    /// Per component, `ln P(component) + ln p(z | component)` of a projected row.
    pub(crate) fn log_joint(&self, z: &[f64], diff: &mut [f64], out: &mut [f64]) {
        let c = self.parts.components_dim;
        for (j, o) in out.iter_mut().enumerate() {
            let l = &self.chol[j * c * c..(j + 1) * c * c];
            let mu = &self.parts.means[j * c..(j + 1) * c];
            // Forward substitution: diff = L⁻¹ (z - μ), whose squared norm is
            // the Mahalanobis distance.
            let mut maha = 0.0;
            for i in 0..c {
                let s: f64 = (0..i).map(|p| l[i * c + p] * diff[p]).sum();
                diff[i] = (z[i] - mu[i] - s) / l[i * c + i];
                maha += diff[i] * diff[i];
            }
            *o = self.log_norm[j] - 0.5 * maha;
        }
    }

    /// Log-density of a projected row and, in `out`, its probabilities.
    pub(crate) fn posterior(&self, z: &[f64], diff: &mut [f64], out: &mut [f64]) -> f64 {
        self.log_joint(z, diff, out);
        let total = log_sum_exp(out);
        out.iter_mut().for_each(|v| *v = (*v - total).exp());
        total
    }

    /// Checked, prepared copy of `rows`.
    fn prepare(&self, rows: &[f32]) -> Result<Vec<f32>, ClusterError> {
        check_rows(rows, self.parts.dim)?;
        let mut rows = rows.to_vec();
        if self.parts.metric == Metric::Cosine {
            normalize_rows(&mut rows, self.parts.dim)?;
        }
        Ok(rows)
    }

    /// Coordinates of one row in the projected space the mixture lives in.
    pub fn project(&self, row: &[f32]) -> Result<Vec<f64>, ClusterError> {
        let row = self.one_row(row)?;
        let mut z = vec![0.0; self.parts.components_dim];
        self.projection.project_into(&row, &mut vec![0.0; self.parts.dim], &mut z);
        Ok(z)
    }

    fn one_row(&self, row: &[f32]) -> Result<Vec<f32>, ClusterError> {
        if row.len() != self.parts.dim {
            return Err(ClusterError::LengthMismatch { left: row.len(), right: self.parts.dim });
        }
        self.prepare(row)
    }

    /// The probability of each component for one row; they sum to 1.
    pub fn probabilities(&self, row: &[f32]) -> Result<Vec<f64>, ClusterError> {
        let z = self.project(row)?;
        let mut p = vec![0.0; self.parts.k];
        self.posterior(&z, &mut vec![0.0; self.parts.components_dim], &mut p);
        Ok(p)
    }

    /// The most probable component of one row (the lowest on ties).
    pub fn predict(&self, row: &[f32]) -> Result<u32, ClusterError> {
        Ok(argmax(&self.probabilities(row)?))
    }

    /// Probabilities, labels and log-densities of every row (row-major,
    /// `dim` values each), on rayon's current pool; the result does not
    /// depend on the number of threads.
    pub fn score_rows(&self, rows: &[f32]) -> Result<MixtureScores, ClusterError> {
        let rows = self.prepare(rows)?;
        let (dim, c, k) = (self.parts.dim, self.parts.components_dim, self.parts.k);
        let n = rows.len() / dim;
        let mut probabilities = vec![0.0; n * k];
        let mut log_density = vec![0.0; n];
        rows.par_chunks(SCORE_CHUNK_ROWS * dim)
            .zip(probabilities.par_chunks_mut(SCORE_CHUNK_ROWS * k))
            .zip(log_density.par_chunks_mut(SCORE_CHUNK_ROWS))
            .for_each(|((chunk, probs), dens)| {
                let (mut centred, mut z, mut diff) = (vec![0.0; dim], vec![0.0; c], vec![0.0; c]);
                for ((row, p), d) in chunk.chunks_exact(dim).zip(probs.chunks_exact_mut(k)).zip(dens.iter_mut()) {
                    self.projection.project_into(row, &mut centred, &mut z);
                    *d = self.posterior(&z, &mut diff, p);
                }
            });
        let labels = probabilities.chunks_exact(k).map(argmax).collect();
        Ok(MixtureScores { k, probabilities, labels, log_density })
    }

    /// Mean log-likelihood per row of `rows` under the model (in the
    /// projected space, so comparable between models that share a projection).
    pub fn log_likelihood(&self, rows: &[f32]) -> Result<f64, ClusterError> {
        let scores = self.score_rows(rows)?;
        Ok(scores.log_density.iter().sum::<f64>() / scores.log_density.len() as f64)
    }
}

fn argmax(p: &[f64]) -> u32 {
    let mut best = 0;
    for (j, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = j;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> GmmParts {
        GmmParts {
            metric: Metric::L2,
            dim: 2,
            components_dim: 1,
            k: 2,
            mean: vec![0.0, 0.0],
            projection: vec![1.0, 0.0],
            weights: vec![0.5, 0.5],
            means: vec![-2.0, 2.0],
            covariances: vec![1.0, 1.0],
            log_likelihood: -1.0,
            bic: 10.0,
            sample_rows: 10,
        }
    }

    #[test]
    fn far_rows_keep_finite_probabilities() {
        let model = GmmModel::from_parts(parts()).unwrap();
        // exp() of either log-density alone is 0 this far out.
        let p = model.probabilities(&[1e4, 3.0]).unwrap();
        assert!(p.iter().all(|v| v.is_finite()));
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(model.predict(&[1e4, 3.0]).unwrap(), 1);
        let half = model.probabilities(&[0.0, 7.0]).unwrap();
        assert!((half[0] - 0.5).abs() < 1e-12);
        let scores = model.score_rows(&[-2.0, 0.0, 2.0, 0.0]).unwrap();
        assert_eq!(scores.labels, vec![0, 1]);
        let expected = 0.5f64.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
        assert!((scores.log_density[0] - expected).abs() < 1e-3, "{:?}", scores.log_density);
    }

    #[test]
    fn cholesky_refuses_indefinite() {
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
        let l = cholesky(&[4.0, 2.0, 2.0, 5.0], 2).unwrap();
        assert_eq!(l, vec![2.0, 0.0, 1.0, 2.0]);
    }
}
