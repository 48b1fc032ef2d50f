//! Fitting a recommender's neighbour lists: EASE, item-kNN (pruned per
//! candidate item), their blend, and transitions.

use rayon::prelude::*;

use crate::ease::{fit_ease_with, EaseConfig, Precision};
use crate::error::RankError;
use crate::item_model::ItemItemModel;
use crate::knn::{fit_item_knn_with, KnnConfig};
use crate::recommender::model::Lists;
use crate::recommender::params::{Method, Params};
use crate::stop::ShouldStop;
use crate::transition::{fit_transitions_with, TransitionConfig};

/// Fitted neighbour lists: main weights and transitions.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub main: Lists,
    pub next: Lists,
}

impl Fitted {
    /// Weights kept in all.
    pub fn weights(&self) -> usize {
        self.main.iter().chain(&self.next).map(Vec::len).sum()
    }
}

/// Each item's `k` strongest neighbours (for EASE, `nonzero`: negative
/// weights too when fewer are positive, zeros never); `stop` is asked per item.
pub(crate) fn neighbour_lists(
    model: &ItemItemModel,
    k: usize,
    nonzero: bool,
    stop: ShouldStop<'_>,
) -> Result<Lists, RankError> {
    (0..model.n_items() as u32)
        .into_par_iter()
        .map(|i| {
            if stop() {
                return Err(RankError::Cancelled);
            }
            model.neighbours(i, k).map(|l| {
                if nonzero {
                    l.into_iter().filter(|x| x.1 != 0.0).collect()
                } else {
                    l
                }
            })
        })
        .collect()
}

pub(crate) fn fit_ease_lists(
    histories: &[Vec<u32>],
    n: usize,
    lambda: f64,
    max_items: usize,
    k: usize,
    stop: ShouldStop<'_>,
) -> Result<Lists, RankError> {
    let config = EaseConfig {
        lambda,
        max_items: (n > max_items).then_some(max_items),
        precision: Precision::F32,
    };
    let model = fit_ease_with(histories, n, &config, stop)?;
    neighbour_lists(&model, k, true, stop)
}

/// Item-kNN lists pruned per candidate: row i holds (j, sim) for every j
/// that has i among its `k` most similar items, so a candidate's score
/// sums its own nearest neighbours in the history (as RecBole's ItemKNN
/// does; pruning per history item instead ranks worse).
pub(crate) fn fit_knn_lists(
    histories: &[Vec<u32>],
    n: usize,
    k: usize,
    shrink: f32,
    stop: ShouldStop<'_>,
) -> Result<Lists, RankError> {
    let model = fit_item_knn_with(
        histories,
        n,
        &KnnConfig {
            neighbours: k,
            shrink,
        },
        stop,
    )?;
    let per_item = neighbour_lists(&model, k, false, stop)?;
    let mut rows: Lists = vec![Vec::new(); n];
    for (j, list) in per_item.into_iter().enumerate() {
        for (i, s) in list {
            rows[i as usize].push((j as u32, s));
        }
    }
    rows.par_iter_mut()
        .for_each(|r| r.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))));
    Ok(rows)
}

pub(crate) fn fit_transition_lists(
    histories: &[Vec<u32>],
    n: usize,
    p: &Params,
    stop: ShouldStop<'_>,
) -> Result<Lists, RankError> {
    let config = TransitionConfig {
        window: p.transition_window,
        decay: p.transition_decay,
        backward: 0.0,
        neighbours: p.neighbours,
    };
    let model = fit_transitions_with(histories, n, &config, stop)?;
    neighbour_lists(&model, p.neighbours, false, stop)
}

/// EASE plus `alpha` times kNN, item by item, the `k` largest kept.
pub(crate) fn blend_lists(ease: &Lists, knn: &Lists, alpha: f32, k: usize) -> Lists {
    ease.par_iter()
        .zip(knn.par_iter())
        .map(|(e, kn)| {
            let mut all: Vec<(u32, f32)> = e.clone();
            all.extend(kn.iter().map(|&(j, s)| (j, alpha * s)));
            all.sort_unstable_by_key(|x| x.0);
            let mut merged: Vec<(u32, f32)> = Vec::with_capacity(all.len());
            for (j, w) in all {
                match merged.last_mut() {
                    Some(last) if last.0 == j => last.1 += w,
                    _ => merged.push((j, w)),
                }
            }
            merged.retain(|x| x.1 != 0.0);
            merged.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            merged.truncate(k);
            merged
        })
        .collect()
}

/// Keeps the first `k` of every list (lists are best first).
pub(crate) fn truncate(lists: &Lists, k: usize) -> Lists {
    lists.iter().map(|l| l[..l.len().min(k)].to_vec()).collect()
}

/// Fits the lists `params` describe. Every fit asks `stop` between blocks.
pub fn fit(
    histories: &[Vec<u32>],
    n: usize,
    p: &Params,
    stop: ShouldStop<'_>,
) -> Result<Fitted, RankError> {
    p.check()?;
    let main = match p.method {
        Method::Ease => fit_ease_lists(histories, n, p.lambda, p.max_items, p.neighbours, stop)?,
        Method::Knn => fit_knn_lists(histories, n, p.neighbours, p.shrink, stop)?,
        Method::Blend => {
            let ease = fit_ease_lists(histories, n, p.lambda, p.max_items, p.neighbours, stop)?;
            let knn = fit_knn_lists(histories, n, p.neighbours, p.shrink, stop)?;
            blend_lists(&ease, &knn, p.knn_weight, p.neighbours)
        }
        Method::Vectors | Method::Popularity => vec![Vec::new(); n],
    };
    let next =
        if p.transition_weight > 0.0 && !matches!(p.method, Method::Vectors | Method::Popularity) {
            fit_transition_lists(histories, n, p, stop)?
        } else {
            vec![Vec::new(); n]
        };
    Ok(Fitted { main, next })
}
