//! A whitening principal-component projection, fitted on a sample: the
//! reduction a mixture runs in.
//!
//! A full-covariance mixture in the rows' own dimension (hundreds) has more
//! free values per component than a sample has rows; the leading principal
//! components keep the directions along which segments differ. Each kept
//! axis is scaled to unit variance on the sample, so that a regularisation
//! added to a covariance's diagonal means the same share of the spread on
//! every axis and for every data set.

use linfa_linalg::eigh::EighInto;
use ndarray::{Array2, ArrayView2};

use crate::ClusterError;

/// Eigenvalues below this share of the largest are directions the sample
/// does not span (rounding, or fewer rows than dimensions); whitening them
/// would divide by noise.
const RANK_TOLERANCE: f64 = 1e-9;

/// `z = matrix · (x - mean)`, with `matrix` of `components × dim`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Projection {
    pub dim: usize,
    pub components: usize,
    pub mean: Vec<f64>,
    /// Row-major, `components × dim`; row `i` is the `i`-th principal axis
    /// divided by the square root of its variance.
    pub matrix: Vec<f64>,
}

/// A fitted projection and the share of the sample's variance it keeps.
pub(crate) struct Fitted {
    pub projection: Projection,
    pub explained: f64,
}

impl Projection {
    /// Fits on checked rows (`n × dim`, finite), keeping at most
    /// `max_components` axes. Fails when the rows have no spread at all.
    pub(crate) fn fit(rows: &[f32], dim: usize, max_components: usize) -> Result<Fitted, ClusterError> {
        let n = rows.len() / dim;
        let mut mean = vec![0.0f64; dim];
        for row in rows.chunks_exact(dim) {
            mean.iter_mut().zip(row).for_each(|(m, &x)| *m += f64::from(x));
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let centred = Array2::from_shape_fn((n, dim), |(r, c)| f64::from(rows[r * dim + c]) - mean[c]);
        // The smaller of the two Gram matrices has the same non-zero spectrum.
        let (values, axes) = if n >= dim { covariance_axes(centred.view()) } else { gram_axes(centred.view()) }?;
        let total: f64 = values.iter().sum();
        let largest = values.first().copied().unwrap_or(0.0);
        let kept = values.iter().take(max_components).take_while(|&&v| v > RANK_TOLERANCE * largest && v > 0.0).count();
        if kept == 0 || !largest.is_finite() {
            return Err(ClusterError::FitFailed(
                "the sample's rows are all the same: there is no spread to model".to_owned(),
            ));
        }
        let mut matrix = Vec::with_capacity(kept * dim);
        for (i, &value) in values.iter().enumerate().take(kept) {
            let mut axis: Vec<f64> = (0..dim).map(|c| axes[(c, i)]).collect();
            let norm = axis.iter().map(|a| a * a).sum::<f64>().sqrt();
            // One sign for an axis, so that the same sample gives the same model.
            let big = axis.iter().copied().max_by(|a, b| a.abs().total_cmp(&b.abs())).unwrap_or(1.0);
            let scale = big.signum() / (norm * value.sqrt());
            axis.iter_mut().for_each(|a| *a *= scale);
            matrix.extend_from_slice(&axis);
        }
        let explained = if total > 0.0 { (values[..kept].iter().sum::<f64>() / total).clamp(0.0, 1.0) } else { 0.0 };
        Ok(Fitted { projection: Projection { dim, components: kept, mean, matrix }, explained })
    }

    /// Coordinates of one row of `dim` values.
    pub(crate) fn project_into(&self, row: &[f32], centred: &mut [f64], out: &mut [f64]) {
        centred.iter_mut().zip(row).zip(&self.mean).for_each(|((c, &x), m)| *c = f64::from(x) - m);
        for (o, axis) in out.iter_mut().zip(self.matrix.chunks_exact(self.dim)) {
            *o = axis.iter().zip(centred.iter()).map(|(a, c)| a * c).sum();
        }
    }

    /// Coordinates of every row, `n × components`.
    pub(crate) fn project_rows(&self, rows: &[f32]) -> Array2<f64> {
        let n = rows.len() / self.dim;
        let mut out = Array2::zeros((n, self.components));
        let mut centred = vec![0.0; self.dim];
        for (row, mut z) in rows.chunks_exact(self.dim).zip(out.rows_mut()) {
            if let Some(z) = z.as_slice_mut() {
                self.project_into(row, &mut centred, z);
            }
        }
        out
    }
}

/// Eigenvalues (descending, of `XᵀX / n`) and unit eigenvectors as columns of `dim × dim`.
fn covariance_axes(x: ArrayView2<'_, f64>) -> Result<(Vec<f64>, Array2<f64>), ClusterError> {
    let n = x.nrows() as f64;
    let cov = x.t().dot(&x) / n;
    sorted_eigh(cov)
}

/// The same from `XXᵀ / n` (`n × n`), for fewer rows than dimensions: an
/// eigenvector `u` of it gives the axis `Xᵀu`, of the same eigenvalue.
fn gram_axes(x: ArrayView2<'_, f64>) -> Result<(Vec<f64>, Array2<f64>), ClusterError> {
    let n = x.nrows() as f64;
    let gram = x.dot(&x.t()) / n;
    let (values, u) = sorted_eigh(gram)?;
    Ok((values, x.t().dot(&u)))
}

fn sorted_eigh(matrix: Array2<f64>) -> Result<(Vec<f64>, Array2<f64>), ClusterError> {
    let (values, vectors) = matrix
        .eigh_into()
        .map_err(|e| ClusterError::FitFailed(format!("the principal components of the sample could not be computed: {e}")))?;
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let sorted_values = order.iter().map(|&i| values[i].max(0.0)).collect();
    let sorted_vectors = Array2::from_shape_fn(vectors.dim(), |(r, c)| vectors[(r, order[c])]);
    Ok((sorted_values, sorted_vectors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitened_coordinates_have_unit_variance() {
        // Spread 3 along (1, 1), 1 along (1, -1), centred on (5, -2).
        let mut rows = Vec::new();
        for i in 0..400 {
            let a = if i % 2 == 0 { 3.0 } else { -3.0 };
            let b = if (i / 2) % 2 == 0 { 1.0 } else { -1.0 };
            rows.extend_from_slice(&[5.0 + a + b, -2.0 + a - b]);
        }
        let fitted = Projection::fit(&rows, 2, 2).unwrap();
        let p = &fitted.projection;
        assert_eq!(p.components, 2);
        assert!((fitted.explained - 1.0).abs() < 1e-9);
        let z = p.project_rows(&rows);
        for c in 0..2 {
            let var = z.column(c).iter().map(|v| v * v).sum::<f64>() / 400.0;
            assert!((var - 1.0).abs() < 1e-9, "{var}");
        }
        assert_eq!(Projection::fit(&rows, 2, 2).unwrap().projection, *p);
    }

    #[test]
    fn few_rows_and_no_spread() {
        let rows = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        // Three rows span two directions once centred.
        assert_eq!(Projection::fit(&rows, 3, 5).unwrap().projection.components, 2);
        let gram = Projection::fit(&rows[..6], 3, 5).unwrap();
        assert_eq!(gram.projection.components, 1);
        assert!(matches!(Projection::fit(&[2.0, 2.0, 2.0, 2.0], 2, 2), Err(ClusterError::FitFailed(_))));
    }
}
