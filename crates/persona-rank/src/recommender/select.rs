//! The automatic choice of a recommender's hyper-parameters on the shop's
//! own data: hold out validation items from the training histories, fit
//! once per fitted quantity (EASE per λ, item-kNN, transitions), score the
//! validation users under each candidate, keep the best NDCG@10.
//!
//! Only λ needs several fits. On catalogues above `LAMBDA_FULL_ITEMS` the
//! λ search fits EASE on that many of the most popular items (a cubic
//! fit 1/(n/m)³ the size); everything else is scoring, which is cheap.
//! Recency, transitions, neighbour counts and the blend weight change only
//! how stored lists are summed, so they need no refit.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::RankError;
use crate::interactions::item_popularity;
use crate::recommender::evaluate::{figures, popular_lists, split_last, split_random, Split};
use crate::recommender::fit::{
    blend_lists, fit_ease_lists, fit_knn_lists, fit_transition_lists, truncate,
};
use crate::recommender::model::{Lists, Recommender};
use crate::recommender::params::{Given, Method, Params, Validation};
use crate::recommender::score::{rank_batch, Ask, UserInput};
use crate::stop::{check, ShouldStop};

/// Validation users scored per candidate (evenly spaced when there are more).
pub const VALIDATION_USERS: usize = 3000;
/// λ is searched with full fits up to this many items, above it on this
/// many of the most popular.
pub const LAMBDA_FULL_ITEMS: usize = 3000;
const LAMBDAS: [f64; 7] = [10.0, 30.0, 100.0, 200.0, 500.0, 1000.0, 3000.0];
const HALF_LIVES: [f32; 6] = [0.0, 1.0, 2.0, 4.0, 8.0, 16.0];
const TRANSITION_WEIGHTS: [f32; 5] = [0.0, 0.25, 0.5, 1.0, 2.0];
const TRANSITION_HALF_LIVES: [f32; 3] = [0.5, 1.0, 2.0];
const KNN_WEIGHTS: [f32; 4] = [0.03, 0.1, 0.3, 1.0];
/// Validation cut-off.
const K: usize = 10;
/// Transitions, an extra part of the model, must beat the model without
/// them by this share of its validation NDCG: a gain within the noise of a
/// few thousand users is not worth a signal the test may not have.
const MIN_GAIN: f64 = 0.01;

/// One scored candidate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Candidate {
    pub method: Method,
    pub lambda: f64,
    pub neighbours: usize,
    pub knn_weight: f32,
    pub half_life: f32,
    pub transition_weight: f32,
    pub transition_half_life: f32,
    pub ndcg: f64,
    pub hit_rate: f64,
}

/// What the choice did, for the caller to store and report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Selection {
    pub validation: Validation,
    /// Users whose held-out items scored the candidates.
    pub users: usize,
    /// Parameters that were searched (the rest were given).
    pub searched: Vec<String>,
    pub candidates: Vec<Candidate>,
    pub chosen: Candidate,
    pub popularity_ndcg: f64,
    pub seconds: f64,
}

impl Selection {
    /// One line for a NOTICE.
    pub fn summary(&self) -> String {
        let c = &self.chosen;
        format!(
            "chose {} (lambda {}, neighbours {}, knn_weight {}, half_life {}, transition_weight {}, transition_half_life {}) \
             on {} validation users ({} held out): NDCG@10 {:.4} against {:.4} for popularity; {} candidates in {:.1} s",
            c.method.name(),
            c.lambda,
            c.neighbours,
            c.knn_weight,
            c.half_life,
            c.transition_weight,
            c.transition_half_life,
            self.users,
            match self.validation {
                Validation::Latest => "latest item",
                Validation::Random => "random items",
            },
            c.ndcg,
            self.popularity_ndcg,
            self.candidates.len(),
            self.seconds
        )
    }
}

/// The validation split of training histories, as `validation` says.
pub(crate) fn validation_split(
    histories: &[Vec<u32>],
    validation: Validation,
) -> Result<Split, RankError> {
    match validation {
        Validation::Latest => Ok(split_last(histories)),
        Validation::Random => {
            let users: Vec<i64> = (0..histories.len() as i64).collect();
            // The share an 80/10/10 split gives validation out of 90.
            split_random(&users, &[], histories, 1.0 / 9.0, 1)
        }
    }
}

struct Scorer {
    inputs: Vec<UserInput>,
    base: Recommender,
    test: Vec<Vec<u32>>,
    popularity: Vec<u32>,
    /// The main lists installed in `base`, by address: candidates that
    /// differ only in how lists are summed reuse them instead of copying.
    installed: Option<*const Lists>,
}

impl Scorer {
    /// Lists at a reused address are new lists (a loop's temporaries).
    fn forget(&mut self) {
        self.installed = None;
    }

    fn score(
        &mut self,
        p: &Params,
        main: &Lists,
        next: &Lists,
        stop: ShouldStop<'_>,
    ) -> Result<(f64, f64), RankError> {
        check(stop)?;
        self.base.params = p.clone();
        if self.installed != Some(main as *const Lists) {
            // Transitions are summed only when their weight is positive.
            self.base.set_lists(main.clone(), next.clone());
            self.installed = Some(main as *const Lists);
        }
        let inputs = &self.inputs;
        let ask = Ask {
            k: K,
            exclude_seen: true,
            allow: None,
            reasons: false,
        };
        let lists = rank_batch(&self.base, inputs, &ask, &Default::default())?;
        let lists: Vec<Vec<u32>> = lists
            .into_iter()
            .map(|l| l.into_iter().map(|r| r.0).collect())
            .collect();
        let f = figures(&lists, &self.test, &self.popularity, K)?;
        Ok((f.ndcg, f.hit_rate))
    }
}

fn candidate(p: &Params, (ndcg, hit_rate): (f64, f64)) -> Candidate {
    Candidate {
        method: p.method,
        lambda: p.lambda,
        neighbours: p.neighbours,
        knn_weight: p.knn_weight,
        half_life: p.half_life,
        transition_weight: p.transition_weight,
        transition_half_life: p.transition_half_life,
        ndcg,
        hit_rate,
    }
}

/// Chooses the parameters `given` leaves open, on validation items held out
/// of `histories`; returns the parameters to refit with and what was done.
pub fn choose(
    histories: &[Vec<u32>],
    n: usize,
    base: &Params,
    given: &Given,
    stop: ShouldStop<'_>,
) -> Result<(Params, Selection), RankError> {
    let started = Instant::now();
    base.check()?;
    let split = validation_split(histories, base.validation)?;
    let mut tested = split.tested();
    if tested.len() > VALIDATION_USERS {
        let step = tested.len() as f64 / VALIDATION_USERS as f64;
        tested = (0..VALIDATION_USERS)
            .map(|i| tested[(i as f64 * step) as usize])
            .collect();
    }
    let popularity = item_popularity(&split.train, n)?;
    let test: Vec<Vec<u32>> = tested.iter().map(|&u| split.test[u].clone()).collect();
    let pop_lists = popular_lists(
        &Split {
            train: tested.iter().map(|&u| split.train[u].clone()).collect(),
            test: test.clone(),
        },
        &popularity,
        K,
    );
    let popularity_figures = figures(&pop_lists, &test, &popularity, K)?;
    let (popularity_ndcg, popularity_hit_rate) =
        (popularity_figures.ndcg, popularity_figures.hit_rate);
    let mut scorer = Scorer {
        inputs: tested
            .iter()
            .map(|&u| UserInput {
                history: split.train[u].clone(),
                ..UserInput::default()
            })
            .collect(),
        installed: None,
        base: Recommender::new(
            base.clone(),
            (0..n as i64).collect(),
            popularity.iter().map(|&c| c as f32).collect(),
        ),
        test,
        popularity,
    };
    let open = |key: &str| !given.has(key);
    let mut searched: Vec<String> = Vec::new();
    let methods: Vec<Method> = if given.method {
        vec![base.method]
    } else {
        searched.push("method".into());
        if n <= base.max_items {
            vec![Method::Ease, Method::Knn, Method::Blend]
        } else {
            // EASE alone would leave the items beyond its dense limit unscored.
            vec![Method::Knn, Method::Blend]
        }
    };
    let uses_ease = methods.iter().any(|m| m.uses_ease());
    let uses_knn = methods.iter().any(|m| m.uses_knn());
    // Longer lists only where the catalogue is small enough for EASE to be
    // dense: beyond it, n x 1,000 weights would cost gigabytes.
    let neighbour_counts: Vec<usize> =
        if open("neighbours") && n > base.neighbours && n <= base.max_items {
            searched.push("neighbours".into());
            vec![
                base.neighbours,
                if n <= LAMBDA_FULL_ITEMS { n } else { 1000 },
            ]
        } else {
            vec![base.neighbours]
        };
    let max_neighbours = *neighbour_counts.iter().max().unwrap_or(&base.neighbours);
    let mut candidates = Vec::new();
    let plain = Params {
        half_life: 0.0,
        transition_weight: 0.0,
        ..base.clone()
    };
    let empty: Lists = vec![Vec::new(); n];

    // λ: plain EASE on validation, per λ.
    let mut lambda = base.lambda;
    let mut ease_lists: Option<Lists> = None;
    if uses_ease && open("lambda") {
        searched.push("lambda".into());
        let full = n <= LAMBDA_FULL_ITEMS.min(base.max_items);
        let m = if full {
            base.max_items
        } else {
            LAMBDA_FULL_ITEMS.min(base.max_items)
        };
        let mut best = f64::MIN;
        for &l in &LAMBDAS {
            let lists = fit_ease_lists(&split.train, n, l, m, max_neighbours, stop)?;
            let p = Params {
                method: Method::Ease,
                lambda: l,
                neighbours: max_neighbours,
                ..plain.clone()
            };
            scorer.forget();
            let s = scorer.score(&p, &lists, &empty, stop)?;
            candidates.push(candidate(&p, s));
            if s.0 > best {
                best = s.0;
                lambda = l;
                if full {
                    ease_lists = Some(lists);
                }
            }
        }
    }
    if uses_ease && ease_lists.is_none() {
        ease_lists = Some(fit_ease_lists(
            &split.train,
            n,
            lambda,
            base.max_items,
            max_neighbours,
            stop,
        )?);
    }
    let knn_lists = if uses_knn {
        Some(fit_knn_lists(
            &split.train,
            n,
            max_neighbours,
            base.shrink,
            stop,
        )?)
    } else {
        None
    };
    let next_params = Params {
        neighbours: max_neighbours,
        ..base.clone()
    };
    let next_lists = if open("transition_weight") || base.transition_weight > 0.0 {
        fit_transition_lists(&split.train, n, &next_params, stop)?
    } else {
        empty.clone()
    };

    // The main lists of each method, blend weight and neighbour count.
    let mut mains: Vec<(Params, Lists)> = Vec::new();
    for &method in &methods {
        let weights: Vec<f32> = if method == Method::Blend && open("knn_weight") {
            KNN_WEIGHTS.to_vec()
        } else {
            vec![base.knn_weight]
        };
        for &nb in &neighbour_counts {
            for &w in &weights {
                let p = Params {
                    method,
                    lambda,
                    neighbours: nb,
                    knn_weight: w,
                    ..base.clone()
                };
                let lists = match (method, &ease_lists, &knn_lists) {
                    (Method::Ease, Some(e), _) => truncate(e, nb),
                    (Method::Knn, _, Some(k)) => truncate(k, nb),
                    (Method::Blend, Some(e), Some(k)) => {
                        blend_lists(&truncate(e, nb), &truncate(k, nb), w, nb)
                    }
                    _ => continue,
                };
                mains.push((p, lists));
            }
        }
    }
    if methods.iter().any(|m| m.uses_knn()) && open("knn_weight") && !given.method {
        searched.push("knn_weight".into());
    }
    let half_lives: Vec<f32> = if open("half_life") {
        HALF_LIVES.to_vec()
    } else {
        vec![base.half_life]
    };
    if open("half_life") {
        searched.push("half_life".into());
    }
    // Stage 1: main lists x recency, without transitions.
    let mut best: Option<(f64, Params, usize)> = None;
    for (m, (p0, lists)) in mains.iter().enumerate() {
        for &h in &half_lives {
            let p = Params {
                half_life: h,
                transition_weight: if open("transition_weight") {
                    0.0
                } else {
                    base.transition_weight
                },
                ..p0.clone()
            };
            let s = scorer.score(&p, lists, &next_lists, stop)?;
            candidates.push(candidate(&p, s));
            if best.as_ref().is_none_or(|b| s.0 > b.0) {
                best = Some((s.0, p, m));
            }
        }
    }
    let Some((mut best_ndcg, mut chosen, m)) = best else {
        return Err(RankError::InvalidParameter {
            name: "method",
            reason: "has nothing to fit",
        });
    };
    let lists = &mains[m].1;
    // Stage 2: transitions on the best, then recency again with them.
    if open("transition_weight") {
        searched.push("transition_weight".into());
        let t_half: Vec<f32> = if open("transition_half_life") {
            TRANSITION_HALF_LIVES.to_vec()
        } else {
            vec![base.transition_half_life]
        };
        let start = chosen.clone();
        let without = best_ndcg;
        let mut with: Option<(f64, Params)> = None;
        for &tw in TRANSITION_WEIGHTS.iter().skip(1) {
            for &th in &t_half {
                let p = Params {
                    transition_weight: tw,
                    transition_half_life: th,
                    ..start.clone()
                };
                let s = scorer.score(&p, lists, &next_lists, stop)?;
                candidates.push(candidate(&p, s));
                if with.as_ref().is_none_or(|w| s.0 > w.0) {
                    with = Some((s.0, p));
                }
            }
        }
        if let Some((ndcg, p)) = with {
            if ndcg > without * (1.0 + MIN_GAIN) {
                (best_ndcg, chosen) = (ndcg, p);
            }
        }
        if chosen.transition_weight > 0.0 && half_lives.len() > 1 {
            let start = chosen.clone();
            for &h in &half_lives {
                let p = Params {
                    half_life: h,
                    ..start.clone()
                };
                if p == start {
                    continue;
                }
                let s = scorer.score(&p, lists, &next_lists, stop)?;
                candidates.push(candidate(&p, s));
                if s.0 > best_ndcg {
                    (best_ndcg, chosen) = (s.0, p);
                }
            }
        }
    }
    // A shop whose histories say nothing beyond popularity gets popularity.
    if !given.method && popularity_ndcg > best_ndcg {
        chosen = Params {
            method: Method::Popularity,
            half_life: 0.0,
            transition_weight: 0.0,
            ..base.clone()
        };
        best_ndcg = popularity_ndcg;
        candidates.push(candidate(&chosen, (popularity_ndcg, popularity_hit_rate)));
    }
    let chosen_candidate = candidates
        .iter()
        .filter(|c| c.ndcg == best_ndcg)
        .find(|c| {
            c.method == chosen.method
                && c.half_life == chosen.half_life
                && c.transition_weight == chosen.transition_weight
        })
        .cloned()
        .unwrap_or_else(|| candidate(&chosen, (best_ndcg, 0.0)));
    let selection = Selection {
        validation: base.validation,
        users: tested.len(),
        searched,
        candidates,
        chosen: chosen_candidate,
        popularity_ndcg,
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((chosen, selection))
}
