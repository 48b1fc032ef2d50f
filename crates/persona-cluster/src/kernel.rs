//! The assignment kernel: scores of a block of rows against every centroid.
//!
//! Distances are expanded as `||x||^2 - 2 x·c + ||c||^2` so that the bulk of
//! the work is a dense product of a block of rows with all centroids. The
//! kernel returns the part that depends on the centroid, the *score*
//! `bias_j - x·(alpha c_j)`:
//!
//! * L2: `alpha = 2`, `bias_j = ||c_j||^2`, squared distance `= ||x||^2 + score`;
//! * Cosine (unit rows and centroids): `alpha = 1`, `bias_j = 0`,
//!   `1 - cos = 1 + score`.
//!
//! Centroids are stored transposed (`dim × padded`) with `k` padded to a
//! multiple of 8 lanes; padding columns are zero with bias `+inf`, so they
//! never win. Each score is accumulated over the dimensions in the same order
//! whatever the row's position in a block, so a row gets bit-identical scores
//! whether it is scanned with the whole table or in a chunk of its own.

use crate::data::sq_norm_f64;
use crate::Metric;

/// SIMD width in `f32` lanes (AVX2); the padding unit for centroids.
pub(crate) const LANES: usize = 8;

/// Rows per parallel task. Fixed rather than derived from the thread count,
/// so that per-task `f64` sums merged in task order give the same totals
/// whatever the size of the pool.
pub(crate) const LEAF_ROWS: usize = 8192;

/// Scores buffered per block: 16 KiB, so a block stays in L1 while it is read.
const BLOCK_SCORES: usize = 4096;
/// Row tiles are 8, 6 or 1 rows; blocks are a multiple of all of them.
const ROW_TILE_LCM: usize = 24;
const MAX_BLOCK_ROWS: usize = 240;

/// Receives each scanned row with its scores (`padded` long; entries from `k`
/// on are padding). `index` counts from 0 within the scanned slice.
pub(crate) trait RowSink {
    fn row(&mut self, index: usize, row: &[f32], scores: &[f32]);
}

/// Centroids laid out for the kernel.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) k: usize,
    pub(crate) padded: usize,
    pub(crate) dim: usize,
    pub(crate) metric: Metric,
    transposed: Vec<f32>,
    bias: Vec<f32>,
}

impl Prepared {
    /// `centroids` is a checked `k × dim` matrix, unit rows under Cosine.
    pub(crate) fn new(centroids: &[f32], k: usize, dim: usize, metric: Metric) -> Self {
        let padded = k.div_ceil(LANES) * LANES;
        let alpha = match metric {
            Metric::L2 => 2.0,
            Metric::Cosine => 1.0,
        };
        let mut transposed = vec![0.0f32; dim * padded];
        let mut bias = vec![f32::INFINITY; padded];
        for (j, centroid) in centroids.chunks_exact(dim).enumerate().take(k) {
            for (p, &value) in centroid.iter().enumerate() {
                // Scaling by 2 is exact, so scores are exactly bias - 2 x·c.
                transposed[p * padded + j] = alpha * value;
            }
            bias[j] = match metric {
                Metric::L2 => sq_norm_f64(centroid) as f32,
                Metric::Cosine => 0.0,
            };
        }
        Prepared { k, padded, dim, metric, transposed, bias }
    }

    /// The reported distance for a row with squared norm `row_sq_norm` and
    /// score `score`: Euclidean under L2, `1 - cos` under Cosine.
    #[inline(always)]
    pub(crate) fn distance(&self, row_sq_norm: f32, score: f32) -> f32 {
        match self.metric {
            Metric::L2 => (row_sq_norm + score).max(0.0).sqrt(),
            Metric::Cosine => (1.0 + score).clamp(0.0, 2.0),
        }
    }

    /// What inertia adds up for a row: squared distance under L2, `1 - cos`
    /// under Cosine.
    #[inline(always)]
    pub(crate) fn cost(&self, row_sq_norm: f32, score: f32) -> f64 {
        match self.metric {
            Metric::L2 => f64::from((row_sq_norm + score).max(0.0)),
            Metric::Cosine => f64::from((1.0 + score).clamp(0.0, 2.0)),
        }
    }

    fn block_rows(&self) -> usize {
        let rows = (BLOCK_SCORES / self.padded).clamp(ROW_TILE_LCM, MAX_BLOCK_ROWS);
        rows / ROW_TILE_LCM * ROW_TILE_LCM
    }

    /// Scores every row of `rows` (whole rows of `dim`) and hands them to
    /// `sink` in order.
    pub(crate) fn scan<S: RowSink>(&self, rows: &[f32], sink: &mut S) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU supports the features scan_avx2 is compiled for.
                return unsafe { scan_avx2(self, rows, sink) };
            }
        }
        scan_with::<false, S>(self, rows, sink)
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn scan_avx2<S: RowSink>(prepared: &Prepared, rows: &[f32], sink: &mut S) {
    // Everything inlined here, the sink included, is compiled for AVX2.
    scan_with::<true, S>(prepared, rows, sink)
}

#[inline(always)]
fn scan_with<const AVX2: bool, S: RowSink>(prepared: &Prepared, rows: &[f32], sink: &mut S) {
    let dim = prepared.dim;
    let padded = prepared.padded;
    let n = rows.len() / dim;
    let block = prepared.block_rows();
    let mut scores = vec![0.0f32; block * padded];
    let mut start = 0;
    while start < n {
        let m = block.min(n - start);
        let block_data = &rows[start * dim..(start + m) * dim];
        let block_scores = &mut scores[..m * padded];
        score_block::<AVX2>(prepared, block_data, m, block_scores);
        for (i, (row, row_scores)) in block_data.chunks_exact(dim).zip(block_scores.chunks_exact(padded)).enumerate() {
            sink.row(start + i, row, row_scores);
        }
        start += m;
    }
}

/// Fills `out` (`m × padded`) with the scores of the `m` rows in `rows`.
#[inline(always)]
fn score_block<const AVX2: bool>(prepared: &Prepared, rows: &[f32], m: usize, out: &mut [f32]) {
    let vectors = prepared.padded / LANES;
    let mut first = 0;
    // Column groups of 2 vectors by 6 rows (BLIS's Haswell shape): 12
    // accumulators, 2 centroid vectors and a broadcast fill 15 of the 16
    // registers; an odd vector left over is done 8 rows at a time.
    while first < vectors {
        let column = first * LANES;
        if vectors - first >= 2 {
            group::<AVX2, 6, 2>(prepared, rows, m, column, out);
            first += 2;
        } else {
            group::<AVX2, 8, 1>(prepared, rows, m, column, out);
            first += 1;
        }
    }
}

#[inline(always)]
fn group<const AVX2: bool, const MR: usize, const V: usize>(
    prepared: &Prepared,
    rows: &[f32],
    m: usize,
    column: usize,
    out: &mut [f32],
) {
    let mut row = 0;
    while row + MR <= m {
        tile::<AVX2, MR, V>(prepared, rows, row, column, out);
        row += MR;
    }
    while row < m {
        tile::<AVX2, 1, V>(prepared, rows, row, column, out);
        row += 1;
    }
}

/// Scores of rows `row..row + MR` against columns `column..column + 8 V`.
#[inline(always)]
fn tile<const AVX2: bool, const MR: usize, const V: usize>(
    prepared: &Prepared,
    rows: &[f32],
    row: usize,
    column: usize,
    out: &mut [f32],
) {
    let dim = prepared.dim;
    let padded = prepared.padded;
    // The bounds the unchecked loads below rely on.
    let rows_ok = (row + MR) * dim <= rows.len();
    let out_ok = (row + MR - 1) * padded + column + V * LANES <= out.len();
    let columns_ok = column + V * LANES <= padded
        && prepared.transposed.len() == dim * padded
        && prepared.bias.len() == padded;
    if !(rows_ok && out_ok && columns_ok) {
        debug_assert!(false, "kernel tile out of bounds");
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if AVX2 {
            // SAFETY: AVX2 is only true inside scan_avx2, entered after the
            // feature check; the bounds were checked just above.
            unsafe { tile_avx2::<MR, V>(prepared, rows, row, column, out) };
            return;
        }
    }
    tile_portable::<MR, V>(prepared, rows, row, column, out);
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn tile_avx2<const MR: usize, const V: usize>(
    prepared: &Prepared,
    rows: &[f32],
    row: usize,
    column: usize,
    out: &mut [f32],
) {
    use std::arch::x86_64::*;
    let dim = prepared.dim;
    let padded = prepared.padded;
    // Row starts, computed once per tile rather than once per broadcast.
    let x: [*const f32; MR] = std::array::from_fn(|i| rows.as_ptr().add((row + i) * dim));
    let t = prepared.transposed.as_ptr().add(column);
    let b = prepared.bias.as_ptr().add(column);
    let mut acc = [[_mm256_setzero_ps(); V]; MR];
    for lane_row in acc.iter_mut() {
        for (v, a) in lane_row.iter_mut().enumerate() {
            *a = _mm256_loadu_ps(b.add(v * LANES));
        }
    }
    for p in 0..dim {
        let mut centroid_part = [_mm256_setzero_ps(); V];
        for (v, c) in centroid_part.iter_mut().enumerate() {
            *c = _mm256_loadu_ps(t.add(p * padded + v * LANES));
        }
        for (i, lane_row) in acc.iter_mut().enumerate() {
            let xi = _mm256_set1_ps(*x[i].add(p));
            for (a, &c) in lane_row.iter_mut().zip(&centroid_part) {
                *a = _mm256_fnmadd_ps(xi, c, *a);
            }
        }
    }
    let o = out.as_mut_ptr().add(row * padded + column);
    for (i, lane_row) in acc.iter().enumerate() {
        for (v, &a) in lane_row.iter().enumerate() {
            _mm256_storeu_ps(o.add(i * padded + v * LANES), a);
        }
    }
}

#[inline(always)]
fn tile_portable<const MR: usize, const V: usize>(
    prepared: &Prepared,
    rows: &[f32],
    row: usize,
    column: usize,
    out: &mut [f32],
) {
    let dim = prepared.dim;
    let padded = prepared.padded;
    let width = V * LANES;
    let mut acc = [[0.0f32; 2 * LANES]; MR];
    for lane_row in acc.iter_mut() {
        lane_row[..width].copy_from_slice(&prepared.bias[column..column + width]);
    }
    let x = &rows[row * dim..(row + MR) * dim];
    for p in 0..dim {
        let t = &prepared.transposed[p * padded + column..p * padded + column + width];
        for (i, lane_row) in acc.iter_mut().enumerate() {
            let xi = x[i * dim + p];
            for (a, &c) in lane_row[..width].iter_mut().zip(t) {
                *a -= xi * c;
            }
        }
    }
    for (i, lane_row) in acc.iter().enumerate() {
        let start = (row + i) * padded + column;
        out[start..start + width].copy_from_slice(&lane_row[..width]);
    }
}



#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Vec<f32>);

    impl RowSink for Collect {
        fn row(&mut self, _index: usize, _row: &[f32], scores: &[f32]) {
            self.0.extend_from_slice(scores);
        }
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32 / (1 << 24) as f32 - 0.5).collect()
    }

    #[test]
    fn both_code_paths_match_a_direct_computation() {
        for (dim, k, n) in [(1, 1, 1), (3, 7, 5), (13, 9, 31), (8, 16, 250), (5, 26, 49), (64, 20, 300)] {
            let rows = values(n * dim, 1);
            let centroids = values(k * dim, 2);
            let prepared = Prepared::new(&centroids, k, dim, Metric::L2);
            let mut portable = Collect(Vec::new());
            scan_with::<false, _>(&prepared, &rows, &mut portable);
            let mut dispatched = Collect(Vec::new());
            prepared.scan(&rows, &mut dispatched);
            for i in 0..n {
                for j in 0..prepared.padded {
                    let expected = if j < k {
                        let c = &centroids[j * dim..(j + 1) * dim];
                        let x = &rows[i * dim..(i + 1) * dim];
                        sq_norm_f64(c) - 2.0 * x.iter().zip(c).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum::<f64>()
                    } else {
                        f64::INFINITY
                    };
                    for got in [portable.0[i * prepared.padded + j], dispatched.0[i * prepared.padded + j]] {
                        assert!(got == expected as f32 || (f64::from(got) - expected).abs() < 1e-4, "{got} vs {expected}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_row_scores_the_same_alone_or_in_a_block() {
        let (dim, k, n) = (37, 11, 500);
        let rows = values(n * dim, 3);
        let prepared = Prepared::new(&values(k * dim, 4), k, dim, Metric::L2);
        let mut together = Collect(Vec::new());
        prepared.scan(&rows, &mut together);
        for i in [0, 1, 7, 239, 240, 499] {
            let mut alone = Collect(Vec::new());
            prepared.scan(&rows[i * dim..(i + 1) * dim], &mut alone);
            assert_eq!(alone.0, together.0[i * prepared.padded..(i + 1) * prepared.padded]);
        }
    }
}
