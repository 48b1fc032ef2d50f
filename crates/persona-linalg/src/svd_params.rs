//! Errors and parameters of the truncated SVD ([`crate::truncated_svd`]).
//!
//! Parameters are checked once, against the shape of the matrix, into a
//! [`ValidSvdParams`]; the SVD itself then never has to refuse them.

use std::fmt;

/// Hard ceilings on the parameters: beyond them the work (and the SQL
/// caller's wait) grows without improving user factors.
pub const MAX_K: usize = 512;
pub const MAX_OVERSAMPLE: usize = 100;
pub const MAX_POWER_ITERS: usize = 20;

/// Why a sparse matrix or an SVD could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvdError {
    /// A parameter outside its allowed range.
    InvalidParameter { name: &'static str, reason: String },
    /// The matrix or a row handed in is unusable (bad index, NaN, no entries...).
    BadInput(String),
    /// A work buffer could not be allocated; `bytes` is its size.
    OutOfMemory { what: &'static str, bytes: usize },
    /// The caller's stop callback asked to give up.
    Cancelled,
}

impl fmt::Display for SvdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SvdError::InvalidParameter { name, reason } => write!(f, "invalid {name}: {reason}"),
            SvdError::BadInput(msg) => write!(f, "bad input: {msg}"),
            SvdError::OutOfMemory { what, bytes } => {
                write!(f, "out of memory allocating {bytes} bytes for {what}")
            }
            SvdError::Cancelled => write!(f, "truncated SVD cancelled"),
        }
    }
}

impl std::error::Error for SvdError {}

/// Settings of the randomized SVD (Halko, Martinsson & Tropp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SvdParams {
    /// Number of singular triplets wanted.
    pub k: usize,
    /// Extra sketch columns beyond `k`; they make the top `k` accurate.
    pub oversample: usize,
    /// Passes of `A Aᵀ` over the sketch; each sharpens a slowly decaying spectrum.
    pub power_iters: usize,
    /// Seed of the random test matrix: same seed, same bits out.
    pub seed: u64,
}

impl Default for SvdParams {
    fn default() -> Self {
        SvdParams { k: 64, oversample: 10, power_iters: 4, seed: 42 }
    }
}

/// Parameters checked against one matrix shape; only [`SvdParams::check`] makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidSvdParams {
    pub(crate) k: usize,
    pub(crate) sketch: usize,
    pub(crate) power_iters: usize,
    pub(crate) seed: u64,
    pub(crate) n_rows: usize,
    pub(crate) n_cols: usize,
}

impl ValidSvdParams {
    pub fn k(&self) -> usize {
        self.k
    }

    /// Columns of the random sketch: `k + oversample`, capped by the smaller dimension.
    pub fn sketch_width(&self) -> usize {
        self.sketch
    }

    pub fn power_iters(&self) -> usize {
        self.power_iters
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The shape these parameters were checked for.
    pub fn shape(&self) -> (usize, usize) {
        (self.n_rows, self.n_cols)
    }
}

fn invalid(name: &'static str, reason: String) -> SvdError {
    SvdError::InvalidParameter { name, reason }
}

impl SvdParams {
    /// Checks the parameters for an `n_rows x n_cols` matrix.
    pub fn check(&self, n_rows: usize, n_cols: usize) -> Result<ValidSvdParams, SvdError> {
        let min_dim = n_rows.min(n_cols);
        if self.k == 0 {
            return Err(invalid("k", "must be at least 1".into()));
        }
        if self.k > MAX_K {
            return Err(invalid("k", format!("{} is above the maximum {MAX_K}", self.k)));
        }
        if self.k > min_dim {
            return Err(invalid("k", format!("{} exceeds the smaller matrix dimension ({n_rows} x {n_cols})", self.k)));
        }
        if self.oversample > MAX_OVERSAMPLE {
            return Err(invalid("oversample", format!("{} is above the maximum {MAX_OVERSAMPLE}", self.oversample)));
        }
        if self.power_iters > MAX_POWER_ITERS {
            return Err(invalid("power_iters", format!("{} is above the maximum {MAX_POWER_ITERS}", self.power_iters)));
        }
        Ok(ValidSvdParams {
            k: self.k,
            sketch: (self.k + self.oversample).min(min_dim),
            power_iters: self.power_iters,
            seed: self.seed,
            n_rows,
            n_cols,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_sketch_is_capped() {
        let p = SvdParams::default().check(1000, 100).unwrap();
        assert_eq!((p.k(), p.sketch_width(), p.power_iters(), p.seed()), (64, 74, 4, 42));
        let p = SvdParams::default().check(1000, 70).unwrap();
        assert_eq!(p.sketch_width(), 70);
    }

    #[test]
    fn each_limit_is_named() {
        let name = |p: SvdParams, r, c| match p.check(r, c) {
            Err(SvdError::InvalidParameter { name, .. }) => name,
            other => panic!("{other:?}"),
        };
        let d = SvdParams::default();
        assert_eq!(name(SvdParams { k: 0, ..d }, 10, 10), "k");
        assert_eq!(name(SvdParams { k: 11, ..d }, 10, 20), "k");
        assert_eq!(name(SvdParams { k: 513, ..d }, 1000, 1000), "k");
        assert_eq!(name(SvdParams { k: 1, ..d }, 0, 10), "k");
        assert_eq!(name(SvdParams { k: 2, oversample: 101, ..d }, 10, 10), "oversample");
        assert_eq!(name(SvdParams { k: 2, power_iters: 21, ..d }, 10, 10), "power_iters");
        assert!(SvdParams { k: 512, oversample: 100, power_iters: 20, seed: 0 }.check(512, 600).is_ok());
    }
}
