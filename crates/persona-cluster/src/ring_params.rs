//! The settings of [`rings`](crate::rings), checked in one place.

use crate::{ClusterError, Metric};

/// Largest `min_points`: rows of a ring are handed to DBSCAN up to this many
/// times each (see [`rings`](crate::rings)).
pub const MAX_MIN_POINTS: i64 = 10_000;

/// The settings of a ring search, unchecked.
#[derive(Debug, Clone, PartialEq)]
pub struct RingParams<'a> {
    /// Rows closer than this are neighbours: a cosine distance (`1 - cos`,
    /// in `(0, 2]`) under `cosine`, a Euclidean one under `l2`.
    pub eps: f64,
    /// Neighbours (the row itself included) that make a row the core of a
    /// ring; at least 2.
    pub min_points: i64,
    /// `cosine` or `l2`.
    pub metric: &'a str,
}

impl Default for RingParams<'static> {
    /// Cosine distance under 0.02 (a cosine above 0.98), five rows.
    fn default() -> Self {
        RingParams { eps: 0.02, min_points: 5, metric: "cosine" }
    }
}

/// Settings [`RingParams::check`] accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRingParams {
    pub(crate) eps: f64,
    /// The Euclidean radius on prepared rows: under Cosine the rows are unit
    /// length, where `|a - b|² = 2 (1 - cos)`, so it is `sqrt(2 eps)`.
    pub(crate) eps_l2: f64,
    pub(crate) min_points: usize,
    pub(crate) metric: Metric,
}

fn invalid(message: String) -> ClusterError {
    ClusterError::InvalidSetting(message)
}

impl RingParams<'_> {
    /// Checks every setting (the metric first: the range of eps depends on
    /// it) and returns the first problem as [`ClusterError::InvalidSetting`].
    pub fn check(&self) -> Result<ValidRingParams, ClusterError> {
        let metric: Metric = self.metric.parse()?;
        let eps_l2 = match metric {
            Metric::Cosine if self.eps > 0.0 && self.eps <= 2.0 => (2.0 * self.eps).sqrt(),
            Metric::Cosine => {
                return Err(invalid(format!("eps must be a cosine distance in (0, 2], not {}", self.eps)));
            }
            Metric::L2 if self.eps > 0.0 && self.eps.is_finite() => self.eps,
            Metric::L2 => return Err(invalid(format!("eps must be > 0, not {}", self.eps))),
        };
        if !(2..=MAX_MIN_POINTS).contains(&self.min_points) {
            return Err(invalid(format!("min_points must be between 2 and {MAX_MIN_POINTS}, not {}", self.min_points)));
        }
        let min_points = usize::try_from(self.min_points).map_err(|_| invalid("min_points does not fit in memory".to_owned()))?;
        Ok(ValidRingParams { eps: self.eps, eps_l2, min_points, metric })
    }
}

impl ValidRingParams {
    /// The distance.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// The Euclidean radius on prepared rows (see [`RingParams::eps`]).
    pub fn eps_l2(&self) -> f64 {
        self.eps_l2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(p: RingParams<'_>) -> String {
        p.check().unwrap_err().to_string()
    }

    #[test]
    fn cosine_eps_becomes_a_chord() {
        let valid = RingParams { eps: 0.02, ..RingParams::default() }.check().unwrap();
        assert!((valid.eps_l2 - 0.2).abs() < 1e-12);
        let l2 = RingParams { eps: 3.5, metric: "l2", ..RingParams::default() }.check().unwrap();
        assert_eq!(l2.eps_l2, 3.5);
    }

    #[test]
    fn each_bad_setting_is_named() {
        let d = RingParams::default;
        assert_eq!(message(RingParams { metric: "jaccard", ..d() }), "metric must be 'cosine' or 'l2', not 'jaccard'");
        assert_eq!(message(RingParams { eps: 0.0, ..d() }), "eps must be a cosine distance in (0, 2], not 0");
        assert_eq!(message(RingParams { eps: 2.5, ..d() }), "eps must be a cosine distance in (0, 2], not 2.5");
        assert_eq!(message(RingParams { eps: f64::NAN, metric: "l2", ..d() }), "eps must be > 0, not NaN");
        assert_eq!(message(RingParams { min_points: 1, ..d() }), "min_points must be between 2 and 10000, not 1");
        assert!(matches!(RingParams { min_points: 0, ..d() }.check(), Err(ClusterError::InvalidSetting(_))));
    }
}
