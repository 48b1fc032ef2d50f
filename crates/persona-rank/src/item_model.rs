//! An item-item model: one weight row per item, from EASE (dense, possibly
//! over a popular subset), item-kNN or transitions (sparse neighbour lists).
//! A user's score for item j is Σ_i w_i · W[i, j] over the history items i.

use crate::error::RankError;
use crate::selection::BoundedTopK;

/// Marks an item outside the dense subset.
const ABSENT: u32 = u32::MAX;

#[derive(Debug, Clone)]
enum Rows {
    /// `weights` is `items.len()²`, row-major over the subset `items`;
    /// `position[i]` is item i's place in the subset or `ABSENT`.
    Dense {
        items: Vec<u32>,
        position: Vec<u32>,
        weights: Vec<f32>,
        /// The subset is the whole catalogue in index order, so a row adds
        /// straight onto the score vector.
        identity: bool,
    },
    /// Row i is `neighbours/weights[start[i] .. start[i+1]]`.
    Sparse {
        start: Vec<usize>,
        neighbours: Vec<u32>,
        weights: Vec<f32>,
    },
}

/// Item-to-item weights over a catalogue of `n_items`.
#[derive(Debug, Clone)]
pub struct ItemItemModel {
    n_items: usize,
    rows: Rows,
}

impl ItemItemModel {
    /// A dense model over `items` (distinct, each `< n_items`), `weights`
    /// row-major `items.len() × items.len()`.
    pub(crate) fn dense(
        n_items: usize,
        items: Vec<u32>,
        weights: Vec<f32>,
    ) -> Result<Self, RankError> {
        let m = items.len();
        if weights.len() != m * m {
            return Err(RankError::InternalShape("dense item model"));
        }
        let mut position = vec![ABSENT; n_items];
        for (p, &item) in items.iter().enumerate() {
            let slot = position
                .get_mut(item as usize)
                .ok_or(RankError::ItemOutOfRange { item, n_items })?;
            *slot = p as u32;
        }
        let identity = m == n_items && items.iter().enumerate().all(|(p, &i)| p == i as usize);
        Ok(ItemItemModel {
            n_items,
            rows: Rows::Dense {
                items,
                position,
                weights,
                identity,
            },
        })
    }

    /// A sparse model from per-item neighbour lists.
    pub(crate) fn sparse(n_items: usize, lists: Vec<Vec<(u32, f32)>>) -> Result<Self, RankError> {
        if lists.len() != n_items {
            return Err(RankError::InternalShape("sparse item model"));
        }
        let mut start = Vec::with_capacity(n_items + 1);
        start.push(0);
        let total = lists.iter().map(Vec::len).sum();
        let mut neighbours = Vec::with_capacity(total);
        let mut weights = Vec::with_capacity(total);
        for list in lists {
            for (item, weight) in list {
                neighbours.push(item);
                weights.push(weight);
            }
            start.push(neighbours.len());
        }
        Ok(ItemItemModel {
            n_items,
            rows: Rows::Sparse {
                start,
                neighbours,
                weights,
            },
        })
    }

    pub fn n_items(&self) -> usize {
        self.n_items
    }

    /// Whether the model has a row and column for `item`: always for sparse
    /// models, only the fitted subset for a dense one restricted to popular
    /// items. Scores of items outside it stay untouched by
    /// [`accumulate_scores`](Self::accumulate_scores).
    pub fn is_modelled(&self, item: u32) -> bool {
        match &self.rows {
            Rows::Dense { position, .. } => {
                position.get(item as usize).is_some_and(|&p| p != ABSENT)
            }
            Rows::Sparse { .. } => (item as usize) < self.n_items,
        }
    }

    /// The weight W[from, to] (0 where the model holds none).
    pub fn weight(&self, from: u32, to: u32) -> Result<f32, RankError> {
        self.check_item(from)?;
        self.check_item(to)?;
        Ok(match &self.rows {
            Rows::Dense {
                items,
                position,
                weights,
                ..
            } => match (position[from as usize], position[to as usize]) {
                (ABSENT, _) | (_, ABSENT) => 0.0,
                (f, t) => weights[f as usize * items.len() + t as usize],
            },
            Rows::Sparse {
                start,
                neighbours,
                weights,
            } => {
                let range = start[from as usize]..start[from as usize + 1];
                neighbours[range.clone()]
                    .iter()
                    .position(|&n| n == to)
                    .map_or(0.0, |p| weights[range.start + p])
            }
        })
    }

    fn check_item(&self, item: u32) -> Result<(), RankError> {
        if (item as usize) < self.n_items {
            Ok(())
        } else {
            Err(RankError::ItemOutOfRange {
                item,
                n_items: self.n_items,
            })
        }
    }

    /// Adds `weight · W[item, ·]` to `scores` (one entry per catalogue item)
    /// for each `(item, weight)` of a weighted history.
    pub fn accumulate_scores(
        &self,
        history: &[(u32, f32)],
        scores: &mut [f32],
    ) -> Result<(), RankError> {
        if scores.len() != self.n_items {
            return Err(RankError::ShapeMismatch {
                what: "scores",
                expected: self.n_items,
                actual: scores.len(),
            });
        }
        for &(item, w) in history {
            self.check_item(item)?;
            if !w.is_finite() {
                return Err(RankError::NonFinite {
                    what: "history weight",
                    index: item as usize,
                });
            }
        }
        match &self.rows {
            Rows::Dense {
                items,
                position,
                weights,
                identity,
            } => {
                let m = items.len();
                for &(item, w) in history {
                    let p = position[item as usize];
                    if p == ABSENT {
                        continue;
                    }
                    let row = &weights[p as usize * m..(p as usize + 1) * m];
                    if *identity {
                        for (s, &v) in scores.iter_mut().zip(row) {
                            *s += w * v;
                        }
                    } else {
                        for (&target, &v) in items.iter().zip(row) {
                            scores[target as usize] += w * v;
                        }
                    }
                }
            }
            Rows::Sparse {
                start,
                neighbours,
                weights,
            } => {
                for &(item, w) in history {
                    let range = start[item as usize]..start[item as usize + 1];
                    for (&target, &v) in neighbours[range.clone()].iter().zip(&weights[range]) {
                        scores[target as usize] += w * v;
                    }
                }
            }
        }
        Ok(())
    }

    /// The `k` items with the largest weight from `item`, itself excluded,
    /// best first, ties by index: the similar-items list.
    pub fn neighbours(&self, item: u32, k: usize) -> Result<Vec<(u32, f32)>, RankError> {
        self.check_item(item)?;
        let mut top = BoundedTopK::new(k);
        match &self.rows {
            Rows::Dense {
                items,
                position,
                weights,
                ..
            } => {
                let p = position[item as usize];
                if p != ABSENT {
                    let m = items.len();
                    let row = &weights[p as usize * m..(p as usize + 1) * m];
                    for (&target, &v) in items.iter().zip(row) {
                        if target != item {
                            top.offer(v, target);
                        }
                    }
                }
            }
            Rows::Sparse {
                start,
                neighbours,
                weights,
            } => {
                let range = start[item as usize]..start[item as usize + 1];
                for (&target, &v) in neighbours[range.clone()].iter().zip(&weights[range]) {
                    if target != item {
                        top.offer(v, target);
                    }
                }
            }
        }
        Ok(top.into_sorted())
    }
}
