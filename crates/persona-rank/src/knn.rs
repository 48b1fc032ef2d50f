//! Item-kNN: cosine similarity of items' user sets, from sparse
//! co-occurrence counts, keeping the top neighbours of each item.

use rayon::prelude::*;

use crate::error::RankError;
use crate::interactions::{check_items, distinct_sorted, invert};
use crate::item_model::ItemItemModel;
use crate::selection::BoundedTopK;
use crate::stop::{check, ShouldStop, NEVER};

/// Item-kNN settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KnnConfig {
    /// Neighbours kept per item.
    pub neighbours: usize,
    /// Added to the cosine denominator, damping similarities built on few
    /// co-occurrences: sim = c_ij / (√(n_i·n_j) + shrink).
    pub shrink: f32,
}

impl Default for KnnConfig {
    fn default() -> Self {
        KnnConfig {
            neighbours: 100,
            shrink: 0.0,
        }
    }
}

/// Fits item-kNN on binary interactions (repeats count once).
pub fn fit_item_knn<H: AsRef<[u32]> + Sync>(
    histories: &[H],
    n_items: usize,
    config: &KnnConfig,
) -> Result<ItemItemModel, RankError> {
    fit_item_knn_with(histories, n_items, config, NEVER)
}

/// [`fit_item_knn`], asking `stop` before each item's neighbours (the
/// co-occurrences of all its users); once it says so, returns
/// [`RankError::Cancelled`].
pub fn fit_item_knn_with<H: AsRef<[u32]> + Sync>(
    histories: &[H],
    n_items: usize,
    config: &KnnConfig,
    stop: ShouldStop<'_>,
) -> Result<ItemItemModel, RankError> {
    if !(config.shrink >= 0.0 && config.shrink.is_finite()) {
        return Err(RankError::InvalidParameter {
            name: "shrink",
            reason: "must be non-negative and finite",
        });
    }
    check_items(histories, n_items)?;
    let rows: Vec<Vec<u32>> = histories
        .par_iter()
        .map(|h| distinct_sorted(h.as_ref()))
        .collect();
    let by_item = invert(&rows, n_items)?;
    let count = |i: usize| (by_item.start[i + 1] - by_item.start[i]) as f32;
    let lists: Vec<Vec<(u32, f32)>> = (0..n_items)
        .into_par_iter()
        .map_init(
            || (vec![0u32; n_items], Vec::new()),
            |(co, touched), item| {
                check(stop)?;
                for &user in &by_item.users[by_item.start[item]..by_item.start[item + 1]] {
                    for &other in &rows[user as usize] {
                        if co[other as usize] == 0 {
                            touched.push(other);
                        }
                        co[other as usize] += 1;
                    }
                }
                let mut top = BoundedTopK::new(config.neighbours);
                let n_i = count(item);
                for &other in touched.iter() {
                    let c = co[other as usize];
                    co[other as usize] = 0;
                    if other as usize != item {
                        top.offer(
                            c as f32 / ((n_i * count(other as usize)).sqrt() + config.shrink),
                            other,
                        );
                    }
                }
                touched.clear();
                Ok(top.into_sorted())
            },
        )
        .collect::<Result<_, RankError>>()?;
    ItemItemModel::sparse(n_items, lists)
}
