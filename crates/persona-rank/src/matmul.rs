//! A bounds-checked front to `gemm`, the blocked matrix product used by the
//! top-k scorer and the SPD inverse.
//!
//! `gemm` takes raw pointers and strides. Every call here first proves that
//! each strided view stays inside the slice it was cut from, so the `unsafe`
//! call only relies on `gemm` honouring its own contract.

use crate::error::RankError;
use crate::scalar::Scalar;

/// A `rows × cols` matrix inside `data`: element `(r, c)` is
/// `data[offset + r * row_stride + c * col_stride]`.
pub(crate) struct View<'a, T> {
    pub data: &'a [T],
    pub offset: usize,
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

/// The writable counterpart of [`View`].
pub(crate) struct ViewMut<'a, T> {
    pub data: &'a mut [T],
    pub offset: usize,
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

/// Whether the last element of a strided view lies inside a buffer of `len`.
fn fits(len: usize, offset: usize, rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    if rows == 0 || cols == 0 {
        return offset <= len;
    }
    let last = (rows - 1)
        .checked_mul(rs)
        .and_then(|a| (cols - 1).checked_mul(cs).and_then(|b| a.checked_add(b)))
        .and_then(|a| a.checked_add(offset));
    matches!(last, Some(l) if l < len)
}

/// Strides that map distinct `(r, c)` to distinct elements, which `gemm`
/// needs for its destination: one unit stride and the other at least as long
/// as the unit-stride extent.
fn distinct_elements(rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    rows <= 1 && cols <= 1
        || (rs == 1 && (cols <= 1 || cs >= rows))
        || (cs == 1 && (rows <= 1 || rs >= cols))
}

fn stride(value: usize, what: &'static str) -> Result<isize, RankError> {
    isize::try_from(value).map_err(|_| RankError::InternalShape(what))
}

/// `dst := (accumulate ? dst : 0) + scale · lhs × rhs`, single-threaded
/// (callers parallelise over independent blocks).
pub(crate) fn gemm_update<T: Scalar>(
    dst: ViewMut<'_, T>,
    accumulate: bool,
    lhs: View<'_, T>,
    rhs: View<'_, T>,
    scale: T,
    what: &'static str,
) -> Result<(), RankError> {
    if lhs.rows != dst.rows || rhs.cols != dst.cols || lhs.cols != rhs.rows {
        return Err(RankError::InternalShape(what));
    }
    if !fits(
        dst.data.len(),
        dst.offset,
        dst.rows,
        dst.cols,
        dst.row_stride,
        dst.col_stride,
    ) || !fits(
        lhs.data.len(),
        lhs.offset,
        lhs.rows,
        lhs.cols,
        lhs.row_stride,
        lhs.col_stride,
    ) || !fits(
        rhs.data.len(),
        rhs.offset,
        rhs.rows,
        rhs.cols,
        rhs.row_stride,
        rhs.col_stride,
    ) || !distinct_elements(dst.rows, dst.cols, dst.row_stride, dst.col_stride)
    {
        return Err(RankError::InternalShape(what));
    }
    if dst.rows == 0 || dst.cols == 0 {
        return Ok(());
    }
    if lhs.cols == 0 {
        // An empty inner dimension adds nothing; gemm need not see it.
        if !accumulate {
            for r in 0..dst.rows {
                for c in 0..dst.cols {
                    let at = dst.offset + r * dst.row_stride + c * dst.col_stride;
                    if let Some(v) = dst.data.get_mut(at) {
                        *v = T::ZERO;
                    }
                }
            }
        }
        return Ok(());
    }
    let (dst_rs, dst_cs) = (stride(dst.row_stride, what)?, stride(dst.col_stride, what)?);
    let (lhs_rs, lhs_cs) = (stride(lhs.row_stride, what)?, stride(lhs.col_stride, what)?);
    let (rhs_rs, rhs_cs) = (stride(rhs.row_stride, what)?, stride(rhs.col_stride, what)?);
    let dst_ptr = dst.data[dst.offset..].as_mut_ptr();
    let lhs_ptr = lhs.data[lhs.offset..].as_ptr();
    let rhs_ptr = rhs.data[rhs.offset..].as_ptr();
    let keep = if accumulate { T::ONE } else { T::ZERO };
    // SAFETY: all three views were checked above to stay inside their slices;
    // `dst` comes from a `&mut` slice, so it overlaps neither operand; its
    // strides address distinct elements; T is f32 or f64 (sealed), which gemm
    // supports; Parallelism::None keeps gemm on the calling thread.
    unsafe {
        gemm::gemm(
            dst.rows,
            dst.cols,
            lhs.cols,
            dst_ptr,
            dst_cs,
            dst_rs,
            accumulate,
            lhs_ptr,
            lhs_cs,
            lhs_rs,
            rhs_ptr,
            rhs_cs,
            rhs_rs,
            keep,
            scale,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    Ok(())
}
