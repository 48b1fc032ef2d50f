//! Transitions: how often item j follows item i closely in users'
//! time-ordered histories, as a row-normalised item-item model. It captures
//! order, which EASE and item-kNN ignore.

use rayon::prelude::*;

use crate::error::RankError;
use crate::interactions::check_items;
use crate::item_model::ItemItemModel;
use crate::selection::BoundedTopK;
use crate::stop::{check, ShouldStop, NEVER};

/// Transition settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransitionConfig {
    /// How many following items count as a transition from an item.
    pub window: usize,
    /// The item d steps later counts `decay^(d-1)`.
    pub decay: f32,
    /// Weight of items *preceding* an occurrence, relative to following ones
    /// (0 = strictly forward transitions).
    pub backward: f32,
    /// Neighbours kept per item.
    pub neighbours: usize,
}

impl Default for TransitionConfig {
    fn default() -> Self {
        TransitionConfig {
            window: 3,
            decay: 0.5,
            backward: 0.0,
            neighbours: 200,
        }
    }
}

/// Fits transition weights: W[i, j] = t_ij / Σ_j t_ij, where t_ij sums the
/// decayed counts of j following i within `window` steps (plus `backward` ×
/// the counts of j preceding i).
pub fn fit_transitions<H: AsRef<[u32]> + Sync>(
    sequences: &[H],
    n_items: usize,
    config: &TransitionConfig,
) -> Result<ItemItemModel, RankError> {
    fit_transitions_with(sequences, n_items, config, NEVER)
}

/// [`fit_transitions`], asking `stop` before each item's row; once it says
/// so, returns [`RankError::Cancelled`].
pub fn fit_transitions_with<H: AsRef<[u32]> + Sync>(
    sequences: &[H],
    n_items: usize,
    config: &TransitionConfig,
    stop: ShouldStop<'_>,
) -> Result<ItemItemModel, RankError> {
    let valid = |v: f32| v >= 0.0 && v.is_finite();
    if config.window == 0 || !valid(config.decay) || !valid(config.backward) {
        return Err(RankError::InvalidParameter {
            name: "transition config",
            reason: "window must be positive, decay and backward non-negative and finite",
        });
    }
    check_items(sequences, n_items)?;
    if u32::try_from(sequences.len()).is_err() {
        return Err(RankError::TooLarge { what: "user count" });
    }
    // Occurrences of each item as (user, position), compressed by item.
    let mut start = vec![0usize; n_items + 1];
    for seq in sequences {
        for &item in seq.as_ref() {
            start[item as usize + 1] += 1;
        }
    }
    for i in 0..n_items {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut occurrences = vec![(0u32, 0u32); start[n_items]];
    for (user, seq) in sequences.iter().enumerate() {
        for (pos, &item) in seq.as_ref().iter().enumerate() {
            occurrences[fill[item as usize]] = (user as u32, pos as u32);
            fill[item as usize] += 1;
        }
    }
    let step_weights: Vec<f32> = (0..config.window)
        .map(|d| config.decay.powi(d as i32))
        .collect();
    let lists: Vec<Vec<(u32, f32)>> = (0..n_items)
        .into_par_iter()
        .map_init(
            || (vec![0.0f32; n_items], Vec::new()),
            |(acc, touched), item| {
                check(stop)?;
                for &(user, pos) in &occurrences[start[item]..start[item + 1]] {
                    let seq = sequences[user as usize].as_ref();
                    let pos = pos as usize;
                    for (d, &w) in step_weights.iter().enumerate() {
                        if let Some(&next) = seq.get(pos + d + 1) {
                            add_weight(item, next, w, acc, touched);
                        }
                        if config.backward > 0.0 && pos > d {
                            add_weight(item, seq[pos - d - 1], config.backward * w, acc, touched);
                        }
                    }
                }
                let total: f32 = touched.iter().map(|&o| acc[o as usize]).sum();
                let mut top = BoundedTopK::new(config.neighbours);
                for &other in touched.iter() {
                    top.offer(acc[other as usize] / total, other);
                    acc[other as usize] = 0.0;
                }
                touched.clear();
                Ok(top.into_sorted())
            },
        )
        .collect::<Result<_, RankError>>()?;
    ItemItemModel::sparse(n_items, lists)
}

/// Adds `w` to the transition from `item` to `other`, ignoring self-loops
/// (a repeat says nothing about what comes next).
fn add_weight(item: usize, other: u32, w: f32, acc: &mut [f32], touched: &mut Vec<u32>) {
    if other as usize != item && w > 0.0 {
        if acc[other as usize] == 0.0 {
            touched.push(other);
        }
        acc[other as usize] += w;
    }
}
