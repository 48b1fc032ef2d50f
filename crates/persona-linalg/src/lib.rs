//! Dense vector maths shared by every part of persona.
//!
//! Nothing here knows about Postgres: inputs are plain slices, failures are
//! [`VecError`] values that the SQL layer turns into ERRORs with SQLSTATEs.
//! Sums are accumulated in `f64` so that 384- or 768-dimensional `real[]`
//! vectors give the same answer whatever the order of the additions.
//!
//! - [`truncated_svd`]: randomized truncated SVD of a sparse matrix
//!   ([`SparseRows`]), giving user and item factors, with [`fold_in`] for
//!   users not in the fitted matrix; its failures are [`SvdError`] values.

use std::fmt;

mod jacobi;
mod mean;
mod pca;
mod qr;
mod sparse;
mod svd;
mod svd_params;
pub use mean::{MeanAccumulator, MeanError};
pub use pca::{fit_pca_2d, fit_pca_2d_with, Projection2d};
pub use sparse::SparseRows;
pub use svd::{fold_in, truncated_svd, Svd};
pub use svd_params::{SvdError, SvdParams, ValidSvdParams, MAX_K, MAX_OVERSAMPLE, MAX_POWER_ITERS};

/// Why two vectors could not be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VecError {
    /// A vector with no elements.
    Empty,
    /// The two vectors differ in length.
    DimensionMismatch { left: usize, right: usize },
    /// An element is NaN or infinite; `index` is 0-based.
    NotFinite { index: usize },
}

impl fmt::Display for VecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VecError::Empty => write!(f, "vector must have at least 1 dimension"),
            VecError::DimensionMismatch { left, right } => {
                write!(f, "different vector dimensions {left} and {right}")
            }
            VecError::NotFinite { index } => {
                // 1-based in the message: SQL arrays are 1-based.
                write!(f, "NaN or infinity not allowed in vector (element {})", index + 1)
            }
        }
    }
}

impl std::error::Error for VecError {}

/// Checks that a vector is non-empty and holds only finite numbers.
pub fn check_finite(v: &[f32]) -> Result<(), VecError> {
    if v.is_empty() {
        return Err(VecError::Empty);
    }
    match v.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(VecError::NotFinite { index }),
        None => Ok(()),
    }
}

fn check_pair(a: &[f32], b: &[f32]) -> Result<(), VecError> {
    if a.len() != b.len() {
        return Err(VecError::DimensionMismatch { left: a.len(), right: b.len() });
    }
    check_finite(a)?;
    check_finite(b)
}

/// Sum of element-wise products.
pub fn inner_product(a: &[f32], b: &[f32]) -> Result<f64, VecError> {
    check_pair(a, b)?;
    Ok(dot(a, b))
}

/// Cosine of the angle between `a` and `b`, in [-1, 1].
///
/// A zero vector has no direction: the result is NaN, as in pgvector.
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> Result<f64, VecError> {
    check_pair(a, b)?;
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    let denom = (aa * bb).sqrt();
    if denom == 0.0 {
        return Ok(f64::NAN);
    }
    // Rounding can push |cos| a hair past 1; clamp so acos() callers never see NaN.
    Ok((ab / denom).clamp(-1.0, 1.0))
}

/// Euclidean distance.
pub fn l2_distance(a: &[f32], b: &[f32]) -> Result<f64, VecError> {
    check_pair(a, b)?;
    let s: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum();
    Ok(s.sqrt())
}

/// Unchecked dot product in f64; callers have checked lengths.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum()
}

/// Scales `v` to unit length in place. A zero vector is left as it is.
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    if norm > 0.0 {
        for x in v.iter_mut() {
            *x = (f64::from(*x) / norm) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_parallel_and_opposite_vectors() {
        assert!((cosine_similarity(&[1.0, 2.0], &[2.0, 4.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((cosine_similarity(&[1.0, 0.0], &[-3.0, 0.0]).unwrap() + 1.0).abs() < 1e-12);
        assert!(cosine_similarity(&[1.0, 0.0], &[0.0, 1.0]).unwrap().abs() < 1e-12);
    }

    #[test]
    fn cosine_of_zero_vector_is_nan() {
        assert!(cosine_similarity(&[0.0, 0.0], &[1.0, 1.0]).unwrap().is_nan());
    }

    #[test]
    fn inner_product_and_l2() {
        assert_eq!(inner_product(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap(), 32.0);
        assert_eq!(l2_distance(&[0.0, 0.0], &[3.0, 4.0]).unwrap(), 5.0);
        assert_eq!(l2_distance(&[1.5], &[1.5]).unwrap(), 0.0);
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            cosine_similarity(&[1.0], &[1.0, 2.0]),
            Err(VecError::DimensionMismatch { left: 1, right: 2 })
        );
        assert_eq!(inner_product(&[], &[]), Err(VecError::Empty));
        assert_eq!(l2_distance(&[1.0, f32::NAN], &[1.0, 2.0]), Err(VecError::NotFinite { index: 1 }));
        assert_eq!(
            l2_distance(&[1.0, 2.0], &[f32::INFINITY, 2.0]),
            Err(VecError::NotFinite { index: 0 })
        );
        assert_eq!(
            VecError::NotFinite { index: 1 }.to_string(),
            "NaN or infinity not allowed in vector (element 2)"
        );
    }

    #[test]
    fn normalize_gives_unit_length_and_keeps_zero() {
        let mut v = [3.0f32, 4.0];
        l2_normalize(&mut v);
        assert!((v[0] - 0.6).abs() < 1e-7 && (v[1] - 0.8).abs() < 1e-7);
        let mut z = [0.0f32; 3];
        l2_normalize(&mut z);
        assert_eq!(z, [0.0; 3]);
    }
}
