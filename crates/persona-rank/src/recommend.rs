//! Batch recommendation with an item-item model: score each user's weighted
//! history, drop what they already have, keep the best k.

use rayon::prelude::*;

use crate::error::RankError;
use crate::interactions::distinct_sorted;
use crate::item_model::ItemItemModel;
use crate::recency::{weighted_history, Recency};
use crate::selection::{check_allow, scan_scores, BoundedTopK};

/// How users are scored and filtered.
#[derive(Debug, Clone, Copy)]
pub struct RecommendOptions<'a> {
    pub k: usize,
    pub recency: Recency,
    /// Leave out items already in the user's history.
    pub exclude_seen: bool,
    /// One flag per item; only flagged items are recommended.
    pub allow: Option<&'a [bool]>,
    /// Added to every user's scores, one entry per item: typically
    /// popularity scaled far below the model's weights, so items the model
    /// leaves at zero rank by popularity rather than by index, and users with
    /// an empty history still get recommendations.
    pub prior: Option<&'a [f32]>,
}

/// The top `k` items for each history (time-ordered item indices), best
/// first, ties by item index; `min(k, eligible items)` per user.
pub fn recommend_item_item<H: AsRef<[u32]> + Sync>(
    model: &ItemItemModel,
    histories: &[H],
    options: &RecommendOptions<'_>,
) -> Result<Vec<Vec<(u32, f32)>>, RankError> {
    let n_items = model.n_items();
    check_allow(options.allow, n_items)?;
    if let Some(prior) = options.prior {
        if prior.len() != n_items {
            return Err(RankError::ShapeMismatch {
                what: "prior",
                expected: n_items,
                actual: prior.len(),
            });
        }
        if let Some(index) = prior.iter().position(|v| !v.is_finite()) {
            return Err(RankError::NonFinite {
                what: "prior",
                index,
            });
        }
    }
    histories
        .par_iter()
        .map_init(
            || vec![0.0f32; n_items],
            |scores, history| {
                let history = history.as_ref();
                match options.prior {
                    Some(prior) => scores.copy_from_slice(prior),
                    None => scores.iter_mut().for_each(|s| *s = 0.0),
                }
                model.accumulate_scores(&weighted_history(history, options.recency)?, scores)?;
                let seen = if options.exclude_seen {
                    distinct_sorted(history)
                } else {
                    Vec::new()
                };
                let mut top = BoundedTopK::new(options.k);
                scan_scores(scores, 0, &mut top, &seen, options.allow);
                Ok(top.into_sorted())
            },
        )
        .collect()
}
