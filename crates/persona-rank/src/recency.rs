//! How much each item of a history counts when a user is scored with an
//! item-item model. Next-item prediction rewards the latest items.

use crate::error::RankError;

/// A weighting of history positions (the last item is the most recent).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Recency {
    /// Every item counts once: the plain item-item score.
    Uniform,
    /// Only the last `n` items count, once each.
    LastN(usize),
    /// The item `a` steps before the last weighs `2^(-a / half_life)`.
    Exponential { half_life: f32 },
}

impl Recency {
    fn check(self) -> Result<(), RankError> {
        match self {
            Recency::Exponential { half_life } if !(half_life > 0.0 && half_life.is_finite()) => {
                Err(RankError::InvalidParameter {
                    name: "half_life",
                    reason: "must be positive and finite",
                })
            }
            _ => Ok(()),
        }
    }

    /// The weight of the item `age` steps before the last one.
    fn weight(self, age: usize) -> f32 {
        match self {
            Recency::Uniform => 1.0,
            Recency::LastN(n) => {
                if age < n {
                    1.0
                } else {
                    0.0
                }
            }
            Recency::Exponential { half_life } => (-(age as f32) / half_life).exp2(),
        }
    }
}

/// The distinct items of a time-ordered history with their weights; an item
/// seen more than once takes the weight of its latest occurrence, matching
/// the binary interaction matrix the models are fitted on. Zero weights are
/// dropped. Sorted by item index.
pub fn weighted_history(history: &[u32], recency: Recency) -> Result<Vec<(u32, f32)>, RankError> {
    recency.check()?;
    let len = history.len();
    let mut weighted: Vec<(u32, f32)> = history
        .iter()
        .enumerate()
        .map(|(pos, &item)| (item, recency.weight(len - 1 - pos)))
        .collect();
    // Largest weight first within an item, so dedup keeps it; weights never
    // grow with age, so that is the latest occurrence's.
    weighted.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    weighted.dedup_by_key(|entry| entry.0);
    weighted.retain(|&(_, w)| w > 0.0);
    Ok(weighted)
}
