//! Offline ranking metrics over one user's ranked list (best first).

use crate::error::RankError;

/// The 0-based position of `item` in the first `k` entries of `ranked`.
pub fn rank_of(ranked: &[u32], item: u32, k: usize) -> Option<usize> {
    ranked.iter().take(k).position(|&r| r == item)
}

/// 1 when the held-out item is among the first `k` ranked items, else 0.
pub fn hit_rate_at_k(ranked: &[u32], held_out: u32, k: usize) -> f64 {
    if rank_of(ranked, held_out, k).is_some() {
        1.0
    } else {
        0.0
    }
}

/// NDCG with one relevant item: 1/log2(rank + 2) for a 0-based rank below
/// `k` (the ideal DCG is 1), else 0.
pub fn ndcg_at_k(ranked: &[u32], held_out: u32, k: usize) -> f64 {
    rank_of(ranked, held_out, k).map_or(0.0, |rank| 1.0 / ((rank + 2) as f64).log2())
}

/// The share of the distinct held-out items found among the first `k`
/// ranked items.
pub fn recall_at_k(ranked: &[u32], held_out: &[u32], k: usize) -> Result<f64, RankError> {
    let mut relevant = held_out.to_vec();
    relevant.sort_unstable();
    relevant.dedup();
    if relevant.is_empty() {
        return Err(RankError::InvalidParameter {
            name: "held_out",
            reason: "recall needs at least one held-out item",
        });
    }
    let mut top: Vec<u32> = ranked.iter().take(k).copied().collect();
    top.sort_unstable();
    top.dedup();
    let found = top
        .iter()
        .filter(|i| relevant.binary_search(i).is_ok())
        .count();
    Ok(found as f64 / relevant.len() as f64)
}

/// The share of the catalogue that appears in at least one recommendation list.
pub fn catalogue_coverage<L: AsRef<[u32]>>(
    recommendations: &[L],
    n_items: usize,
) -> Result<f64, RankError> {
    if n_items == 0 {
        return Err(RankError::InvalidParameter {
            name: "n_items",
            reason: "coverage needs a non-empty catalogue",
        });
    }
    let mut seen = vec![false; n_items];
    for list in recommendations {
        for &item in list.as_ref() {
            let slot = seen
                .get_mut(item as usize)
                .ok_or(RankError::ItemOutOfRange { item, n_items })?;
            *slot = true;
        }
    }
    Ok(seen.iter().filter(|&&s| s).count() as f64 / n_items as f64)
}
