//! A sparse matrix in compressed sparse row (CSR) form, and its products
//! with tall dense blocks — the only way the truncated SVD touches the data,
//! so each product costs O(nnz · width) and never densifies the matrix.

use crate::svd_params::SvdError;

/// A sparse `n_rows x n_cols` matrix, rows stored one after another with
/// their column indices ascending. Entries are `f32`, as they come from SQL;
/// explicit zeros are not stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseRows {
    n_rows: usize,
    n_cols: usize,
    /// `row_start[r]..row_start[r + 1]` indexes row `r` in `cols` / `values`.
    row_start: Vec<usize>,
    cols: Vec<u32>,
    values: Vec<f32>,
}

/// Allocates a zero-filled buffer, turning an impossible size into an error
/// value rather than an abort.
pub(crate) fn try_zeroed<T: Clone + Default>(len: usize, what: &'static str) -> Result<Vec<T>, SvdError> {
    let bytes = len.saturating_mul(std::mem::size_of::<T>());
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| SvdError::OutOfMemory { what, bytes })?;
    v.resize(len, T::default());
    Ok(v)
}

impl SparseRows {
    /// Builds the matrix from `(row, col, value)` triplets in any order.
    /// Duplicates are summed (in f64, in input order, so the result does not
    /// depend on how the summation happens to be grouped).
    pub fn from_triplets(n_rows: usize, n_cols: usize, triplets: &[(u32, u32, f32)]) -> Result<SparseRows, SvdError> {
        if n_rows == 0 || n_cols == 0 {
            return Err(SvdError::BadInput(format!("empty matrix shape {n_rows} x {n_cols}")));
        }
        // Indices are u32: a larger dimension could never be addressed.
        let limit = u64::from(u32::MAX) + 1;
        if n_rows as u64 > limit || n_cols as u64 > limit {
            return Err(SvdError::BadInput(format!("matrix shape {n_rows} x {n_cols} exceeds u32 indices")));
        }
        let mut counts: Vec<usize> = try_zeroed(n_rows + 1, "row offsets")?;
        for (i, &(r, c, v)) in triplets.iter().enumerate() {
            if r as usize >= n_rows || c as usize >= n_cols {
                return Err(SvdError::BadInput(format!(
                    "triplet {i}: index ({r}, {c}) outside the {n_rows} x {n_cols} matrix"
                )));
            }
            if !v.is_finite() {
                return Err(SvdError::BadInput(format!("triplet {i}: value at ({r}, {c}) is {v}")));
            }
            counts[r as usize + 1] += 1;
        }
        for r in 0..n_rows {
            counts[r + 1] += counts[r];
        }
        // Counting sort by row; stable, so duplicates keep their input order.
        let mut next = counts.clone();
        let mut scattered: Vec<(u32, f32)> = try_zeroed(triplets.len(), "triplet buffer")?;
        for &(r, c, v) in triplets {
            scattered[next[r as usize]] = (c, v);
            next[r as usize] += 1;
        }
        drop(next);
        let mut row_start: Vec<usize> = try_zeroed(n_rows + 1, "row offsets")?;
        let mut cols: Vec<u32> = Vec::new();
        let mut values: Vec<f32> = Vec::new();
        let cap = triplets.len();
        cols.try_reserve_exact(cap).map_err(|_| SvdError::OutOfMemory { what: "column indices", bytes: cap * 4 })?;
        values.try_reserve_exact(cap).map_err(|_| SvdError::OutOfMemory { what: "values", bytes: cap * 4 })?;
        for r in 0..n_rows {
            let row = &mut scattered[counts[r]..counts[r + 1]];
            row.sort_by_key(|&(c, _)| c);
            let mut i = 0;
            while i < row.len() {
                let c = row[i].0;
                let mut sum = 0.0f64;
                while i < row.len() && row[i].0 == c {
                    sum += f64::from(row[i].1);
                    i += 1;
                }
                let v = sum as f32;
                if !v.is_finite() {
                    return Err(SvdError::BadInput(format!("duplicates at ({r}, {c}) sum beyond the f32 range")));
                }
                if v != 0.0 {
                    cols.push(c);
                    values.push(v);
                }
            }
            row_start[r + 1] = cols.len();
        }
        Ok(SparseRows { n_rows, n_cols, row_start, cols, values })
    }

    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Number of stored (nonzero) entries.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Column indices and values of row `r`, or `None` past the last row.
    pub fn row(&self, r: usize) -> Option<(&[u32], &[f32])> {
        if r >= self.n_rows {
            return None;
        }
        let span = self.row_start[r]..self.row_start[r + 1];
        Some((&self.cols[span.clone()], &self.values[span]))
    }

    /// Squared Frobenius norm, the total that singular values squared share.
    pub fn frobenius_sq(&self) -> f64 {
        self.values.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
    }

    /// `out = self · x`, with `x` an `n_cols x width` and `out` an
    /// `n_rows x width` row-major block.
    pub(crate) fn mul_dense(&self, x: &[f64], width: usize, out: &mut [f64]) {
        debug_assert_eq!(x.len(), self.n_cols * width);
        debug_assert_eq!(out.len(), self.n_rows * width);
        for (r, out_row) in out.chunks_exact_mut(width).enumerate() {
            out_row.iter_mut().for_each(|o| *o = 0.0);
            for i in self.row_start[r]..self.row_start[r + 1] {
                let v = f64::from(self.values[i]);
                let c = self.cols[i] as usize;
                let x_row = &x[c * width..(c + 1) * width];
                for (o, &xv) in out_row.iter_mut().zip(x_row) {
                    *o += v * xv;
                }
            }
        }
    }

    /// `out = selfᵀ · y`, with `y` an `n_rows x width` and `out` an
    /// `n_cols x width` row-major block. Scatters row by row: `y` is read
    /// once in order and only the (smaller, item-side) `out` is hit at
    /// random, which caches better than gathering from a transposed copy and
    /// needs no second copy of the matrix.
    pub(crate) fn mul_transpose_dense(&self, y: &[f64], width: usize, out: &mut [f64]) {
        debug_assert_eq!(y.len(), self.n_rows * width);
        debug_assert_eq!(out.len(), self.n_cols * width);
        out.iter_mut().for_each(|o| *o = 0.0);
        for (r, y_row) in y.chunks_exact(width).enumerate() {
            for i in self.row_start[r]..self.row_start[r + 1] {
                let v = f64::from(self.values[i]);
                let c = self.cols[i] as usize;
                for (o, &yv) in out[c * width..(c + 1) * width].iter_mut().zip(y_row) {
                    *o += v * yv;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl SparseRows {
        /// The transpose, by a counting sort on columns: the oracle for the
        /// scattering product.
        fn transpose(&self) -> Result<SparseRows, SvdError> {
            let mut row_start: Vec<usize> = try_zeroed(self.n_cols + 1, "transposed offsets")?;
            for &c in &self.cols {
                row_start[c as usize + 1] += 1;
            }
            for c in 0..self.n_cols {
                row_start[c + 1] += row_start[c];
            }
            let mut next = row_start.clone();
            let mut cols: Vec<u32> = try_zeroed(self.nnz(), "transposed indices")?;
            let mut values: Vec<f32> = try_zeroed(self.nnz(), "transposed values")?;
            for r in 0..self.n_rows {
                for i in self.row_start[r]..self.row_start[r + 1] {
                    let c = self.cols[i] as usize;
                    cols[next[c]] = r as u32;
                    values[next[c]] = self.values[i];
                    next[c] += 1;
                }
            }
            Ok(SparseRows { n_rows: self.n_cols, n_cols: self.n_rows, row_start, cols, values })
        }
    }

    #[test]
    fn duplicates_sum_zeros_drop_and_rows_are_sorted() {
        let m = SparseRows::from_triplets(3, 4, &[(2, 3, 1.0), (0, 2, 2.0), (0, 1, 1.0), (0, 2, 0.5), (1, 0, 0.0)])
            .unwrap();
        assert_eq!((m.n_rows(), m.n_cols(), m.nnz()), (3, 4, 3));
        assert_eq!(m.row(0).unwrap(), (&[1u32, 2][..], &[1.0f32, 2.5][..]));
        assert_eq!(m.row(1).unwrap(), (&[][..], &[][..]));
        assert_eq!(m.row(2).unwrap(), (&[3u32][..], &[1.0f32][..]));
        assert!(m.row(3).is_none());
        assert_eq!(m.frobenius_sq(), 1.0 + 6.25 + 1.0);
    }

    #[test]
    fn transpose_and_products_agree_with_dense() {
        let t = [(0, 0, 1.0), (0, 2, 2.0), (1, 1, 3.0), (2, 0, -1.0), (2, 2, 4.0)];
        let m = SparseRows::from_triplets(3, 3, &t).unwrap();
        let mt = m.transpose().unwrap();
        assert_eq!(mt.row(0).unwrap(), (&[0u32, 2][..], &[1.0f32, -1.0][..]));
        assert_eq!(mt.transpose().unwrap(), m);
        let x = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0];
        let mut y = [0.0; 6];
        m.mul_dense(&x, 2, &mut y);
        assert_eq!(y, [7.0, 70.0, 6.0, 60.0, 11.0, 110.0]);
        let (mut z, mut z_t) = ([0.0; 6], [0.0; 6]);
        m.mul_transpose_dense(&x, 2, &mut z);
        mt.mul_dense(&x, 2, &mut z_t);
        assert_eq!(z, z_t);
    }

    #[test]
    fn bad_triplets_are_errors() {
        assert!(matches!(SparseRows::from_triplets(0, 3, &[]), Err(SvdError::BadInput(_))));
        assert!(matches!(SparseRows::from_triplets(2, 2, &[(2, 0, 1.0)]), Err(SvdError::BadInput(_))));
        assert!(matches!(SparseRows::from_triplets(2, 2, &[(0, 2, 1.0)]), Err(SvdError::BadInput(_))));
        assert!(matches!(SparseRows::from_triplets(2, 2, &[(0, 0, f32::NAN)]), Err(SvdError::BadInput(_))));
        let big = [(0, 0, f32::MAX), (0, 0, f32::MAX)];
        assert!(matches!(SparseRows::from_triplets(1, 1, &big), Err(SvdError::BadInput(_))));
    }
}
