//! Soft segments: a Gaussian mixture (linfa's EM) fitted on a source's
//! sample, after a whitening principal-component reduction.
//!
//! linfa fits one restart per call and cannot be interrupted inside it, so
//! the restarts are run here, one call each, with the stop check between
//! them; `max_iter` bounds each call. Its `n_runs` continues from the same
//! start instead of restarting, which is why every call asks for one run
//! with a seed of its own. Scoring (and the likelihood that ranks restarts
//! and k) is [`GmmModel`]'s own, in log space.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use linfa::traits::Fit;
use linfa::{DatasetBase, ParamGuard};
use linfa_clustering::GaussianMixtureModel;
use ndarray::Array2;
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;

use crate::data::prepare_rows;
use crate::driver::restart_seed;
use crate::projection::Projection;
use crate::seeding::floyd_rows;
use crate::{ClusterError, GmmModel, GmmParts, Hooks, RowSource, ValidGmmParams};

/// Projected rows per parallel task when measuring a fit's likelihood.
const LIKELIHOOD_CHUNK_ROWS: usize = 512;

/// What [`fit_gmm`] reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum GmmProgress {
    /// The sample is reduced; restarts start.
    Projected {
        /// Rows of the sample.
        rows: usize,
        /// Values per row.
        dim: usize,
        /// Dimensions kept.
        components: usize,
        /// Share of the sample's variance they keep.
        explained: f64,
        /// Wall time of the reduction.
        seconds: f64,
    },
    /// One restart ended.
    Run {
        /// Components.
        k: usize,
        /// Restart, from 1.
        run: usize,
        /// Restarts for this k.
        runs: usize,
        /// Mean log-likelihood per sample row, or why the restart failed.
        outcome: Result<f64, String>,
        /// Wall time of the restart.
        seconds: f64,
    },
    /// The best restart of one k.
    Candidate(GmmCandidate),
    /// k was chosen by BIC.
    ChoseK {
        /// The k.
        k: usize,
    },
}

/// One k tried when choosing by BIC.
#[derive(Debug, Clone, PartialEq)]
pub struct GmmCandidate {
    /// Components.
    pub k: usize,
    /// Mean log-likelihood per sample row of its best restart.
    pub log_likelihood: f64,
    /// Its BIC (lower is better).
    pub bic: f64,
}

/// A fitted mixture and how it was chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct GmmFit {
    /// The model of the chosen k.
    pub model: GmmModel,
    /// Every k fitted, in order (one when k was given).
    pub candidates: Vec<GmmCandidate>,
    /// Share of the sample's variance the projection keeps.
    pub explained_variance: f64,
    /// Restarts that failed (no convergence within `max_iter`, a collapsed
    /// component); the best of the others was kept.
    pub failed_runs: usize,
}

fn invalid(message: String) -> ClusterError {
    ClusterError::InvalidSetting(message)
}

/// Fits a Gaussian mixture on the sample of `source`: under Cosine the rows
/// are normalised, a whitening projection to at most `components_dim`
/// dimensions is fitted on them, and `n_runs` restarts of EM (each from its
/// own K-Means start) are run per k; the highest likelihood wins. Without a
/// k, each k of the range is fitted and the lowest BIC is chosen (ties to
/// the smaller k). Deterministic for a seed.
pub fn fit_gmm(source: &dyn RowSource, params: &ValidGmmParams, hooks: &Hooks<'_, GmmProgress>) -> Result<GmmFit, ClusterError> {
    let (n, dim, metric) = (source.rows(), source.dim(), params.metric);
    if n == 0 {
        return Err(ClusterError::EmptyData);
    }
    if dim == 0 {
        return Err(ClusterError::ZeroDimension);
    }
    let (prepared, sample_n) = prepare_rows(source.sample(), dim, metric)?;
    let sample = if sample_n > params.sample_size {
        floyd_rows(&prepared, dim, params.sample_size, params.seed)
    } else {
        prepared.into_owned()
    };
    let rows = sample.len() / dim;
    let ks: Vec<usize> = match params.k {
        Some(k) if k > rows => return Err(invalid(format!("k ({k}) is greater than the number of sample rows ({rows})"))),
        Some(k) => vec![k],
        None if params.k_min > rows => {
            return Err(invalid(format!(
                "k range {}..{} needs at least {} sample rows, got {rows}",
                params.k_min, params.k_max, params.k_min
            )))
        }
        None => (params.k_min..=params.k_max.min(rows)).collect(),
    };
    hooks.check()?;
    let t = Instant::now();
    let fitted = hooks.run(|| Projection::fit(&sample, dim, params.components_dim))??;
    let projection = fitted.projection;
    let z = projection.project_rows(&sample);
    (hooks.progress)(GmmProgress::Projected {
        rows,
        dim,
        components: projection.components,
        explained: fitted.explained,
        seconds: t.elapsed().as_secs_f64(),
    });

    let mut best: Option<GmmModel> = None;
    let mut candidates = Vec::with_capacity(ks.len());
    let mut failed_runs = 0;
    for &k in &ks {
        let (model, failed) = best_restart(&z, k, &projection, params, hooks)?;
        failed_runs += failed;
        let p = model.parts();
        let candidate = GmmCandidate { k, log_likelihood: p.log_likelihood, bic: p.bic };
        (hooks.progress)(GmmProgress::Candidate(candidate.clone()));
        candidates.push(candidate);
        if best.as_ref().is_none_or(|b| model.parts().bic < b.parts().bic) {
            best = Some(model);
        }
    }
    let model = best.ok_or(ClusterError::EmptyData)?;
    if params.k.is_none() {
        (hooks.progress)(GmmProgress::ChoseK { k: model.k() });
    }
    Ok(GmmFit { model, candidates, explained_variance: fitted.explained, failed_runs })
}

/// The restart of highest likelihood for one k, and the number that failed.
fn best_restart(
    z: &Array2<f64>,
    k: usize,
    projection: &Projection,
    params: &ValidGmmParams,
    hooks: &Hooks<'_, GmmProgress>,
) -> Result<(GmmModel, usize), ClusterError> {
    let mut best: Option<GmmModel> = None;
    let mut last_error = String::new();
    let mut failed = 0;
    for run in 0..params.n_runs {
        hooks.check()?;
        let t = Instant::now();
        let seed = restart_seed(params.seed, run);
        let outcome = hooks.run(|| one_restart(z, k, projection, params, seed))?;
        (hooks.progress)(GmmProgress::Run {
            k,
            run: run + 1,
            runs: params.n_runs,
            outcome: outcome.as_ref().map(|m| m.parts().log_likelihood).map_err(Clone::clone),
            seconds: t.elapsed().as_secs_f64(),
        });
        match outcome {
            Ok(model) => {
                if best.as_ref().is_none_or(|b| model.parts().log_likelihood > b.parts().log_likelihood) {
                    best = Some(model);
                }
            }
            Err(message) => {
                failed += 1;
                last_error = message;
            }
        }
    }
    match best {
        Some(model) => Ok((model, failed)),
        None => Err(ClusterError::FitFailed(format!(
            "no restart of the mixture with k = {k} could be fitted ({last_error}); try a smaller k, fewer \
             components_dim, a larger reg_covar, a larger max_iter or tolerance"
        ))),
    }
}

/// One EM fit by linfa, made into a checked [`GmmModel`] with its own
/// likelihood and BIC on `z`. Errors (and panics) of linfa come back as text.
fn one_restart(z: &Array2<f64>, k: usize, projection: &Projection, params: &ValidGmmParams, seed: u64) -> Result<GmmModel, String> {
    let c = projection.components;
    let fitted = catch_unwind(AssertUnwindSafe(|| {
        let dataset = DatasetBase::from(z.clone());
        GaussianMixtureModel::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed))
            .n_runs(1)
            .max_n_iterations(params.max_iter as u64)
            .tolerance(params.tolerance)
            .reg_covariance(params.reg_covar)
            .check()
            .and_then(|p| p.fit(&dataset))
            .map_err(|e| e.to_string())
    }))
    .map_err(|_| "the EM step failed on these rows".to_owned())??;
    let mut covariances = fitted.covariances().iter().copied().collect::<Vec<f64>>();
    // EM's covariances are symmetric up to rounding; storage wants exactly.
    for cov in covariances.chunks_exact_mut(c * c) {
        for r in 0..c {
            for s in 0..r {
                let m = 0.5 * (cov[r * c + s] + cov[s * c + r]);
                cov[r * c + s] = m;
                cov[s * c + r] = m;
            }
        }
    }
    let parts = GmmParts {
        metric: params.metric,
        dim: projection.dim,
        components_dim: c,
        k,
        mean: projection.mean.clone(),
        projection: projection.matrix.clone(),
        weights: fitted.weights().iter().copied().collect(),
        means: fitted.means().iter().copied().collect(),
        covariances,
        log_likelihood: 0.0,
        bic: 0.0,
        sample_rows: z.nrows(),
    };
    let model = GmmModel::from_parts(parts).map_err(|e| e.to_string())?;
    let n = z.nrows();
    let ll = mean_log_likelihood(&model, z);
    if !ll.is_finite() {
        return Err("the fitted mixture gives the sample no finite likelihood".to_owned());
    }
    let bic = -2.0 * n as f64 * ll + model.free_parameters() as f64 * (n as f64).ln();
    Ok(model.with_fit_stats(ll, bic, n))
}

/// Mean log-density of projected rows, summed in a fixed order whatever the thread count.
fn mean_log_likelihood(model: &GmmModel, z: &Array2<f64>) -> f64 {
    let (c, k) = (model.components_dim(), model.k());
    let Some(flat) = z.as_slice() else { return f64::NAN };
    let sums: Vec<f64> = flat
        .par_chunks(LIKELIHOOD_CHUNK_ROWS * c)
        .map(|chunk| {
            let (mut diff, mut p) = (vec![0.0; c], vec![0.0; k]);
            chunk.chunks_exact(c).map(|row| model.posterior(row, &mut diff, &mut p)).sum::<f64>()
        })
        .collect();
    sums.iter().sum::<f64>() / z.nrows() as f64
}
