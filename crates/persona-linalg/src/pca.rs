//! The first two principal components of a set of vectors, for drawing a
//! 2-D map of users (the report's scatter plot).
//!
//! Power iteration on the centred data, `v <- Xᵀ(X v)`, never forming the
//! `dim x dim` covariance matrix; the second component is kept orthogonal to
//! the first (deflation). Deterministic: fixed start vectors and a sign
//! convention (the largest-magnitude element of each component is positive).

use crate::VecError;

/// Iterations of the power method; it stops earlier once a component has settled.
const MAX_ITERATIONS: usize = 500;
const TOLERANCE: f64 = 1e-10;

/// A fitted 2-D projection.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection2d {
    pub dim: usize,
    /// Mean of the data, subtracted before projecting.
    pub mean: Vec<f64>,
    /// Two unit-length, orthogonal components, each `dim` long.
    pub components: [Vec<f64>; 2],
    /// Share of the total variance along each component (0 to 1).
    pub explained_variance_ratio: [f64; 2],
}

impl Projection2d {
    /// Coordinates of one vector on the two components.
    pub fn project(&self, v: &[f32]) -> Result<[f64; 2], VecError> {
        if v.len() != self.dim {
            return Err(VecError::DimensionMismatch { left: v.len(), right: self.dim });
        }
        let mut out = [0.0; 2];
        for (c, o) in self.components.iter().zip(out.iter_mut()) {
            *o = v.iter().zip(&self.mean).zip(c).map(|((&x, m), w)| (f64::from(x) - m) * w).sum();
        }
        Ok(out)
    }
}

/// Fits the first two principal components of `data` (rows of `dim` elements).
pub fn fit_pca_2d(data: &[f32], dim: usize) -> Result<Projection2d, VecError> {
    fit_pca_2d_with(data, dim, &mut || {})
}

/// As [`fit_pca_2d`], calling `between_iterations` after every pass over the
/// data (the SQL layer checks for cancel there).
pub fn fit_pca_2d_with(data: &[f32], dim: usize, between_iterations: &mut dyn FnMut()) -> Result<Projection2d, VecError> {
    if dim == 0 || data.is_empty() {
        return Err(VecError::Empty);
    }
    if data.len() % dim != 0 {
        return Err(VecError::DimensionMismatch { left: data.len() % dim, right: dim });
    }
    if let Some(index) = data.iter().position(|x| !x.is_finite()) {
        return Err(VecError::NotFinite { index: index % dim });
    }
    let n = data.len() / dim;
    let mut mean = vec![0.0f64; dim];
    for row in data.chunks_exact(dim) {
        for (m, &x) in mean.iter_mut().zip(row) {
            *m += f64::from(x);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let centred: Vec<f64> =
        data.chunks_exact(dim).flat_map(|row| row.iter().zip(&mean).map(|(&x, m)| f64::from(x) - m)).collect();
    let total_variance: f64 = centred.iter().map(|x| x * x).sum::<f64>() / n as f64;

    let first = dominant(&centred, dim, None, between_iterations);
    let second = dominant(&centred, dim, Some(&first.0), between_iterations);
    let ratio = |lambda: f64| if total_variance > 0.0 { (lambda / total_variance).clamp(0.0, 1.0) } else { 0.0 };
    Ok(Projection2d {
        dim,
        mean,
        explained_variance_ratio: [ratio(first.1), ratio(second.1)],
        components: [first.0, second.0],
    })
}

/// The dominant eigenvector of `XᵀX / n` (orthogonal to `against` when given) and its eigenvalue.
fn dominant(x: &[f64], dim: usize, against: Option<&[f64]>, between_iterations: &mut dyn FnMut()) -> (Vec<f64>, f64) {
    let n = x.len() / dim;
    // A start vector no real data set is orthogonal to by accident.
    let mut v: Vec<f64> = (0..dim).map(|i| 1.0 + (i as f64 * 0.618_033_988_75).fract()).collect();
    orthogonalise(&mut v, against);
    if normalise(&mut v) == 0.0 {
        v = vec![0.0; dim];
        v[dim - 1] = 1.0;
    }
    let mut lambda = 0.0;
    let mut xv = vec![0.0; n];
    for _ in 0..MAX_ITERATIONS {
        between_iterations();
        for (row, out) in x.chunks_exact(dim).zip(xv.iter_mut()) {
            *out = row.iter().zip(&v).map(|(a, b)| a * b).sum();
        }
        let mut w = vec![0.0; dim];
        for (row, &s) in x.chunks_exact(dim).zip(&xv) {
            for (wi, r) in w.iter_mut().zip(row) {
                *wi += r * s;
            }
        }
        orthogonalise(&mut w, against);
        let norm = normalise(&mut w);
        lambda = norm / n as f64;
        if norm == 0.0 {
            // No variance left in this direction: keep the (unit) start vector.
            break;
        }
        let change: f64 = w.iter().zip(&v).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        v = w;
        if change < TOLERANCE {
            break;
        }
    }
    // Sign convention, so that the same data always gives the same picture.
    if let Some(big) = v.iter().copied().max_by(|a, b| a.abs().total_cmp(&b.abs())) {
        if big < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
    }
    (v, lambda)
}

fn orthogonalise(v: &mut [f64], against: Option<&[f64]>) {
    if let Some(u) = against {
        let dot: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
        v.iter_mut().zip(u).for_each(|(a, b)| *a -= dot * b);
    }
}

fn normalise(v: &mut [f64]) -> f64 {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points spread mostly along (1, 1, 0), less along (1, -1, 0), not at all along z.
    fn planted() -> Vec<f32> {
        let mut data = Vec::new();
        for i in 0..200 {
            // Every combination of the signs equally often: a and b uncorrelated.
            let a = if i % 2 == 0 { 10.0 } else { -10.0 };
            let b = if (i / 2) % 2 == 0 { 2.0 } else { -2.0 };
            data.extend_from_slice(&[a + b + 5.0, a - b - 3.0, 7.0]);
        }
        data
    }

    #[test]
    fn recovers_the_planted_directions_and_their_variance() {
        let p = fit_pca_2d(&planted(), 3).unwrap();
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let c0 = &p.components[0];
        let c1 = &p.components[1];
        assert!((c0[0].abs() - s).abs() < 1e-3 && (c0[1].abs() - s).abs() < 1e-3 && c0[2].abs() < 1e-6, "{c0:?}");
        assert!((c1[0].abs() - s).abs() < 1e-3 && (c1[1].abs() - s).abs() < 1e-3 && c1[2].abs() < 1e-6, "{c1:?}");
        let dot: f64 = c0.iter().zip(c1).map(|(a, b)| a * b).sum();
        assert!(dot.abs() < 1e-9);
        // Two directions carry all the variance, the first most of it.
        let [r0, r1] = p.explained_variance_ratio;
        assert!((r0 - 200.0 / 208.0).abs() < 1e-6 && (r0 + r1 - 1.0).abs() < 1e-6, "{r0} {r1}");
    }

    #[test]
    fn projections_are_centred_and_deterministic() {
        let data = planted();
        let p = fit_pca_2d(&data, 3).unwrap();
        let q = fit_pca_2d(&data, 3).unwrap();
        assert_eq!(p, q);
        let mut sum = [0.0; 2];
        for row in data.chunks_exact(3) {
            let xy = p.project(row).unwrap();
            sum[0] += xy[0];
            sum[1] += xy[1];
        }
        assert!(sum[0].abs() < 1e-6 && sum[1].abs() < 1e-6);
        assert!(matches!(p.project(&[1.0]), Err(VecError::DimensionMismatch { .. })));
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(fit_pca_2d(&[], 3), Err(VecError::Empty));
        assert!(matches!(fit_pca_2d(&[1.0, 2.0], 3), Err(VecError::DimensionMismatch { .. })));
        assert_eq!(fit_pca_2d(&[1.0, f32::NAN], 2), Err(VecError::NotFinite { index: 1 }));
        // One point, or identical points: no variance, components still unit length.
        let p = fit_pca_2d(&[1.0, 2.0, 1.0, 2.0], 2).unwrap();
        assert_eq!(p.explained_variance_ratio, [0.0, 0.0]);
        for c in &p.components {
            assert!((c.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-9);
        }
        assert_eq!(p.project(&[1.0, 2.0]).unwrap(), [0.0, 0.0]);
    }
}
