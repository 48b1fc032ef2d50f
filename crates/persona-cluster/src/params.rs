//! The settings of [`train`](crate::train), checked in one place.
//!
//! A caller fills [`TrainParams`] with what it was given (SQL arguments, a
//! configuration file), as given, and [`TrainParams::check`] turns it into
//! [`ValidTrainParams`], the only thing [`train`](crate::train) accepts.
//! The messages are meant for the person who typed the settings.

use std::str::FromStr;

use crate::{ClusterError, Metric};

/// Most restarts: each is a whole training.
pub const MAX_N_INIT: i64 = 100;
/// Most Lloyd steps (or passes) per restart.
pub const MAX_ITER: i64 = 100_000;
/// Largest sample for choosing k and the silhouette, whose cost grows with its square.
pub const MAX_SAMPLE_SIZE: i64 = 1_000_000;

/// How the first centroids of a restart are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// Greedy k-means++ ([`kmeans_plus_plus`](crate::kmeans_plus_plus)).
    KMeansPlusPlus,
    /// `k` distinct rows drawn uniformly ([`random_rows`](crate::random_rows)).
    Random,
}

impl FromStr for Init {
    type Err = ClusterError;

    /// `k-means++` or `random`.
    fn from_str(s: &str) -> Result<Self, ClusterError> {
        match s {
            "k-means++" => Ok(Init::KMeansPlusPlus),
            "random" => Ok(Init::Random),
            other => Err(invalid(format!("init must be 'k-means++' or 'random', not '{other}'"))),
        }
    }
}

impl FromStr for Metric {
    type Err = ClusterError;

    /// `cosine` or `l2`, as [`Metric::name`] spells them.
    fn from_str(s: &str) -> Result<Self, ClusterError> {
        match s {
            "cosine" => Ok(Metric::Cosine),
            "l2" => Ok(Metric::L2),
            other => Err(invalid(format!("metric must be 'cosine' or 'l2', not '{other}'"))),
        }
    }
}

impl Metric {
    /// The name [`str::parse`] reads back.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Cosine => "cosine",
            Metric::L2 => "l2",
        }
    }
}

/// The settings of a training, unchecked.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainParams<'a> {
    /// Number of clusters; `None` chooses it in `k_min..=k_max` by silhouette on the sample.
    pub k: Option<i64>,
    /// Smallest k tried when choosing (at least 2: silhouette needs two clusters).
    pub k_min: i64,
    /// Largest k tried when choosing.
    pub k_max: i64,
    /// `cosine` or `l2`.
    pub metric: &'a str,
    /// `k-means++` or `random`.
    pub init: &'a str,
    /// Restarts when the rows are in memory; the lowest inertia wins.
    pub n_init: i64,
    /// Most Lloyd steps (passes out of memory) per restart.
    pub max_iter: i64,
    /// Stop when inertia changes by at most this fraction between steps.
    pub tol: f64,
    /// Seed of the sample and of the first restart; later restarts derive theirs from it.
    pub seed: u64,
    /// Rows kept for choosing k, the silhouette, and seeding out of memory.
    pub sample_size: i64,
}

/// Settings [`TrainParams::check`] accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidTrainParams {
    pub(crate) k: Option<usize>,
    pub(crate) k_min: usize,
    pub(crate) k_max: usize,
    pub(crate) metric: Metric,
    pub(crate) init: Init,
    pub(crate) n_init: usize,
    pub(crate) max_iter: usize,
    pub(crate) tol: f64,
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

impl TrainParams<'_> {
    /// Checks every setting and returns the first problem as
    /// [`ClusterError::InvalidSetting`]. The order (k, k range, init, tol,
    /// metric, n_init, max_iter, sample_size) is the one SQL callers of
    /// `persona.kmeans_train` have always seen when several are wrong.
    pub fn check(&self) -> Result<ValidTrainParams, ClusterError> {
        if let Some(k) = self.k.filter(|&k| k < 1) {
            return Err(invalid(format!("k must be at least 1, not {k}")));
        }
        if self.k_min < 2 || self.k_min > self.k_max {
            return Err(invalid(format!(
                "k range must satisfy 2 <= k_min <= k_max, not k_min = {}, k_max = {}",
                self.k_min, self.k_max
            )));
        }
        let init: Init = self.init.parse()?;
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(invalid(format!("tol must be >= 0, not {}", self.tol)));
        }
        let metric: Metric = self.metric.parse()?;
        let n_init = between_one_and("n_init", self.n_init, MAX_N_INIT)?;
        let max_iter = between_one_and("max_iter", self.max_iter, MAX_ITER)?;
        let sample_size = between_one_and("sample_size", self.sample_size, MAX_SAMPLE_SIZE)?;
        let size = |name: &str, v: i64| usize::try_from(v).map_err(|_| invalid(format!("{name} does not fit in memory")));
        Ok(ValidTrainParams {
            k: self.k.map(|k| size("k", k)).transpose()?,
            k_min: size("k_min", self.k_min)?,
            k_max: size("k_max", self.k_max)?,
            metric,
            init,
            n_init,
            max_iter,
            tol: self.tol,
            seed: self.seed,
            sample_size,
        })
    }
}

impl ValidTrainParams {
    /// The distance.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// The seed given.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Rows to keep in the sample.
    pub fn sample_size(&self) -> usize {
        self.sample_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> TrainParams<'static> {
        TrainParams {
            k: None,
            k_min: 2,
            k_max: 10,
            metric: "cosine",
            init: "k-means++",
            n_init: 3,
            max_iter: 100,
            tol: 1e-4,
            seed: 1,
            sample_size: 5_000,
        }
    }

    fn message(p: TrainParams<'_>) -> String {
        p.check().unwrap_err().to_string()
    }

    #[test]
    fn defaults_pass_and_names_round_trip() {
        let valid = params().check().unwrap();
        assert_eq!((valid.metric, valid.init, valid.n_init), (Metric::Cosine, Init::KMeansPlusPlus, 3));
        for m in [Metric::Cosine, Metric::L2] {
            assert_eq!(m.name().parse::<Metric>().unwrap(), m);
        }
    }

    #[test]
    fn each_bad_setting_is_named() {
        assert_eq!(message(TrainParams { k: Some(0), ..params() }), "k must be at least 1, not 0");
        assert_eq!(
            message(TrainParams { k_min: 6, k_max: 3, ..params() }),
            "k range must satisfy 2 <= k_min <= k_max, not k_min = 6, k_max = 3"
        );
        assert_eq!(message(TrainParams { k_min: 1, ..params() }), "k range must satisfy 2 <= k_min <= k_max, not k_min = 1, k_max = 10");
        assert_eq!(message(TrainParams { init: "forgy", ..params() }), "init must be 'k-means++' or 'random', not 'forgy'");
        assert_eq!(message(TrainParams { tol: -1.0, ..params() }), "tol must be >= 0, not -1");
        assert_eq!(message(TrainParams { tol: f64::NAN, ..params() }), "tol must be >= 0, not NaN");
        assert_eq!(message(TrainParams { metric: "manhattan", ..params() }), "metric must be 'cosine' or 'l2', not 'manhattan'");
        assert_eq!(message(TrainParams { n_init: 0, ..params() }), "n_init must be between 1 and 100, not 0");
        assert_eq!(message(TrainParams { max_iter: 100_001, ..params() }), "max_iter must be between 1 and 100000, not 100001");
        assert_eq!(message(TrainParams { sample_size: -5, ..params() }), "sample_size must be between 1 and 1000000, not -5");
        assert!(matches!(TrainParams { n_init: 0, ..params() }.check(), Err(ClusterError::InvalidSetting(_))));
    }

    #[test]
    fn the_first_problem_in_argument_order_is_reported() {
        let both = TrainParams { k: Some(-1), metric: "manhattan", n_init: 0, ..params() };
        assert_eq!(message(both), "k must be at least 1, not -1");
        let later = TrainParams { init: "forgy", metric: "manhattan", ..params() };
        assert!(message(later).starts_with("init"));
    }
}
