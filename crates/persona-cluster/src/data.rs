//! Checking row-major data and bringing it into the form a metric needs.

use std::borrow::Cow;

use crate::{ClusterError, Metric};

/// Under this gap between a row's squared norm and 1 the row counts as
/// already normalised: `normalize_rows` itself lands within ~1e-7, so the
/// looser bound only avoids a copy for data normalised elsewhere in `f32`.
const UNIT_NORM_TOLERANCE: f64 = 1e-5;

/// Number of rows in `data`, after checking that it is non-empty, whole rows
/// of `dim` values, and finite.
pub(crate) fn check_rows(data: &[f32], dim: usize) -> Result<usize, ClusterError> {
    if dim == 0 {
        return Err(ClusterError::ZeroDimension);
    }
    if data.is_empty() {
        return Err(ClusterError::EmptyData);
    }
    if !data.len().is_multiple_of(dim) {
        return Err(ClusterError::RaggedData { len: data.len(), dim });
    }
    if let Some(index) = data.iter().position(|x| !x.is_finite()) {
        return Err(ClusterError::NotFinite { row: index / dim, column: index % dim });
    }
    Ok(data.len() / dim)
}

/// Checks that `centroids` is a finite `k × dim` matrix.
pub(crate) fn check_centroids(centroids: &[f32], k: usize, dim: usize) -> Result<(), ClusterError> {
    if centroids.len() != k * dim {
        return Err(ClusterError::CentroidShape { expected: k * dim, got: centroids.len() });
    }
    check_rows(centroids, dim).map(|_| ())
}

/// Number of centroids in a finite, non-empty `k × dim` matrix.
pub(crate) fn centroid_count(centroids: &[f32], dim: usize) -> Result<usize, ClusterError> {
    if dim > 0 && (centroids.is_empty() || !centroids.len().is_multiple_of(dim)) {
        return Err(ClusterError::CentroidShape { expected: dim, got: centroids.len() });
    }
    check_rows(centroids, dim)
}

/// Lanes of independent partial sums: one chain of `f64` additions would
/// neither vectorise nor hide the add latency (≈4 cycles per element).
const SUM_LANES: usize = 8;

/// `Σ f(a_i, b_i)` in `f64` over [`SUM_LANES`] interleaved partial sums,
/// combined pairwise: the same order for every call, so results repeat.
#[inline(always)]
fn lane_sum(a: &[f32], b: &[f32], f: impl Fn(f64, f64) -> f64) -> f64 {
    let mut lanes = [0.0f64; SUM_LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(SUM_LANES), b.chunks_exact(SUM_LANES));
    let (a_tail, b_tail) = (a_chunks.remainder(), b_chunks.remainder());
    for (x, y) in a_chunks.zip(b_chunks) {
        for ((lane, &p), &q) in lanes.iter_mut().zip(x).zip(y) {
            *lane += f(f64::from(p), f64::from(q));
        }
    }
    for ((lane, &p), &q) in lanes.iter_mut().zip(a_tail).zip(b_tail) {
        *lane += f(f64::from(p), f64::from(q));
    }
    let quads = [lanes[0] + lanes[4], lanes[1] + lanes[5], lanes[2] + lanes[6], lanes[3] + lanes[7]];
    (quads[0] + quads[2]) + (quads[1] + quads[3])
}

/// Squared Euclidean norm, accumulated in `f64`.
#[inline(always)]
pub(crate) fn sq_norm_f64(row: &[f32]) -> f64 {
    lane_sum(row, row, |x, _| x * x)
}

/// Dot product, accumulated in `f64`.
#[inline(always)]
pub(crate) fn dot_f64(a: &[f32], b: &[f32]) -> f64 {
    lane_sum(a, b, |x, y| x * y)
}

/// Squared norms of rows, rounded to `f32` as the kernel uses them.
pub(crate) fn row_sq_norms(rows: &[f32], dim: usize) -> Vec<f32> {
    rows.chunks_exact(dim).map(|row| sq_norm_f64(row) as f32).collect()
}

/// Scales every row of `data` to unit Euclidean length, in place.
///
/// Fails on ragged or non-finite data and on rows that are all zeros (they
/// have no direction); on failure `data` is left unchanged.
pub fn normalize_rows(data: &mut [f32], dim: usize) -> Result<(), ClusterError> {
    let rows = check_rows(data, dim)?;
    let mut inverse_norms = Vec::with_capacity(rows);
    for (row_index, row) in data.chunks_exact(dim).enumerate() {
        let norm = sq_norm_f64(row).sqrt();
        if norm == 0.0 {
            return Err(ClusterError::ZeroVector { row: row_index });
        }
        inverse_norms.push(1.0 / norm);
    }
    for (row, inverse) in data.chunks_exact_mut(dim).zip(inverse_norms) {
        for x in row {
            *x = (f64::from(*x) * inverse) as f32;
        }
    }
    Ok(())
}

/// Checks `data` and returns its number of rows and whether it needs
/// normalising for `metric` (only under Cosine, when a row is not unit length).
pub(crate) fn inspect_rows(data: &[f32], dim: usize, metric: Metric) -> Result<(usize, bool), ClusterError> {
    let rows = check_rows(data, dim)?;
    if metric == Metric::L2 {
        return Ok((rows, false));
    }
    let mut all_unit = true;
    for (row_index, row) in data.chunks_exact(dim).enumerate() {
        let sq = sq_norm_f64(row);
        if sq == 0.0 {
            return Err(ClusterError::ZeroVector { row: row_index });
        }
        all_unit &= (sq - 1.0).abs() <= UNIT_NORM_TOLERANCE;
    }
    Ok((rows, !all_unit))
}

/// Checks `data` and, under Cosine, returns it L2-normalised: borrowed when
/// every row is already unit length, otherwise a normalised copy.
pub(crate) fn prepare_rows(data: &[f32], dim: usize, metric: Metric) -> Result<(Cow<'_, [f32]>, usize), ClusterError> {
    let (rows, needs_normalising) = inspect_rows(data, dim, metric)?;
    if !needs_normalising {
        return Ok((Cow::Borrowed(data), rows));
    }
    let mut copy = data.to_vec();
    normalize_rows(&mut copy, dim)?;
    Ok((Cow::Owned(copy), rows))
}

/// Squared Euclidean distance, accumulated in `f64`.
#[inline(always)]
pub(crate) fn sq_distance_f64(a: &[f32], b: &[f32]) -> f64 {
    lane_sum(a, b, |x, y| (x - y) * (x - y))
}

/// Distance between a row and a centroid as the crate reports it: Euclidean
/// under L2, `1 - cos` under Cosine (both inputs assumed unit length there).
#[inline(always)]
pub(crate) fn reported_distance(a: &[f32], b: &[f32], metric: Metric) -> f64 {
    match metric {
        Metric::L2 => sq_distance_f64(a, b).sqrt(),
        // For unit vectors ||a - b||^2 = 2 (1 - cos): exact for close pairs,
        // where 1 - dot would cancel.
        Metric::Cosine => (sq_distance_f64(a, b) * 0.5).min(2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_rows_gives_unit_rows_and_rejects_zero() {
        let mut data = vec![3.0, 4.0, 0.0, 2.0];
        normalize_rows(&mut data, 2).unwrap();
        assert_eq!(data, vec![0.6, 0.8, 0.0, 1.0]);
        let mut zero = vec![1.0, 0.0, 0.0, 0.0];
        assert_eq!(normalize_rows(&mut zero, 2), Err(ClusterError::ZeroVector { row: 1 }));
        assert_eq!(zero, vec![1.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn check_rows_reports_shape_and_nan() {
        assert_eq!(check_rows(&[], 2), Err(ClusterError::EmptyData));
        assert_eq!(check_rows(&[1.0], 0), Err(ClusterError::ZeroDimension));
        assert_eq!(check_rows(&[1.0, 2.0, 3.0], 2), Err(ClusterError::RaggedData { len: 3, dim: 2 }));
        assert_eq!(check_rows(&[1.0, 2.0, f32::NAN, 3.0], 2), Err(ClusterError::NotFinite { row: 1, column: 0 }));
    }
}
