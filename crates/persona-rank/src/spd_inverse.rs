//! Inverse of a symmetric positive definite matrix through its Cholesky
//! factor: P = A⁻¹ = L⁻ᵀ·L⁻¹. Each stage is blocked so the bulk of the
//! n³/2 multiply-adds runs in `gemm`, in parallel over block columns.

use rayon::prelude::*;

use crate::cholesky::cholesky_lower_in_place;
use crate::error::{checked_len, expect_len, zeroed, RankError};
use crate::matmul::{gemm_update, View, ViewMut};
use crate::scalar::Scalar;
use crate::stop::{check, ShouldStop, NEVER};

/// Columns per block. 128 keeps a block column of a 12k-item matrix in L3
/// and gives enough block columns to balance two to sixteen threads.
const BLOCK: usize = 128;

/// The inverse of the `n × n` symmetric positive definite matrix `a`
/// (row- or column-major, they coincide; only the lower triangle is read).
/// `a` is consumed because its buffer is reused for the result, so the peak
/// memory is two matrices.
pub fn spd_inverse<T: Scalar>(a: Vec<T>, n: usize) -> Result<Vec<T>, RankError> {
    spd_inverse_with(a, n, NEVER)
}

/// [`spd_inverse`], asking `stop` between blocks of each stage (every few
/// milliseconds of work); once it says so, returns [`RankError::Cancelled`].
pub fn spd_inverse_with<T: Scalar>(
    mut a: Vec<T>,
    n: usize,
    stop: ShouldStop<'_>,
) -> Result<Vec<T>, RankError> {
    expect_len("matrix", checked_len(n, n, "matrix")?, a.len())?;
    if let Some(index) = a.iter().position(|v| !v.is_finite()) {
        return Err(RankError::NonFinite {
            what: "matrix",
            index,
        });
    }
    if n == 0 {
        return Ok(a);
    }
    cholesky_lower_in_place(&mut a, n, BLOCK, stop)?;
    let inverse_factor = lower_inverse(&a, n, stop)?;
    gram_of_lower(&inverse_factor, n, &mut a, stop)?;
    drop(inverse_factor);
    mirror_lower_to_upper(&mut a, n);
    Ok(a)
}

/// M = L⁻¹ (lower triangular, zeros above), one block column per task:
/// block forward substitution of L·X = E_j, right-looking so each step is a
/// tall `gemm`.
fn lower_inverse<T: Scalar>(l: &[T], n: usize, stop: ShouldStop<'_>) -> Result<Vec<T>, RankError> {
    let mut m: Vec<T> = zeroed(n * n, "inverse factor")?;
    m.par_chunks_mut(BLOCK * n)
        .enumerate()
        .try_for_each(|(index, columns)| {
            let col0 = index * BLOCK;
            let cols = columns.len() / n;
            for c in 0..cols {
                columns[c * n + col0 + c] = T::ONE;
            }
            let mut solved = vec![T::ZERO; BLOCK * cols];
            let mut row0 = col0;
            while row0 < n {
                check(stop)?;
                let rows = BLOCK.min(n - row0);
                // X[row0..row0+rows] := L_kk⁻¹ · X[row0..row0+rows]
                for c in 0..cols {
                    let x = &mut columns[c * n + row0..c * n + row0 + rows];
                    for r in 0..rows {
                        let l_col = &l[(row0 + r) * n + row0..(row0 + r) * n + row0 + rows];
                        let xr = x[r] / l_col[r];
                        x[r] = xr;
                        if xr != T::ZERO {
                            for (xi, &li) in x[r + 1..].iter_mut().zip(&l_col[r + 1..]) {
                                *xi = *xi - li * xr;
                            }
                        }
                    }
                }
                let below = row0 + rows;
                if below < n {
                    // The solved rows are copied out so the product reads them
                    // from a buffer distinct from the one it writes.
                    for c in 0..cols {
                        solved[c * rows..(c + 1) * rows]
                            .copy_from_slice(&columns[c * n + row0..c * n + row0 + rows]);
                    }
                    // X[below..] -= L[below.., row0..row0+rows] · X_k
                    gemm_update(
                        ViewMut {
                            data: columns,
                            offset: below,
                            rows: n - below,
                            cols,
                            row_stride: 1,
                            col_stride: n,
                        },
                        true,
                        View {
                            data: l,
                            offset: row0 * n + below,
                            rows: n - below,
                            cols: rows,
                            row_stride: 1,
                            col_stride: n,
                        },
                        View {
                            data: &solved,
                            offset: 0,
                            rows,
                            cols,
                            row_stride: 1,
                            col_stride: rows,
                        },
                        -T::ONE,
                        "lower inverse update",
                    )?;
                }
                row0 = below;
            }
            Ok(())
        })?;
    Ok(m)
}

/// The lower triangle of P = Mᵀ·M for lower triangular M, written into
/// `out`: P[i-block, j-block] = M[i.., i-block]ᵀ · M[i.., j-block] for i ≥ j,
/// the rows above i being zero in M.
fn gram_of_lower<T: Scalar>(
    m: &[T],
    n: usize,
    out: &mut [T],
    stop: ShouldStop<'_>,
) -> Result<(), RankError> {
    out.par_chunks_mut(BLOCK * n)
        .enumerate()
        .try_for_each(|(index, columns)| {
            let col0 = index * BLOCK;
            let cols = columns.len() / n;
            let mut row0 = col0;
            while row0 < n {
                check(stop)?;
                let rows = BLOCK.min(n - row0);
                gemm_update(
                    ViewMut {
                        data: columns,
                        offset: row0,
                        rows,
                        cols,
                        row_stride: 1,
                        col_stride: n,
                    },
                    false,
                    View {
                        data: m,
                        offset: row0 * n + row0,
                        rows,
                        cols: n - row0,
                        row_stride: n,
                        col_stride: 1,
                    },
                    View {
                        data: m,
                        offset: col0 * n + row0,
                        rows: n - row0,
                        cols,
                        row_stride: 1,
                        col_stride: n,
                    },
                    T::ONE,
                    "inverse gram",
                )?;
                row0 += rows;
            }
            Ok(())
        })
}

/// Copies the lower triangle onto the upper one, in square tiles so both the
/// read and the write side stay in cache.
fn mirror_lower_to_upper<T: Scalar>(a: &mut [T], n: usize) {
    const TILE: usize = 64;
    for col_tile in (0..n).step_by(TILE) {
        for row_tile in (0..=col_tile).step_by(TILE) {
            for col in col_tile..(col_tile + TILE).min(n) {
                for row in row_tile..(row_tile + TILE).min(col) {
                    // Upper (row, col) with row < col takes lower (col, row).
                    a[col * n + row] = a[row * n + col];
                }
            }
        }
    }
}
