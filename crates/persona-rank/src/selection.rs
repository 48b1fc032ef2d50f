//! Bounded top-k selection with one deterministic order: score descending,
//! then item index ascending.

use std::cmp::Ordering;

use crate::error::RankError;

/// One scored item.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scored {
    pub score: f32,
    pub item: u32,
}

/// Whether `a` ranks strictly before `b`. `total_cmp` gives NaN and signed
/// zeros a fixed place, so the order is total and the result reproducible.
#[inline]
pub(crate) fn ranks_before(a: Scored, b: Scored) -> bool {
    match a.score.total_cmp(&b.score) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => a.item < b.item,
    }
}

/// Rank order as an `Ordering` (best first), for sorting.
pub(crate) fn rank_order(a: &Scored, b: &Scored) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| a.item.cmp(&b.item))
}

/// Turns -0.0 into +0.0 so that equal products compare equal under
/// `total_cmp` whatever order the summation ran in.
#[inline]
pub(crate) fn canonical(score: f32) -> f32 {
    score + 0.0
}

/// The best `k` items offered so far: a binary heap whose root is the worst
/// kept item, so a candidate is compared once against the root.
#[derive(Debug, Clone)]
pub(crate) struct BoundedTopK {
    k: usize,
    heap: Vec<Scored>,
}

impl BoundedTopK {
    pub fn new(k: usize) -> Self {
        BoundedTopK {
            k,
            heap: Vec::with_capacity(k.min(4096)),
        }
    }

    /// Scores strictly below this cannot enter; scores at or above it must
    /// be offered (equal scores are decided by item index).
    #[inline]
    pub fn threshold(&self) -> f32 {
        if self.heap.len() < self.k {
            f32::NEG_INFINITY
        } else {
            self.heap.first().map_or(f32::INFINITY, |w| w.score)
        }
    }

    #[inline]
    pub fn offer(&mut self, score: f32, item: u32) {
        let cand = Scored {
            score: canonical(score),
            item,
        };
        if self.heap.len() < self.k {
            self.heap.push(cand);
            self.sift_up(self.heap.len() - 1);
        } else if let Some(&worst) = self.heap.first() {
            if ranks_before(cand, worst) {
                self.heap[0] = cand;
                self.sift_down(0);
            }
        }
    }

    fn sift_up(&mut self, mut at: usize) {
        while at > 0 {
            let parent = (at - 1) / 2;
            // The root holds the worst item: a child that ranks below its
            // parent moves up.
            if ranks_before(self.heap[parent], self.heap[at]) {
                self.heap.swap(parent, at);
                at = parent;
            } else {
                break;
            }
        }
    }

    fn sift_down(&mut self, mut at: usize) {
        let len = self.heap.len();
        loop {
            let left = 2 * at + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let worse_child = if right < len && ranks_before(self.heap[left], self.heap[right]) {
                right
            } else {
                left
            };
            if ranks_before(self.heap[at], self.heap[worse_child]) {
                self.heap.swap(at, worse_child);
                at = worse_child;
            } else {
                break;
            }
        }
    }

    /// The kept items, best first.
    pub fn into_sorted(mut self) -> Vec<(u32, f32)> {
        self.heap.sort_unstable_by(rank_order);
        self.heap.into_iter().map(|s| (s.item, s.score)).collect()
    }
}

/// Whether `item` is in the sorted list `excluded`.
#[inline]
pub(crate) fn is_excluded(excluded: &[u32], item: u32) -> bool {
    !excluded.is_empty() && excluded.binary_search(&item).is_ok()
}

/// Whether a list is sorted ascending (repeats allowed).
pub(crate) fn is_sorted_ascending(list: &[u32]) -> bool {
    list.windows(2).all(|w| w[0] <= w[1])
}

/// Checks an optional allow-mask against the catalogue size.
pub(crate) fn check_allow(allow: Option<&[bool]>, n_items: usize) -> Result<(), RankError> {
    match allow {
        Some(mask) if mask.len() != n_items => Err(RankError::ShapeMismatch {
            what: "allow mask",
            expected: n_items,
            actual: mask.len(),
        }),
        _ => Ok(()),
    }
}

/// Scores per screening step: 16 f32 fill two AVX registers.
const SCREEN: usize = 16;

/// Offers the scores of items `first_item ..` to `top`, skipping excluded and
/// disallowed items. Once `top` is full almost every score falls below its
/// threshold, so blocks of scores are first screened together, branch-free,
/// and only a block holding a candidate is walked item by item.
#[inline]
pub(crate) fn scan_scores(
    scores: &[f32],
    first_item: usize,
    top: &mut BoundedTopK,
    excluded: &[u32],
    allow: Option<&[bool]>,
) {
    let mut threshold = top.threshold();
    let mut blocks = scores.chunks_exact(SCREEN);
    let mut item = first_item;
    for block in blocks.by_ref() {
        let any = block
            .iter()
            .fold(false, |any, &s| any | is_candidate(s, threshold));
        if any {
            for (offset, &score) in block.iter().enumerate() {
                if is_candidate(score, threshold) {
                    offer_item(score, item + offset, top, excluded, allow);
                    threshold = top.threshold();
                }
            }
        }
        item += SCREEN;
    }
    for (offset, &score) in blocks.remainder().iter().enumerate() {
        if is_candidate(score, threshold) {
            offer_item(score, item + offset, top, excluded, allow);
            threshold = top.threshold();
        }
    }
}

/// Whether a score may enter: at or above the threshold (ties are decided by
/// item index in `offer`), or NaN, which total_cmp gives a place too.
/// Written as one negated compare because that is a single vector compare
/// in the screening loop (measured twice as fast as `>=` plus `is_nan`).
#[inline(always)]
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn is_candidate(score: f32, threshold: f32) -> bool {
    !(score < threshold)
}

#[inline]
fn offer_item(
    score: f32,
    item: usize,
    top: &mut BoundedTopK,
    excluded: &[u32],
    allow: Option<&[bool]>,
) {
    if let Some(mask) = allow {
        if mask.get(item) != Some(&true) {
            return;
        }
    }
    // Item indices fit u32: callers check the catalogue size first.
    let item = item as u32;
    if !is_excluded(excluded, item) {
        top.offer(score, item);
    }
}

/// The best `k` items of one dense score vector (one entry per item), best
/// first, skipping the sorted `exclude` list and items not in `allow`.
/// Returns `min(k, allowed non-excluded items)` entries.
pub fn top_k_from_scores(
    scores: &[f32],
    k: usize,
    exclude: &[u32],
    allow: Option<&[bool]>,
) -> Result<Vec<(u32, f32)>, RankError> {
    if u32::try_from(scores.len()).is_err() {
        return Err(RankError::TooLarge { what: "item count" });
    }
    check_allow(allow, scores.len())?;
    if !is_sorted_ascending(exclude) {
        return Err(RankError::UnsortedExclusion { query: 0 });
    }
    let mut top = BoundedTopK::new(k);
    if k > 0 {
        scan_scores(scores, 0, &mut top, exclude, allow);
    }
    Ok(top.into_sorted())
}
