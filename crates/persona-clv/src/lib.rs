//! Customer-lifetime-value models, fitted by maximum likelihood.
//!
//! * BG/NBD (Fader, Hardie & Lee 2005): how many purchases a customer will
//!   make and whether they are still "alive", from (frequency x, recency t_x,
//!   age T) in any time unit.
//! * Gamma-Gamma (Fader & Hardie 2013): expected spend per purchase from
//!   (x, mean spend) of repeat customers.
//!
//! Fitting is Nelder-Mead on log-parameters, deterministic, with no
//! dependencies; the SQL layer feeds rows in and stores the parameters.

mod bgnbd;
mod gamma_gamma;
mod nelder_mead;
mod special;

pub use bgnbd::{BgNbd, Customer};
pub use gamma_gamma::{GammaGamma, SpendRecord};
pub use nelder_mead::{minimize, minimize_with_restarts, Minimum};

/// Log-parameters beyond ±15 (parameters outside about 3e-7..3e6) are
/// treated as infeasible. On data where the likelihood keeps rising along a
/// ridge towards infinity (for example BG/NBD's a and b when nobody seems to
/// drop out), this stops the simplex at the wall within a few hundred steps
/// instead of crawling along the ridge for the whole iteration budget; the
/// parameters then say "effectively infinite" in a finite number.
pub fn out_of_bounds(log_params: &[f64]) -> bool {
    log_params.iter().any(|v| v.abs() > 15.0)
}

/// Why a model could not be fitted or applied.
#[derive(Debug, Clone, PartialEq)]
pub enum ClvError {
    /// No usable rows (for Gamma-Gamma: no repeat customers).
    NoData,
    /// A row violates 0 <= t_x <= T, x >= 0, or has a non-finite value; `row` is 0-based.
    BadRow { row: usize, reason: String },
    /// The optimiser did not reach a finite likelihood.
    NoConvergence,
    /// Applying a model: the quantity is infinite or beyond f64 for these
    /// inputs (or its series does not converge); `what` says which and why.
    OutOfRange { what: String },
}

impl std::fmt::Display for ClvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClvError::NoData => write!(f, "no usable rows to fit"),
            ClvError::BadRow { row, reason } => write!(f, "row {}: {reason}", row + 1),
            ClvError::NoConvergence => write!(f, "the fit did not converge"),
            ClvError::OutOfRange { what } => write!(f, "{what}"),
        }
    }
}

impl std::error::Error for ClvError {}
