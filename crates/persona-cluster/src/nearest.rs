//! Picking the nearest centroids out of a row's scores.

use crate::kernel::LANES;

/// Index and value of the smallest of the first `k` scores (the lowest index
/// on ties). `scores.len()` is a multiple of [`LANES`] with `+inf` padding.
#[inline(always)]
pub(crate) fn argmin(scores: &[f32], k: usize) -> (usize, f32) {
    argmin_skipping(scores, k, usize::MAX)
}

/// [`argmin`] over every score but the one at `skip`; `None` when `k == 1`.
#[inline(always)]
pub(crate) fn argmin_except(scores: &[f32], k: usize, skip: usize) -> Option<(usize, f32)> {
    (k > 1).then(|| argmin_skipping(scores, k, skip))
}

#[inline(always)]
fn argmin_skipping(scores: &[f32], k: usize, skip: usize) -> (usize, f32) {
    // Branch-free: the winning index is random from row to row, so a search
    // loop would mispredict on almost every row. Lane-wise minima first (a
    // compare-and-select the compiler turns into vector min instructions),
    // then a tree over the lanes, then a bit mask of the lanes that match.
    let mut lanes = [f32::INFINITY; LANES];
    for (c, chunk) in scores.chunks_exact(LANES).enumerate() {
        for (l, (m, &s)) in lanes.iter_mut().zip(chunk).enumerate() {
            let s = if c * LANES + l == skip { f32::INFINITY } else { s };
            *m = if s < *m { s } else { *m };
        }
    }
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            lanes[l] = if lanes[l + width] < lanes[l] { lanes[l + width] } else { lanes[l] };
        }
        width /= 2;
    }
    let best = lanes[0];
    for (c, chunk) in scores.chunks_exact(LANES).enumerate() {
        let mut mask = 0u32;
        for (l, &s) in chunk.iter().enumerate() {
            mask |= u32::from(s == best && c * LANES + l != skip) << l;
        }
        if mask != 0 {
            let index = c * LANES + mask.trailing_zeros() as usize;
            if index < k {
                return (index, best);
            }
            break;
        }
    }
    // Only with overflowing inputs (NaN scores); any other label is as good.
    let fallback = usize::from(skip == 0);
    (fallback, scores[fallback])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmin_prefers_the_lowest_index() {
        let mut scores = vec![f32::INFINITY; 16];
        scores[..10].copy_from_slice(&[5.0, 3.0, 4.0, 3.0, 9.0, 8.0, 7.0, 6.0, 3.5, 3.0]);
        assert_eq!(argmin(&scores, 10), (1, 3.0));
        assert_eq!(argmin_except(&scores, 10, 1), Some((3, 3.0)));
        assert_eq!(argmin_except(&scores, 10, 0), Some((1, 3.0)));
        assert_eq!(argmin_except(&scores, 1, 0), None);
        scores[9] = 1.0;
        assert_eq!(argmin(&scores, 10), (9, 1.0));
    }
}
