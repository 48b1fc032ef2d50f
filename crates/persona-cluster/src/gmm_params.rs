//! The settings of [`fit_gmm`](crate::fit_gmm), checked in one place.
//!
//! As with [`TrainParams`](crate::TrainParams), a caller fills [`GmmParams`]
//! with what it was given and [`GmmParams::check`] turns it into
//! [`ValidGmmParams`], the only thing [`fit_gmm`](crate::fit_gmm) accepts.
//! The messages are meant for the person who typed the settings.

use crate::{ClusterError, Metric, MAX_ITER, MAX_N_INIT, MAX_SAMPLE_SIZE};

/// Most components of a mixture: each one costs a full covariance matrix.
pub const MAX_GMM_K: i64 = 1_000;
/// Most dimensions the rows are reduced to before the mixture: a full
/// covariance has `c (c + 1) / 2` free values, which a sample of a few
/// thousand rows cannot pin down for much larger `c`.
pub const MAX_COMPONENTS_DIM: i64 = 128;

/// The settings of a mixture, unchecked.
#[derive(Debug, Clone, PartialEq)]
pub struct GmmParams<'a> {
    /// Number of components; `None` chooses it in `k_min..=k_max` by BIC on the sample.
    pub k: Option<i64>,
    /// Smallest k tried when choosing (1 is allowed: BIC can prefer one component).
    pub k_min: i64,
    /// Largest k tried when choosing.
    pub k_max: i64,
    /// `cosine` (rows are L2-normalised first) or `l2`.
    pub metric: &'a str,
    /// Dimensions kept by the principal-component projection fitted on the
    /// sample; fewer are kept when the sample has fewer independent directions.
    pub components_dim: i64,
    /// Most EM steps per restart; a restart that has not settled by then fails.
    pub max_iter: i64,
    /// EM stops when the mean log-likelihood per row changes by less than this (in nats).
    pub tolerance: f64,
    /// Added to every covariance's diagonal, as a share of the sample's
    /// variance along each projected axis (the projection whitens).
    pub reg_covar: f64,
    /// Restarts per k, each from its own K-Means start; the highest likelihood wins.
    pub n_runs: i64,
    /// Seed of the first restart; later restarts derive theirs from it.
    pub seed: u64,
    /// Rows of the source's sample the projection and the mixture are fitted on
    /// (the source's own sample bounds it too).
    pub sample_size: i64,
}

impl Default for GmmParams<'static> {
    /// k chosen by BIC in 2..=10 under cosine, 16 dimensions, 3 restarts of
    /// at most 200 steps, settling at 1e-3 nats per row, 5,000 rows, a
    /// regularisation of a thousandth of the variance.
    fn default() -> Self {
        GmmParams {
            k: None,
            k_min: 2,
            k_max: 10,
            metric: "cosine",
            components_dim: 16,
            max_iter: 200,
            tolerance: 1e-3,
            reg_covar: 1e-3,
            n_runs: 3,
            seed: 1,
            sample_size: 5_000,
        }
    }
}

/// Settings [`GmmParams::check`] accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidGmmParams {
    pub(crate) k: Option<usize>,
    pub(crate) k_min: usize,
    pub(crate) k_max: usize,
    pub(crate) metric: Metric,
    pub(crate) components_dim: usize,
    pub(crate) max_iter: usize,
    pub(crate) tolerance: f64,
    pub(crate) reg_covar: f64,
    pub(crate) n_runs: usize,
    pub(crate) seed: u64,
    pub(crate) sample_size: usize,
}

fn invalid(message: String) -> ClusterError {
    ClusterError::InvalidSetting(message)
}

/// `value` when it is in `1..=max`.
fn between_one_and(name: &str, value: i64, max: i64) -> Result<usize, ClusterError> {
    if (1..=max).contains(&value) {
        usize::try_from(value).map_err(|_| invalid(format!("{name} does not fit in memory")))
    } else {
        Err(invalid(format!("{name} must be between 1 and {max}, not {value}")))
    }
}

impl GmmParams<'_> {
    /// Checks every setting and returns the first problem, in the order of
    /// the fields, as [`ClusterError::InvalidSetting`].
    pub fn check(&self) -> Result<ValidGmmParams, ClusterError> {
        let k = self.k.map(|k| between_one_and("k", k, MAX_GMM_K)).transpose()?;
        if self.k.is_none() && !(1 <= self.k_min && self.k_min <= self.k_max && self.k_max <= MAX_GMM_K) {
            return Err(invalid(format!(
                "k range must satisfy 1 <= k_min <= k_max <= {MAX_GMM_K}, not k_min = {}, k_max = {}",
                self.k_min, self.k_max
            )));
        }
        let metric: Metric = self.metric.parse()?;
        let components_dim = between_one_and("components_dim", self.components_dim, MAX_COMPONENTS_DIM)?;
        let max_iter = between_one_and("max_iter", self.max_iter, MAX_ITER)?;
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(invalid(format!("tolerance must be > 0, not {}", self.tolerance)));
        }
        if !(self.reg_covar > 0.0 && self.reg_covar <= 1.0) {
            return Err(invalid(format!(
                "reg_covar must be > 0 and at most 1 (a share of the variance along each axis), not {}",
                self.reg_covar
            )));
        }
        let n_runs = between_one_and("n_runs", self.n_runs, MAX_N_INIT)?;
        let sample_size = between_one_and("sample_size", self.sample_size, MAX_SAMPLE_SIZE)?;
        // Only used when k is not given, so only checked then; clamped to be safe.
        let (k_min, k_max) = (self.k_min.clamp(1, MAX_GMM_K) as usize, self.k_max.clamp(1, MAX_GMM_K) as usize);
        Ok(ValidGmmParams {
            k,
            k_min,
            k_max,
            metric,
            components_dim,
            max_iter,
            tolerance: self.tolerance,
            reg_covar: self.reg_covar,
            n_runs,
            seed: self.seed,
            sample_size,
        })
    }
}

impl ValidGmmParams {
    /// The distance the rows are prepared for.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// The seed given.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Rows of the sample used.
    pub fn sample_size(&self) -> usize {
        self.sample_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(p: GmmParams<'_>) -> String {
        p.check().unwrap_err().to_string()
    }

    #[test]
    fn defaults_pass() {
        let valid = GmmParams::default().check().unwrap();
        assert_eq!((valid.k, valid.k_min, valid.k_max, valid.components_dim), (None, 2, 10, 16));
        assert_eq!(valid.metric, Metric::Cosine);
    }

    #[test]
    fn each_bad_setting_is_named() {
        let d = GmmParams::default;
        assert_eq!(message(GmmParams { k: Some(0), ..d() }), "k must be between 1 and 1000, not 0");
        assert_eq!(
            message(GmmParams { k_min: 5, k_max: 3, ..d() }),
            "k range must satisfy 1 <= k_min <= k_max <= 1000, not k_min = 5, k_max = 3"
        );
        assert_eq!(message(GmmParams { metric: "dot", ..d() }), "metric must be 'cosine' or 'l2', not 'dot'");
        assert_eq!(message(GmmParams { components_dim: 0, ..d() }), "components_dim must be between 1 and 128, not 0");
        assert_eq!(message(GmmParams { max_iter: 0, ..d() }), "max_iter must be between 1 and 100000, not 0");
        assert_eq!(message(GmmParams { tolerance: 0.0, ..d() }), "tolerance must be > 0, not 0");
        assert_eq!(message(GmmParams { tolerance: f64::NAN, ..d() }), "tolerance must be > 0, not NaN");
        assert_eq!(
            message(GmmParams { reg_covar: 0.0, ..d() }),
            "reg_covar must be > 0 and at most 1 (a share of the variance along each axis), not 0"
        );
        assert!(message(GmmParams { reg_covar: f64::INFINITY, ..d() }).starts_with("reg_covar"));
        assert_eq!(message(GmmParams { n_runs: 101, ..d() }), "n_runs must be between 1 and 100, not 101");
        assert_eq!(message(GmmParams { sample_size: 0, ..d() }), "sample_size must be between 1 and 1000000, not 0");
    }

    #[test]
    fn a_given_k_needs_no_range() {
        let valid = GmmParams { k: Some(3), k_min: 9, k_max: 1, ..GmmParams::default() }.check().unwrap();
        assert_eq!(valid.k, Some(3));
    }
}
