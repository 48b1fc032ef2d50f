//! Blocked right-looking Cholesky factorisation, A = L·Lᵀ, in place.
//!
//! Storage is column-major: column `j` is `a[j*n .. (j+1)*n]`. For a
//! symmetric matrix that is also its row-major layout, so callers may fill it
//! either way. Only the lower triangle is read; afterwards the strict lower
//! triangle and diagonal hold L, and the upper triangle holds junk.

use rayon::prelude::*;

use crate::error::RankError;
use crate::matmul::{gemm_update, View, ViewMut};
use crate::scalar::Scalar;
use crate::stop::{check, ShouldStop};

/// Factorises the `n × n` symmetric positive definite matrix in `a`, panel by
/// panel of `block` columns. The trailing update, where nearly all the work
/// is, runs as one `gemm` per block column, in parallel. `stop` is asked
/// before each panel and each block column's update (at 12,000 items, one
/// panel's whole trailing update is about a second; one block column's a
/// few milliseconds).
pub(crate) fn cholesky_lower_in_place<T: Scalar>(
    a: &mut [T],
    n: usize,
    block: usize,
    stop: ShouldStop<'_>,
) -> Result<(), RankError> {
    if a.len() != n * n || block == 0 {
        return Err(RankError::InternalShape("cholesky input"));
    }
    let mut first = 0;
    while first < n {
        let width = block.min(n - first);
        check(stop)?;
        factor_panel(a, n, first, width)?;
        let trailing_start = (first + width) * n;
        if trailing_start < a.len() {
            let (done, trailing) = a.split_at_mut(trailing_start);
            let done: &[T] = done;
            trailing
                .par_chunks_mut(block * n)
                .enumerate()
                .try_for_each(|(index, columns)| {
                    check(stop)?;
                    let col0 = first + width + index * block;
                    let cols = columns.len() / n;
                    // A[col0.., col0..col0+cols] -= L[col0.., panel] · L[col0..col0+cols, panel]ᵀ
                    gemm_update(
                        ViewMut {
                            data: columns,
                            offset: col0,
                            rows: n - col0,
                            cols,
                            row_stride: 1,
                            col_stride: n,
                        },
                        true,
                        View {
                            data: done,
                            offset: first * n + col0,
                            rows: n - col0,
                            cols: width,
                            row_stride: 1,
                            col_stride: n,
                        },
                        View {
                            data: done,
                            offset: first * n + col0,
                            rows: width,
                            cols,
                            row_stride: n,
                            col_stride: 1,
                        },
                        -T::ONE,
                        "cholesky trailing update",
                    )
                })?;
        }
        first += width;
    }
    Ok(())
}

/// Unblocked left-looking Cholesky of columns `first .. first+width`, rows
/// `first ..`; earlier panels have already been subtracted by the trailing
/// updates, so only columns of this panel contribute.
fn factor_panel<T: Scalar>(
    a: &mut [T],
    n: usize,
    first: usize,
    width: usize,
) -> Result<(), RankError> {
    for col in first..first + width {
        let (left, right) = a.split_at_mut(col * n);
        let target = right
            .get_mut(..n)
            .ok_or(RankError::InternalShape("cholesky panel"))?;
        for prev in first..col {
            let source = &left[prev * n..(prev + 1) * n];
            let factor = source[col];
            if factor != T::ZERO {
                for (t, &s) in target[col..].iter_mut().zip(&source[col..]) {
                    *t = *t - factor * s;
                }
            }
        }
        let pivot = target[col];
        if pivot <= T::ZERO || !pivot.is_finite() {
            return Err(RankError::NotPositiveDefinite { column: col });
        }
        let root = pivot.sqrt();
        target[col] = root;
        let inverse = T::ONE / root;
        for t in &mut target[col + 1..] {
            *t = *t * inverse;
        }
    }
    Ok(())
}
