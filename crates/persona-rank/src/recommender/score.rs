//! Ranking users with a [`Recommender`]: item-item scores with recency and
//! transitions, text for cold items and text-only users, segment and global
//! popularity, a reason for every item, and an optional cap per category.
//! Pure Rust: callers run it on their thread pool.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::error::RankError;
use crate::interactions::distinct_sorted;
use crate::recency::{weighted_history, Recency};
use crate::recommender::model::{dot, unit, Recommender, Rows, NO_CATEGORY};
use crate::recommender::params::Method;
use crate::selection::BoundedTopK;
use crate::topk::top_k_blocked;

/// History items (latest first) searched for the reason of a recommendation.
const REASON_HISTORY: usize = 20;

/// One user, as scoring sees them.
#[derive(Debug, Default, Clone)]
pub struct UserInput {
    /// Time-ordered catalogue indices of their events.
    pub history: Vec<u32>,
    /// Unit user vector (vectors method).
    pub vector: Option<Vec<f32>>,
    /// Unit text vector (profiles' text_vec).
    pub text: Option<Vec<f32>>,
    pub segment: Option<i32>,
}

/// Why an item was recommended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason {
    Related(u32),
    Next(u32),
    NewText,
    Profile,
    Text,
    Segment(i32),
    Popular,
}

impl Reason {
    pub fn text(self, ids: &[i64]) -> String {
        let id = |i: u32| ids.get(i as usize).copied().unwrap_or_default();
        match self {
            Reason::Related(i) => format!("related to item {} in your history", id(i)),
            Reason::Next(i) => format!("often comes after item {} in your history", id(i)),
            Reason::NewText => "new item whose text matches your items".to_owned(),
            Reason::Profile => "nearest to your profile vector".to_owned(),
            Reason::Text => "matches your review and search text".to_owned(),
            Reason::Segment(s) => format!("popular in your segment {s}"),
            Reason::Popular => "popular overall".to_owned(),
        }
    }
}

/// One recommendation: item index, score, reason.
pub type Rec = (u32, f32, Reason);

/// Options of one ranking call.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub k: usize,
    pub exclude_seen: bool,
    /// One flag per item: only flagged items are recommended.
    pub allow: Option<&'a [bool]>,
    /// Work out why each item was chosen (evaluation needs only the items).
    pub reasons: bool,
}

fn allowed(ask: &Ask<'_>, i: usize) -> bool {
    ask.allow.is_none_or(|a| a.get(i).copied().unwrap_or(false))
}

pub(crate) fn recency(half_life: f32) -> Recency {
    if half_life > 0.0 {
        Recency::Exponential { half_life }
    } else {
        Recency::Uniform
    }
}

/// Top `k` of a full score vector (score desc, index asc), skipping `seen`
/// (sorted) and disallowed or ineligible items.
pub(crate) fn top_of(
    scores: &[f32],
    k: usize,
    seen: &[u32],
    ask: &Ask<'_>,
    eligible: &dyn Fn(usize) -> bool,
) -> Vec<(u32, f32)> {
    let mut top = BoundedTopK::new(k);
    if k == 0 {
        return Vec::new();
    }
    for (i, &s) in scores.iter().enumerate() {
        if s < top.threshold() {
            continue;
        }
        if !allowed(ask, i)
            || !eligible(i)
            || (!seen.is_empty() && seen.binary_search(&(i as u32)).is_ok())
        {
            continue;
        }
        top.offer(s, i as u32);
    }
    top.into_sorted()
}

/// Top `k` with at most `max_per_category` items of one category, counting
/// the categories of `already` (a list being filled) first.
fn select(
    rec: &Recommender,
    scores: &[f32],
    k: usize,
    seen: &[u32],
    ask: &Ask<'_>,
    eligible: &dyn Fn(usize) -> bool,
    already: &[Rec],
) -> Vec<(u32, f32)> {
    let cap = rec.params.max_per_category;
    if cap == 0 || rec.category_index.len() != scores.len() {
        return top_of(scores, k, seen, ask, eligible);
    }
    let mut want = (k * 2).max(k + 8);
    loop {
        let candidates = top_of(scores, want, seen, ask, eligible);
        let mut counts: HashMap<u32, usize> = HashMap::new();
        for r in already {
            if let Some(&c) = rec.category_index.get(r.0 as usize) {
                *counts.entry(c).or_default() += 1;
            }
        }
        let mut out = Vec::with_capacity(k);
        for &(j, s) in &candidates {
            let c = rec.category_index[j as usize];
            if c != NO_CATEGORY {
                let used = counts.entry(c).or_default();
                if *used >= cap {
                    continue;
                }
                *used += 1;
            }
            out.push((j, s));
            if out.len() == k {
                return out;
            }
        }
        if candidates.len() < want {
            return out;
        }
        want = want.saturating_mul(4);
    }
}

fn add_rows(rows: &Rows, history: &[(u32, f32)], scale: f32, scores: &mut [f32]) {
    for &(i, w) in history {
        let (items, weights) = rows.row(i);
        let w = w * scale;
        for (&j, &v) in items.iter().zip(weights) {
            if let Some(s) = scores.get_mut(j as usize) {
                *s += w * v;
            }
        }
    }
}

/// Item-item scores of one history into `scores` (prior included).
pub(crate) fn item_item_scores(
    rec: &Recommender,
    history: &[u32],
    scores: &mut [f32],
) -> Result<(), RankError> {
    scores.copy_from_slice(&rec.prior);
    let p = &rec.params;
    add_rows(
        &rec.main,
        &weighted_history(history, recency(p.half_life))?,
        1.0,
        scores,
    );
    if p.transition_weight > 0.0 && !rec.next.is_empty() {
        add_rows(
            &rec.next,
            &weighted_history(history, recency(p.transition_half_life))?,
            p.transition_weight,
            scores,
        );
    }
    Ok(())
}

fn weight(age: usize, half_life: f32) -> f32 {
    if half_life > 0.0 {
        (-(age as f32) / half_life).exp2()
    } else {
        1.0
    }
}

/// Why an item-item recommendation was made: the recent history item that
/// contributed most to each chosen item.
fn item_item_reasons(rec: &Recommender, history: &[u32], chosen: &[(u32, f32)]) -> Vec<Reason> {
    let p = &rec.params;
    let mut best: Vec<(f32, Reason)> = vec![(0.0, Reason::Popular); chosen.len()];
    let mut recent: Vec<u32> = Vec::new();
    for &i in history.iter().rev() {
        if !recent.contains(&i) {
            recent.push(i);
            if recent.len() == REASON_HISTORY {
                break;
            }
        }
    }
    let len = history.len();
    let age = |i: u32| len - 1 - history.iter().rposition(|&h| h == i).unwrap_or(0);
    for &i in &recent {
        let a = age(i);
        let wm = weight(a, p.half_life);
        let wt = weight(a, p.transition_half_life) * p.transition_weight;
        for (rows, w, next) in [(&rec.main, wm, false), (&rec.next, wt, true)] {
            if w <= 0.0 || rows.is_empty() {
                continue;
            }
            let (items, weights) = rows.row(i);
            for (&j, &v) in items.iter().zip(weights) {
                if let Some(slot) = chosen.iter().position(|c| c.0 == j) {
                    let c = w * v;
                    if c > best[slot].0 {
                        best[slot] = (
                            c,
                            if next {
                                Reason::Next(i)
                            } else {
                                Reason::Related(i)
                            },
                        );
                    }
                }
            }
        }
    }
    best.into_iter().map(|b| b.1).collect()
}

/// The user's content vector for cold items: their text vector, else the
/// mean text vector of their history items.
fn content_vector(rec: &Recommender, u: &UserInput) -> Option<Vec<f32>> {
    let texts = rec.texts.as_ref()?;
    if let Some(t) = &u.text {
        if t.len() == texts.dim {
            return Some(t.clone());
        }
    }
    let mut acc = vec![0f32; texts.dim];
    let mut any = false;
    for &i in &u.history {
        if texts.has.get(i as usize).copied().unwrap_or(false) {
            any = true;
            for (a, x) in acc.iter_mut().zip(texts.row(i as usize)) {
                *a += x;
            }
        }
    }
    if any {
        unit(acc)
    } else {
        None
    }
}

/// Ranks one user without a vector query (item-item, text, segment).
fn rank_one(
    rec: &Recommender,
    u: &UserInput,
    ask: &Ask<'_>,
    segment_popularity: &HashMap<i32, Vec<f32>>,
    scores: &mut Vec<f32>,
) -> Result<Vec<Rec>, RankError> {
    let n = rec.n();
    scores.resize(n, 0.0);
    let seen = if ask.exclude_seen {
        distinct_sorted(&u.history)
    } else {
        Vec::new()
    };
    let p = &rec.params;
    if !u.history.is_empty() && p.method != Method::Vectors {
        item_item_scores(rec, &u.history, scores)?;
        // New items (no interactions) scored by text against the user's items.
        let mut cold_scored = false;
        if let (Some(texts), true) = (rec.texts.as_ref(), p.text_weight > 0.0) {
            if let Some(c) = content_vector(rec, u) {
                for (j, s) in scores.iter_mut().enumerate() {
                    if rec.popularity[j] == 0.0 && texts.has[j] {
                        *s += p.text_weight * dot(&c, texts.row(j));
                        cold_scored = true;
                    }
                }
            }
        }
        let chosen = select(rec, scores, ask.k, &seen, ask, &|_| true, &[]);
        let reasons = if ask.reasons {
            item_item_reasons(rec, &u.history, &chosen)
        } else {
            vec![Reason::Popular; chosen.len()]
        };
        return Ok(chosen
            .into_iter()
            .zip(reasons)
            .map(|((j, s), r)| {
                let r = if r == Reason::Popular && cold_scored && rec.popularity[j as usize] == 0.0
                {
                    Reason::NewText
                } else {
                    r
                };
                (j, s, r)
            })
            .collect());
    }
    if let (Some(texts), Some(t)) = (rec.texts.as_ref(), u.text.as_ref()) {
        if t.len() == texts.dim {
            for (j, s) in scores.iter_mut().enumerate() {
                *s = if texts.has[j] {
                    dot(t, texts.row(j))
                } else {
                    0.0
                };
            }
            let chosen = select(rec, scores, ask.k, &seen, ask, &|j| texts.has[j], &[]);
            return Ok(chosen
                .into_iter()
                .map(|(j, s)| (j, s, Reason::Text))
                .collect());
        }
    }
    if let Some((s, pop)) = u
        .segment
        .and_then(|s| segment_popularity.get(&s).map(|p| (s, p)))
    {
        if pop.len() == n {
            let max = rec.popularity.iter().copied().fold(1.0f32, f32::max);
            for j in 0..n {
                // Segment counts first; the global count (below 1) orders the rest.
                scores[j] = pop[j] + 0.5 * rec.popularity[j] / max;
            }
            let chosen = select(rec, scores, ask.k, &seen, ask, &|j| pop[j] > 0.0, &[]);
            return Ok(chosen
                .into_iter()
                .map(|(j, sc)| (j, sc, Reason::Segment(s)))
                .collect());
        }
    }
    Ok(Vec::new())
}

/// Fills a list up to k with the most popular eligible items not in it.
fn fill_popular(rec: &Recommender, u: &UserInput, ask: &Ask<'_>, list: &mut Vec<Rec>) {
    if list.len() >= ask.k {
        return;
    }
    let mut seen = if ask.exclude_seen {
        distinct_sorted(&u.history)
    } else {
        Vec::new()
    };
    seen.extend(list.iter().map(|r| r.0));
    seen.sort_unstable();
    seen.dedup();
    let more = select(
        rec,
        &rec.popularity,
        ask.k - list.len(),
        &seen,
        ask,
        &|_| true,
        list,
    );
    list.extend(more.into_iter().map(|(j, s)| (j, s, Reason::Popular)));
}

/// Ranks a batch of users: vector users by one blocked product, the others
/// one by one, every list filled up to k by popularity.
pub fn rank_batch(
    rec: &Recommender,
    users: &[UserInput],
    ask: &Ask<'_>,
    segment_popularity: &HashMap<i32, Vec<f32>>,
) -> Result<Vec<Vec<Rec>>, RankError> {
    crate::interactions::check_items(
        &users
            .iter()
            .map(|u| u.history.as_slice())
            .collect::<Vec<_>>(),
        rec.n(),
    )?;
    let mut out: Vec<Vec<Rec>> = vec![Vec::new(); users.len()];
    if let (Method::Vectors, Some(items)) = (rec.params.method, rec.vectors.as_ref()) {
        let with: Vec<usize> = (0..users.len())
            .filter(|&q| {
                users[q]
                    .vector
                    .as_ref()
                    .is_some_and(|v| v.len() == items.dim)
            })
            .collect();
        if !with.is_empty() {
            let mut queries = Vec::with_capacity(with.len() * items.dim);
            for &q in &with {
                if let Some(v) = &users[q].vector {
                    queries.extend_from_slice(v);
                }
            }
            let seen: Vec<Vec<u32>> = with
                .iter()
                .map(|&q| {
                    if ask.exclude_seen {
                        distinct_sorted(&users[q].history)
                    } else {
                        Vec::new()
                    }
                })
                .collect();
            let allow: Vec<bool> = (0..rec.n())
                .map(|j| items.has[j] && allowed(ask, j))
                .collect();
            let exclude = |q: usize| -> &[u32] { &seen[q] };
            // The category cap needs more candidates than k to choose from.
            let want = if rec.params.max_per_category > 0 {
                ask.k * 4
            } else {
                ask.k
            };
            let tops = top_k_blocked(
                &queries,
                with.len(),
                &items.data,
                rec.n(),
                items.dim,
                want,
                &exclude,
                Some(&allow),
            )?;
            for (&q, top) in with.iter().zip(tops) {
                out[q] = cap_list(rec, top, ask.k)
                    .into_iter()
                    .map(|(j, s)| (j, s, Reason::Profile))
                    .collect();
            }
        }
    }
    out.par_iter_mut()
        .zip(users.par_iter())
        .try_for_each_init(Vec::new, |scores, (list, u)| {
            if list.is_empty() {
                *list = rank_one(rec, u, ask, segment_popularity, scores)?;
            }
            fill_popular(rec, u, ask, list);
            Ok::<(), RankError>(())
        })?;
    Ok(out)
}

/// A ranked list cut to `k` under the category cap.
fn cap_list(rec: &Recommender, list: Vec<(u32, f32)>, k: usize) -> Vec<(u32, f32)> {
    let cap = rec.params.max_per_category;
    if cap == 0 || rec.category_index.len() != rec.n() {
        return list.into_iter().take(k).collect();
    }
    let mut counts: HashMap<u32, usize> = HashMap::new();
    list.into_iter()
        .filter(|&(j, _)| {
            let c = rec.category_index[j as usize];
            if c == NO_CATEGORY {
                return true;
            }
            let used = counts.entry(c).or_default();
            *used += 1;
            *used <= cap
        })
        .take(k)
        .collect()
}

/// Items most like one item: positive main weights first, then nearest item
/// vectors and texts.
pub fn similar_items(rec: &Recommender, i: u32, k: usize) -> Vec<(u32, f32, &'static str)> {
    let mut out = Vec::new();
    let mut taken = vec![i];
    let (items, weights) = rec.main.row(i);
    // Positive weights only: a negative EASE weight says "rather not".
    let mut positive: Vec<(u32, f32)> = items
        .iter()
        .copied()
        .zip(weights.iter().copied())
        .filter(|x| x.1 > 0.0 && x.0 != i)
        .collect();
    positive.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    for (j, w) in positive.into_iter().take(k) {
        out.push((j, w, "often chosen by the same users"));
        taken.push(j);
    }
    for (mat, reason) in [
        (rec.vectors.as_ref(), "nearest item vector"),
        (rec.texts.as_ref(), "similar text"),
    ] {
        if out.len() >= k {
            break;
        }
        let Some(m) = mat else { continue };
        if !m.has.get(i as usize).copied().unwrap_or(false) {
            continue;
        }
        let q = m.row(i as usize);
        let scores: Vec<f32> = (0..rec.n()).map(|j| dot(q, m.row(j))).collect();
        taken.sort_unstable();
        let ask = Ask {
            k: k - out.len(),
            exclude_seen: true,
            allow: None,
            reasons: false,
        };
        for (j, s) in top_of(&scores, k - out.len(), &taken, &ask, &|j| m.has[j]) {
            out.push((j, s, reason));
            taken.push(j);
        }
    }
    out
}
