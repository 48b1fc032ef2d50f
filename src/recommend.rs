//! Recommendations: an item-item model trained in the database
//! (`persona.train_recommender`), top-k for one user (`persona.recommend`) or
//! every user (`persona.recommend_all`), similar items, cold start, and
//! leave-last-out evaluation.
//!
//! Storage: one row per model in `persona.recommender_models` (sources,
//! parameters, figures) and one row per catalogue item in
//! `persona.recommender_items`: its popularity, category, and its top
//! neighbours by model weight as two arrays (`neighbours`, `weights`), the
//! same for transitions (`next_items`, `next_weights`), and the item's
//! vectors (`embedding` for the vectors method, `text_vec` for cold start).
//! A model is loaded once per backend (keyed by name and creation time) into
//! compressed rows; users' histories are read live from the events source,
//! so new events count without retraining.
//!
//! The maths is `persona-rank`; all scoring runs on the thread pool as pure
//! Rust (no Postgres calls), between reads and writes done on the backend
//! thread, which checks for interrupts between blocks.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::Instant;

use persona_rank::{
    catalogue_coverage, fit_ease_with, fit_item_knn_with, fit_transitions_with, item_popularity, ndcg_at_k,
    recall_at_k, top_k_blocked, EaseConfig, ItemItemModel, KnnConfig, Precision, RankError, ShouldStop,
    TransitionConfig, EASE_MAX_ITEMS,
};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use rayon::prelude::*;

use crate::access::{self, as_owner, Kind};
use crate::errors::{raise, raise_rank_error, raise_spi_error as spi_err, required};
use crate::jsonb::JsonbText;
use crate::sql_text::{quote_ident, quote_literal as literal};
use crate::runtime::{run_cancellable, run_on_pool};
use crate::spi::Columns;

/// The most recommendations one call returns per user.
pub const MAX_K: i32 = 1000;
/// Rows fetched per cursor fetch.
const FETCH_ROWS: libc::c_long = 10_000;
/// Popularity scaled so the most popular item adds this much to a model
/// score: it only orders the items a sparse model leaves at zero.
const POPULARITY_TIE_BREAK: f32 = 1e-5;
/// History items (latest first) searched for the reason of a recommendation.
const REASON_HISTORY: usize = 20;

fn bad(msg: String) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, msg, None, None)
}


fn check_k(k: i32) -> usize {
    if !(1..=MAX_K).contains(&k) {
        bad(format!("k must be between 1 and {MAX_K}, not {k}"));
    }
    k as usize
}

use crate::source::from_item;

fn check_column(source: &str, col: &str, kind: &str, argument: &str) {
    Spi::run_with_args(
        "SELECT persona._column_type($1, $2, $3, $4)",
        &[source.into(), col.into(), kind.into(), argument.into()],
    )
    .unwrap_or_else(|e| spi_err("check the source", e));
}

/// Runs `each` on every row batch of a query.
fn for_each_batch(query: &str, mut each: impl FnMut(pgrx::spi::SpiTupleTable<'_>)) {
    Spi::connect(|client| {
        let mut cursor = client.open_cursor(query, &[]);
        loop {
            check_for_interrupts!();
            let batch = cursor.fetch(FETCH_ROWS).unwrap_or_else(|e| spi_err("read the source", e));
            if batch.is_empty() {
                break;
            }
            each(batch);
        }
    });
}

// ---------------------------------------------------------------- parameters

#[derive(Debug, Clone, Copy, PartialEq)]
enum Method {
    /// EASE weights, plus transitions from the latest items.
    Ease,
    /// Item-kNN (cosine of users sets), plus transitions.
    Knn,
    /// Inner product of given user and item vectors (cosine: unit vectors).
    Vectors,
}

impl Method {
    fn parse(s: &str) -> Method {
        match s {
            "ease" => Method::Ease,
            "knn" => Method::Knn,
            "vectors" => Method::Vectors,
            other => bad(format!("method must be 'ease', 'knn' or 'vectors', not '{other}'")),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Method::Ease => "ease",
            Method::Knn => "knn",
            Method::Vectors => "vectors",
        }
    }
}

#[derive(Debug, Clone)]
struct Params {
    method: Method,
    lambda: f64,
    neighbours: usize,
    shrink: f32,
    half_life: f32,
    transition_weight: f32,
    transition_window: usize,
    transition_decay: f32,
    transition_half_life: f32,
    text_weight: f32,
    max_items: usize,
}

impl Params {
    fn from_json(method: Method, o: &serde_json::Value) -> Params {
        let known = [
            "lambda",
            "neighbours",
            "shrink",
            "half_life",
            "transition_weight",
            "transition_window",
            "transition_decay",
            "transition_half_life",
            "text_weight",
            "max_items",
        ];
        let Some(map) = o.as_object() else { bad("options must be a JSON object".to_owned()) };
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                bad(format!("unknown option \"{key}\"; known options: {}", known.join(", ")));
            }
        }
        let num = |key: &str, default: f64, lo: f64, hi: f64| -> f64 {
            match map.get(key) {
                None | Some(serde_json::Value::Null) => default,
                Some(v) => match v.as_f64() {
                    Some(x) if x.is_finite() && x >= lo && x <= hi => x,
                    _ => bad(format!("option {key} must be a number between {lo} and {hi}, not {v}")),
                },
            }
        };
        Params {
            method,
            lambda: num("lambda", 200.0, 1e-6, 1e12),
            neighbours: num("neighbours", 200.0, 1.0, 10_000.0) as usize,
            shrink: num("shrink", 0.0, 0.0, 1e9) as f32,
            half_life: num("half_life", 2.0, 0.0, 1e9) as f32,
            transition_weight: num("transition_weight", if method == Method::Vectors { 0.0 } else { 1.0 }, 0.0, 1e6) as f32,
            transition_window: num("transition_window", 3.0, 1.0, 100.0) as usize,
            transition_decay: num("transition_decay", 0.5, 0.0, 1.0) as f32,
            transition_half_life: num("transition_half_life", 0.5, 0.0, 1e9) as f32,
            text_weight: num("text_weight", 0.1, 0.0, 1e6) as f32,
            max_items: num("max_items", EASE_MAX_ITEMS as f64, 1.0, EASE_MAX_ITEMS as f64) as usize,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "lambda": self.lambda, "neighbours": self.neighbours, "shrink": self.shrink,
            "half_life": self.half_life, "transition_weight": self.transition_weight,
            "transition_window": self.transition_window, "transition_decay": self.transition_decay,
            "transition_half_life": self.transition_half_life, "text_weight": self.text_weight,
            "max_items": self.max_items,
        })
    }
}

/// Weight of the history item `age` steps before the last (half-life in
/// items; 0 = every item once).
fn recency(age: usize, half_life: f32) -> f32 {
    if half_life <= 0.0 {
        1.0
    } else {
        (-(age as f32) / half_life).exp2()
    }
}

// ---------------------------------------------------------- sparse item rows

/// Per-item neighbour lists in compressed rows.
#[derive(Default)]
struct Rows {
    start: Vec<usize>,
    items: Vec<u32>,
    weights: Vec<f32>,
}

impl Rows {
    fn from_lists(lists: Vec<Vec<(u32, f32)>>) -> Rows {
        let mut r = Rows { start: vec![0], items: Vec::new(), weights: Vec::new() };
        for list in lists {
            for (i, w) in list {
                r.items.push(i);
                r.weights.push(w);
            }
            r.start.push(r.items.len());
        }
        r
    }
    fn row(&self, i: u32) -> (&[u32], &[f32]) {
        let (a, b) = (self.start[i as usize], self.start[i as usize + 1]);
        (&self.items[a..b], &self.weights[a..b])
    }
    fn len(&self) -> usize {
        self.items.len()
    }
}

/// Unit-length row vectors; rows of items without a vector are zeros.
struct Mat {
    dim: usize,
    data: Vec<f32>,
    has: Vec<bool>,
}

impl Mat {
    fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
}

fn unit(mut v: Vec<f32>) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if !(norm > 0.0 && norm.is_finite()) || v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    v.iter_mut().for_each(|x| *x = (f64::from(*x) / norm) as f32);
    Some(v)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Everything scoring needs, free of Postgres.
struct Core {
    params: Params,
    ids: Vec<i64>,
    popularity: Vec<f32>,
    prior: Vec<f32>,
    categories: Vec<Option<String>>,
    main: Rows,
    next: Rows,
    vectors: Option<Mat>,
    texts: Option<Mat>,
}

impl Core {
    fn n(&self) -> usize {
        self.ids.len()
    }
    fn new(params: Params, ids: Vec<i64>, popularity: Vec<f32>) -> Core {
        let max = popularity.iter().copied().fold(1.0f32, f32::max);
        let prior = popularity.iter().map(|p| POPULARITY_TIE_BREAK * p / max).collect();
        let n = ids.len();
        Core {
            params,
            ids,
            popularity,
            prior,
            categories: vec![None; n],
            main: Rows { start: vec![0; n + 1], ..Rows::default() },
            next: Rows { start: vec![0; n + 1], ..Rows::default() },
            vectors: None,
            texts: None,
        }
    }
}

/// One user, as scoring sees them.
#[derive(Default, Clone)]
struct UserInput {
    /// Time-ordered catalogue indices of their events.
    history: Vec<u32>,
    /// Unit user vector (vectors method).
    vector: Option<Vec<f32>>,
    /// Unit text vector (profiles' text_vec).
    text: Option<Vec<f32>>,
    segment: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Reason {
    Related(u32),
    Next(u32),
    NewText,
    Profile,
    Text,
    Segment(i32),
    Popular,
}

impl Reason {
    fn text(self, ids: &[i64]) -> String {
        match self {
            Reason::Related(i) => format!("related to item {} in your history", ids[i as usize]),
            Reason::Next(i) => format!("often comes after item {} in your history", ids[i as usize]),
            Reason::NewText => "new item whose text matches your items".to_owned(),
            Reason::Profile => "nearest to your profile vector".to_owned(),
            Reason::Text => "matches your review and search text".to_owned(),
            Reason::Segment(s) => format!("popular in your segment {s}"),
            Reason::Popular => "popular overall".to_owned(),
        }
    }
}

type Rec = (u32, f32, Reason);

/// Options of one ranking call.
struct Ask<'a> {
    k: usize,
    exclude_seen: bool,
    allow: Option<&'a [bool]>,
}

fn allowed(ask: &Ask<'_>, i: usize) -> bool {
    ask.allow.is_none_or(|a| a[i])
}

/// Top k of a full score vector, skipping `seen` (sorted) and disallowed items.
fn top_of(scores: &[f32], k: usize, seen: &[u32], ask: &Ask<'_>, eligible: impl Fn(usize) -> bool) -> Vec<(u32, f32)> {
    // Scores are finite; select by (score desc, index asc) with a partial sort.
    let mut cand: Vec<(u32, f32)> = Vec::with_capacity(k + 1);
    let mut worst = f32::NEG_INFINITY;
    for (i, &s) in scores.iter().enumerate() {
        if cand.len() == k && s <= worst {
            continue;
        }
        if !allowed(ask, i) || !eligible(i) || (!seen.is_empty() && seen.binary_search(&(i as u32)).is_ok()) {
            continue;
        }
        cand.push((i as u32, s));
        if cand.len() > k {
            cand.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            cand.truncate(k);
        }
        if cand.len() == k {
            worst = cand.iter().map(|c| c.1).fold(f32::INFINITY, f32::min);
        }
    }
    cand.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    cand.truncate(k);
    cand
}

/// Distinct history items with recency weights (latest occurrence counts), sorted by item.
fn weighted(history: &[u32], half_life: f32) -> Vec<(u32, f32)> {
    let len = history.len();
    let mut w: Vec<(u32, f32)> = history.iter().enumerate().map(|(p, &i)| (i, recency(len - 1 - p, half_life))).collect();
    w.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    w.dedup_by_key(|e| e.0);
    w.retain(|e| e.1 > 1e-7);
    w
}

fn distinct_sorted(history: &[u32]) -> Vec<u32> {
    let mut v = history.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// Item-item scores of one history into `scores` (prior included).
fn item_item_scores(core: &Core, history: &[u32], scores: &mut [f32]) {
    scores.copy_from_slice(&core.prior);
    let p = &core.params;
    for (i, w) in weighted(history, p.half_life) {
        let (items, weights) = core.main.row(i);
        for (&j, &v) in items.iter().zip(weights) {
            scores[j as usize] += w * v;
        }
    }
    if p.transition_weight > 0.0 && core.next.len() > 0 {
        for (i, w) in weighted(history, p.transition_half_life) {
            let w = w * p.transition_weight;
            let (items, weights) = core.next.row(i);
            for (&j, &v) in items.iter().zip(weights) {
                scores[j as usize] += w * v;
            }
        }
    }
}

/// Why an item-item recommendation was made: the recent history item that
/// contributed most to each chosen item.
fn item_item_reasons(core: &Core, history: &[u32], chosen: &[(u32, f32)]) -> Vec<Reason> {
    let p = &core.params;
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
        let wm = recency(a, p.half_life);
        let wt = recency(a, p.transition_half_life) * p.transition_weight;
        for (rows, w, next) in [(&core.main, wm, false), (&core.next, wt, true)] {
            if w <= 0.0 || rows.len() == 0 {
                continue;
            }
            let (items, weights) = rows.row(i);
            for (&j, &v) in items.iter().zip(weights) {
                if let Some(slot) = chosen.iter().position(|c| c.0 == j) {
                    let c = w * v;
                    if c > best[slot].0 {
                        best[slot] = (c, if next { Reason::Next(i) } else { Reason::Related(i) });
                    }
                }
            }
        }
    }
    best.into_iter().map(|b| b.1).collect()
}

/// The user's content vector for cold items: their text vector, else the
/// mean text vector of their history items.
fn content_vector(core: &Core, u: &UserInput) -> Option<Vec<f32>> {
    let texts = core.texts.as_ref()?;
    if let Some(t) = &u.text {
        if t.len() == texts.dim {
            return Some(t.clone());
        }
    }
    let mut acc = vec![0f32; texts.dim];
    let mut any = false;
    for &i in &u.history {
        if texts.has[i as usize] {
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

/// Ranks one user without a vector query (item-item, text, segment, popularity).
fn rank_one(core: &Core, u: &UserInput, ask: &Ask<'_>, segment_popularity: &HashMap<i32, Vec<f32>>, scores: &mut Vec<f32>) -> Vec<Rec> {
    let n = core.n();
    scores.resize(n, 0.0);
    let seen = if ask.exclude_seen { distinct_sorted(&u.history) } else { Vec::new() };
    let p = &core.params;
    if !u.history.is_empty() && p.method != Method::Vectors {
        item_item_scores(core, &u.history, scores);
        // New items (no interactions) scored by text against the user's items.
        let mut cold_scored = false;
        if let (Some(texts), true) = (core.texts.as_ref(), p.text_weight > 0.0) {
            if let Some(c) = content_vector(core, u) {
                for (j, s) in scores.iter_mut().enumerate() {
                    if core.popularity[j] == 0.0 && texts.has[j] {
                        *s += p.text_weight * dot(&c, texts.row(j));
                        cold_scored = true;
                    }
                }
            }
        }
        let chosen = top_of(scores, ask.k, &seen, ask, |_| true);
        let reasons = item_item_reasons(core, &u.history, &chosen);
        return chosen
            .into_iter()
            .zip(reasons)
            .map(|((j, s), r)| {
                let r = if r == Reason::Popular && cold_scored && core.popularity[j as usize] == 0.0 { Reason::NewText } else { r };
                (j, s, r)
            })
            .collect();
    }
    if let (Some(texts), Some(t)) = (core.texts.as_ref(), u.text.as_ref()) {
        if t.len() == texts.dim {
            for (j, s) in scores.iter_mut().enumerate() {
                *s = if texts.has[j] { dot(t, texts.row(j)) } else { 0.0 };
            }
            return top_of(scores, ask.k, &seen, ask, |j| texts.has[j]).into_iter().map(|(j, s)| (j, s, Reason::Text)).collect();
        }
    }
    if let Some(pop) = u.segment.and_then(|s| segment_popularity.get(&s).map(|p| (s, p))) {
        let (s, pop) = pop;
        let max = core.popularity.iter().copied().fold(1.0f32, f32::max);
        for j in 0..n {
            // Segment counts first; the global count (below 1) orders the rest.
            scores[j] = pop[j] + 0.5 * core.popularity[j] / max;
        }
        return top_of(scores, ask.k, &seen, ask, |j| pop[j] > 0.0).into_iter().map(|(j, sc, )| (j, sc, Reason::Segment(s))).collect();
    }
    Vec::new()
}

/// Fills a list up to k with the most popular eligible items not in it.
fn fill_popular(core: &Core, u: &UserInput, ask: &Ask<'_>, list: &mut Vec<Rec>) {
    if list.len() >= ask.k {
        return;
    }
    let mut seen = if ask.exclude_seen { distinct_sorted(&u.history) } else { Vec::new() };
    seen.extend(list.iter().map(|r| r.0));
    seen.sort_unstable();
    seen.dedup();
    let more = top_of(&core.popularity, ask.k - list.len(), &seen, ask, |_| true);
    list.extend(more.into_iter().map(|(j, s)| (j, s, Reason::Popular)));
}

/// Ranks a batch of users: vector users by one blocked product, the others
/// one by one, every list filled up to k by popularity. Pure Rust: runs on
/// the pool.
fn rank_batch(core: &Core, users: &[UserInput], ask: &Ask<'_>, segment_popularity: &HashMap<i32, Vec<f32>>) -> Result<Vec<Vec<Rec>>, RankError> {
    let mut out: Vec<Vec<Rec>> = vec![Vec::new(); users.len()];
    if let (Method::Vectors, Some(items)) = (core.params.method, core.vectors.as_ref()) {
        let with: Vec<usize> = (0..users.len()).filter(|&q| users[q].vector.as_ref().is_some_and(|v| v.len() == items.dim)).collect();
        if !with.is_empty() {
            let mut queries = Vec::with_capacity(with.len() * items.dim);
            for &q in &with {
                if let Some(v) = &users[q].vector {
                    queries.extend_from_slice(v);
                }
            }
            let seen: Vec<Vec<u32>> =
                with.iter().map(|&q| if ask.exclude_seen { distinct_sorted(&users[q].history) } else { Vec::new() }).collect();
            let allow: Vec<bool> = (0..core.n()).map(|j| items.has[j] && allowed(ask, j)).collect();
            let exclude = |q: usize| -> &[u32] { &seen[q] };
            let tops = top_k_blocked(&queries, with.len(), &items.data, core.n(), items.dim, ask.k, &exclude, Some(&allow))?;
            for (&q, top) in with.iter().zip(tops) {
                out[q] = top.into_iter().map(|(j, s)| (j, s, Reason::Profile)).collect();
            }
        }
    }
    out.par_iter_mut().zip(users.par_iter()).for_each_init(Vec::new, |scores, (list, u)| {
        if list.is_empty() {
            *list = rank_one(core, u, ask, segment_popularity, scores);
        }
        fill_popular(core, u, ask, list);
    });
    Ok(out)
}

// -------------------------------------------------------------- training

struct Events {
    users: Vec<i64>,
    /// Per user, time-ordered item ids.
    sequences: Vec<Vec<i64>>,
    rows: i64,
    skipped: i64,
}

fn events_query(from: &str, user_col: &str, item_col: &str, time_col: &str, filter: &str) -> String {
    format!(
        "SELECT (s.{u})::bigint, (s.{i})::bigint FROM {from} s WHERE {filter} ORDER BY 1, s.{t}, 2",
        u = quote_ident(user_col),
        i = quote_ident(item_col),
        t = quote_ident(time_col),
    )
}

fn read_events(query: &str) -> Events {
    let mut ev = Events { users: Vec::new(), sequences: Vec::new(), rows: 0, skipped: 0 };
    for_each_batch(query, |batch| {
        for row in batch {
            let (Ok(Some(u)), Ok(Some(i))) = (row.get::<i64>(1), row.get::<i64>(2)) else {
                ev.skipped += 1;
                continue;
            };
            if ev.users.last() != Some(&u) {
                ev.users.push(u);
                ev.sequences.push(Vec::new());
            }
            if let Some(s) = ev.sequences.last_mut() {
                s.push(i);
            }
            ev.rows += 1;
        }
    });
    ev
}

/// (id, vector) rows of a source whose first two columns are the id and a real[].
fn read_vectors(from: &str, filter: &str) -> Vec<(i64, Vec<f32>)> {
    let mut out = Vec::new();
    let query = format!("SELECT (t.c1)::bigint, (t.c2)::real[], array_ndims(t.c2) FROM {from} AS t(c1, c2) WHERE {filter}");
    for_each_batch(&query, |batch| {
        for row in batch {
            if row.col::<i32>(3).unwrap_or(1) > 1 {
                // A matrix is no vector: never flattened (as in the vector functions).
                raise(
                    PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
                    format!("the vector of id {} is not one-dimensional", row.col::<i64>(1).unwrap_or_default()),
                    None,
                    Some("Vectors are one-dimensional real[] arrays."),
                );
            }
            if let (Some(id), Some(v)) = (row.col::<i64>(1), row.col::<Vec<Option<f32>>>(2)) {
                if v.iter().all(|x| x.is_some()) {
                    out.push((id, v.into_iter().flatten().collect()));
                }
            }
        }
    });
    out
}

/// Fitted neighbour lists: main model and transitions.
/// One neighbour list per item: (item index, weight), best first.
type Lists = Vec<Vec<(u32, f32)>>;

/// Each item's `k` strongest neighbours (for EASE, `nonzero`: negative
/// weights too when fewer are positive, zeros never); `stop` is asked per
/// item (a dense row of up to 20,000 weights each).
fn neighbour_lists(model: &ItemItemModel, n: usize, k: usize, nonzero: bool, stop: ShouldStop<'_>) -> Result<Lists, RankError> {
    (0..n as u32)
        .into_par_iter()
        .map(|i| {
            if stop() {
                return Err(RankError::Cancelled);
            }
            model.neighbours(i, k).map(|l| if nonzero { l.into_iter().filter(|x| x.1 != 0.0).collect() } else { l })
        })
        .collect()
}

/// Fits the main model and the transitions. Runs on the pool, through
/// `run_cancellable`: every fit asks `stop` between blocks, so a cancel or
/// statement_timeout ends even a 20,000-item EASE fit within a second.
fn fit_lists(histories: &[Vec<u32>], n: usize, p: &Params, stop: ShouldStop<'_>) -> Result<(Lists, Lists), RankError> {
    let main = match p.method {
        Method::Ease => {
            let model = fit_ease_with(
                histories,
                n,
                &EaseConfig { lambda: p.lambda, max_items: (n > p.max_items).then_some(p.max_items), precision: Precision::F32 },
                stop,
            )?;
            neighbour_lists(&model, n, p.neighbours, true, stop)?
        }
        Method::Knn => {
            let model = fit_item_knn_with(histories, n, &KnnConfig { neighbours: p.neighbours, shrink: p.shrink }, stop)?;
            neighbour_lists(&model, n, p.neighbours, false, stop)?
        }
        Method::Vectors => vec![Vec::new(); n],
    };
    let next = if p.transition_weight > 0.0 && p.method != Method::Vectors {
        let model = fit_transitions_with(
            histories,
            n,
            &TransitionConfig { window: p.transition_window, decay: p.transition_decay, backward: 0.0, neighbours: p.neighbours },
            stop,
        )?;
        neighbour_lists(&model, n, p.neighbours, false, stop)?
    } else {
        vec![Vec::new(); n]
    };
    Ok((main, next))
}

/// Trains a recommender and stores it (replacing a model of that name).
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn train_recommender(
    model: Option<&str>,
    events: default!(Option<&str>, "NULL"),
    user_col: default!(Option<&str>, "'user_id'"),
    item_col: default!(Option<&str>, "'item_id'"),
    time_col: default!(Option<&str>, "'event_time'"),
    method: default!(Option<&str>, "'ease'"),
    items: default!(Option<&str>, "NULL"),
    item_key_col: default!(Option<&str>, "'item_id'"),
    category_col: default!(Option<&str>, "NULL"),
    item_text_col: default!(Option<&str>, "NULL"),
    users: default!(Option<&str>, "NULL"),
    users_key_col: default!(Option<&str>, "'user_id'"),
    profiles: default!(Option<&str>, "NULL"),
    segments: default!(Option<&str>, "NULL"),
    user_vectors: default!(Option<&str>, "NULL"),
    item_vectors: default!(Option<&str>, "NULL"),
    options: default!(Option<JsonbText>, "'{}'"),
) -> TableIterator<
    'static,
    (name!(users, i64), name!(items, i64), name!(interactions, i64), name!(neighbours, i64), name!(seconds, f64)),
> {
    let started = Instant::now();
    // NULL sources mean "not given"; every other argument needs a value.
    required!(model, user_col, item_col, time_col, method, item_key_col, users_key_col, options);
    // Before any work: one training of a name at a time, and only its owner's.
    access::claim(Kind::Recommender, model);
    let method = Method::parse(method);
    let params = Params::from_json(method, &options.parse("argument \"options\""));
    if method == Method::Vectors && (user_vectors.is_none() || item_vectors.is_none()) {
        bad("method 'vectors' needs user_vectors and item_vectors".to_owned());
    }
    if method != Method::Vectors && events.is_none() {
        bad(format!("method '{}' needs events", method.name()));
    }
    // Check every source (42P01) and column (42703, 42804) first.
    for (src, arg) in [(events, "events"), (items, "items"), (users, "users"), (user_vectors, "user_vectors"), (item_vectors, "item_vectors")] {
        if let Some(src) = src {
            from_item(src, arg);
        }
    }
    if let Some(ev) = events {
        check_column(ev, user_col, "integer", "user_col");
        check_column(ev, item_col, "integer", "item_col");
        check_column(ev, time_col, "any", "time_col");
    }
    if let Some(it) = items {
        check_column(it, item_key_col, "integer", "item_key_col");
        if let Some(c) = category_col {
            check_column(it, c, "any", "category_col");
        }
        if let Some(c) = item_text_col {
            check_column(it, c, "vector", "item_text_col");
        }
    } else if category_col.is_some() || item_text_col.is_some() {
        bad("category_col and item_text_col need items".to_owned());
    }
    if let Some(u) = users {
        check_column(u, users_key_col, "integer", "users_key_col");
    }
    if let Some(p) = profiles {
        access::require_read(Kind::Profiles, p, "train on them");
    }
    if let Some(s) = segments {
        access::require_read(Kind::Kmeans, s, "train on it");
    }
    let item_vec_from = item_vectors.map(|s| from_item(s, "item_vectors"));

    // Events.
    let ev = match events {
        Some(e) => read_events(&events_query(&from_item(e, "events"), user_col, item_col, time_col, "true")),
        None => Events { users: Vec::new(), sequences: Vec::new(), rows: 0, skipped: 0 },
    };
    if ev.skipped > 0 {
        pgrx::notice!("train_recommender: skipped {} events with a NULL user or item", ev.skipped);
    }
    // Items of the catalogue: from events, items and item vectors.
    // Per item id: category, item vector, text vector.
    type Entry = (Option<String>, Option<Vec<f32>>, Option<Vec<f32>>);
    let mut catalogue: BTreeMap<i64, Entry> = BTreeMap::new();
    for s in &ev.sequences {
        for &i in s {
            catalogue.entry(i).or_default();
        }
    }
    if let Some(it) = items {
        let query = format!(
            "SELECT (s.{k})::bigint, {c}, {t} FROM {from} s",
            k = quote_ident(item_key_col),
            c = category_col.map(|c| format!("(s.{})::text", quote_ident(c))).unwrap_or_else(|| "NULL::text".to_owned()),
            t = item_text_col.map(|c| format!("(s.{})::real[]", quote_ident(c))).unwrap_or_else(|| "NULL::real[]".to_owned()),
            from = from_item(it, "items"),
        );
        for_each_batch(&query, |batch| {
            for row in batch {
                if let Ok(Some(id)) = row.get::<i64>(1) {
                    let e = catalogue.entry(id).or_default();
                    e.0 = row.col::<String>(2);
                    e.2 = row.col::<Vec<Option<f32>>>(3).and_then(|v| v.into_iter().collect::<Option<Vec<f32>>>());
                }
            }
        });
    }
    if let Some(from) = &item_vec_from {
        for (id, v) in read_vectors(from, "true") {
            catalogue.entry(id).or_default().1 = Some(v);
        }
    }
    let ids: Vec<i64> = catalogue.keys().copied().collect();
    let n = ids.len();
    if n == 0 {
        bad("no items: the sources have no events, items or item vectors".to_owned());
    }
    let index: HashMap<i64, u32> = ids.iter().enumerate().map(|(p, &id)| (id, p as u32)).collect();
    let histories: Vec<Vec<u32>> = ev.sequences.iter().map(|s| s.iter().map(|i| index[i]).collect()).collect();
    pgrx::notice!(
        "train_recommender: {} events of {} users over {n} items; fitting {}",
        ev.rows,
        ev.users.len(),
        method.name()
    );
    check_for_interrupts!();
    let t = Instant::now();
    let popularity = item_popularity(&histories, n).unwrap_or_else(|e| raise_rank_error(e));
    let (main, next) = run_cancellable(|stop| fit_lists(&histories, n, &params, stop)).unwrap_or_else(|e| raise_rank_error(e));
    check_for_interrupts!();
    let neighbour_rows: i64 = main.iter().chain(next.iter()).map(|l| l.len() as i64).sum();
    pgrx::notice!("train_recommender: fitted in {:.1} s, {neighbour_rows} neighbour weights kept", t.elapsed().as_secs_f64());

    // Store.
    Spi::run_with_args("DELETE FROM persona.recommender_models WHERE name = $1", &[model.into()])
        .unwrap_or_else(|e| spi_err("replace the model", e));
    let sources = serde_json::json!({
        "events": events, "user_col": user_col, "item_col": item_col, "time_col": time_col,
        "items": items, "item_key_col": item_key_col, "category_col": category_col, "item_text_col": item_text_col,
        "users": users, "users_key_col": users_key_col, "profiles": profiles, "segments": segments,
        "user_vectors": user_vectors, "item_vectors": item_vectors,
    });
    Spi::run_with_args(
        "INSERT INTO persona.recommender_models (name, method, sources, parameters, users, items, interactions, seconds)
         VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6, $7, $8)",
        &[
            model.into(),
            method.name().into(),
            sources.to_string().into(),
            params.to_json().to_string().into(),
            (ev.users.len() as i64).into(),
            (n as i64).into(),
            ev.rows.into(),
            started.elapsed().as_secs_f64().into(),
        ],
    )
    .unwrap_or_else(|e| spi_err("write persona.recommender_models", e));
    let entries: Vec<_> = catalogue.into_values().collect();
    let vec_dim = entries.iter().find_map(|e| e.1.as_ref().map(Vec::len)).unwrap_or(0);
    let text_dim = entries.iter().find_map(|e| e.2.as_ref().map(Vec::len)).unwrap_or(0);
    for start in (0..n).step_by(1000) {
        check_for_interrupts!();
        let end = (start + 1000).min(n);
        let mut nb_off = vec![0i32];
        let (mut nb, mut nw, mut xb, mut xw) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut nx_off = vec![0i32];
        let (mut vecs, mut has_vec, mut texts, mut has_text) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut cats = Vec::new();
        for p in start..end {
            for &(j, w) in &main[p] {
                nb.push(ids[j as usize]);
                nw.push(w);
            }
            nb_off.push(nb.len() as i32);
            for &(j, w) in &next[p] {
                xb.push(ids[j as usize]);
                xw.push(w);
            }
            nx_off.push(xb.len() as i32);
            let e = &entries[p];
            cats.push(e.0.clone());
            match &e.1 {
                Some(v) if v.len() == vec_dim => {
                    vecs.extend_from_slice(v);
                    has_vec.push(true);
                }
                _ => {
                    vecs.extend(std::iter::repeat_n(0f32, vec_dim));
                    has_vec.push(false);
                }
            }
            match &e.2 {
                Some(v) if v.len() == text_dim => {
                    texts.extend_from_slice(v);
                    has_text.push(true);
                }
                _ => {
                    texts.extend(std::iter::repeat_n(0f32, text_dim));
                    has_text.push(false);
                }
            }
        }
        let chunk_ids: Vec<i64> = ids[start..end].to_vec();
        let pops: Vec<i64> = popularity[start..end].iter().map(|&c| i64::from(c)).collect();
        Spi::run_with_args(
            "INSERT INTO persona.recommender_items (model, item_id, popularity, category, neighbours, weights, next_items, next_weights, embedding, text_vec)
             SELECT $1, $2[k], $3[k], $4[k],
                    coalesce($5[$6[k] + 1 : $6[k + 1]], '{}'), coalesce($7[$6[k] + 1 : $6[k + 1]], '{}'),
                    coalesce($8[$9[k] + 1 : $9[k + 1]], '{}'), coalesce($10[$9[k] + 1 : $9[k + 1]], '{}'),
                    CASE WHEN $12[k] THEN $11[(k - 1) * $13 + 1 : k * $13] END,
                    CASE WHEN $15[k] THEN $14[(k - 1) * $16 + 1 : k * $16] END
             FROM generate_subscripts($2, 1) k",
            &[
                model.into(),
                chunk_ids.into(),
                pops.into(),
                cats.into(),
                nb.into(),
                nb_off.into(),
                nw.into(),
                xb.into(),
                nx_off.into(),
                xw.into(),
                vecs.into(),
                has_vec.into(),
                (vec_dim as i32).into(),
                texts.into(),
                has_text.into(),
                (text_dim as i32).into(),
            ],
        )
        .unwrap_or_else(|e| spi_err("write persona.recommender_items", e));
    }
    let seconds = started.elapsed().as_secs_f64();
    Spi::run_with_args("UPDATE persona.recommender_models SET seconds = $2 WHERE name = $1", &[model.into(), seconds.into()])
        .unwrap_or_else(|e| spi_err("write persona.recommender_models", e));
    pgrx::notice!("train_recommender: stored model \"{model}\" ({n} items) in {seconds:.1} s");
    TableIterator::once((ev.users.len() as i64, n as i64, ev.rows, neighbour_rows, seconds))
}

// ---------------------------------------------------------- loaded models

struct Loaded {
    name: String,
    sources: serde_json::Value,
    core: Core,
    index: HashMap<i64, u32>,
}

impl Loaded {
    fn source(&self, key: &str) -> Option<String> {
        self.sources.get(key).and_then(|v| v.as_str()).map(str::to_owned)
    }
    fn col(&self, key: &str) -> String {
        quote_ident(&self.source(key).unwrap_or_default())
    }
}

thread_local! {
    static LOADED: RefCell<HashMap<(String, String), Rc<Loaded>>> = RefCell::new(HashMap::new());
}

fn model_name(model: Option<&str>) -> String {
    match model {
        Some(m) => m.to_owned(),
        None => crate::spi::first::<String>(
            "find the newest recommender",
            "SELECT name FROM persona.recommender_models ORDER BY created_at DESC, name LIMIT 1",
            &[],
        )
        .unwrap_or_else(|| {
                raise(
                    PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                    "no recommender model exists".to_owned(),
                    None,
                    Some("Train one first with persona.train_recommender()."),
                )
            }),
    }
}

/// A recommender for the functions that read its stored sources (the
/// users' histories): the caller must be able to act as its owner (42501).
fn serve(model: Option<&str>, what: &str) -> (Rc<Loaded>, pg_sys::Oid) {
    let name = model_name(model);
    let owner = access::require_use(Kind::Recommender, &name, what);
    (load(Some(&name)), owner)
}

fn load(model: Option<&str>) -> Rc<Loaded> {
    let name = model_name(model);
    let head = Spi::get_three_with_args::<String, String, JsonbText>(
        "SELECT method, created_at::text, sources FROM persona.recommender_models WHERE name = $1",
        &[name.as_str().into()],
    );
    let Ok((Some(method), Some(created), Some(sources))) = head else {
        raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("recommender model \"{name}\" does not exist"),
            None,
            Some("Train it first with persona.train_recommender()."),
        )
    };
    let key = (name.clone(), created);
    if let Some(l) = LOADED.with(|m| m.borrow().get(&key).cloned()) {
        return l;
    }
    let params_json = crate::spi::first::<JsonbText>(
        "read the recommender's parameters",
        "SELECT parameters FROM persona.recommender_models WHERE name = $1",
        &[name.as_str().into()],
    )
    .map(|j| j.parse("the stored parameters of the recommender"))
        .unwrap_or_else(|| serde_json::json!({}));
    let method = Method::parse(&method);
    let mut params = Params::from_json(method, &serde_json::json!({}));
    if let Some(o) = params_json.as_object() {
        let f = |k: &str| o.get(k).and_then(|v| v.as_f64());
        params.lambda = f("lambda").unwrap_or(params.lambda);
        params.neighbours = f("neighbours").map_or(params.neighbours, |x| x as usize);
        params.shrink = f("shrink").map_or(params.shrink, |x| x as f32);
        params.half_life = f("half_life").map_or(params.half_life, |x| x as f32);
        params.transition_weight = f("transition_weight").map_or(params.transition_weight, |x| x as f32);
        params.transition_window = f("transition_window").map_or(params.transition_window, |x| x as usize);
        params.transition_decay = f("transition_decay").map_or(params.transition_decay, |x| x as f32);
        params.transition_half_life = f("transition_half_life").map_or(params.transition_half_life, |x| x as f32);
        params.text_weight = f("text_weight").map_or(params.text_weight, |x| x as f32);
        params.max_items = f("max_items").map_or(params.max_items, |x| x as usize);
    }
    struct Row {
        id: i64,
        pop: f32,
        cat: Option<String>,
        nb: Vec<i64>,
        nw: Vec<f32>,
        xb: Vec<i64>,
        xw: Vec<f32>,
        emb: Option<Vec<f32>>,
        text: Option<Vec<f32>>,
    }
    let mut rows: Vec<Row> = Vec::new();
    let query = format!(
        "SELECT item_id, popularity, category, neighbours, weights, next_items, next_weights, embedding, text_vec
         FROM persona.recommender_items WHERE model = {} ORDER BY item_id",
        literal(&name)
    );
    for_each_batch(&query, |batch| {
        for r in batch {
            let Ok(Some(id)) = r.get::<i64>(1) else { continue };
            rows.push(Row {
                id,
                pop: r.col::<i64>(2).unwrap_or(0) as f32,
                cat: r.col::<String>(3),
                nb: r.col::<Vec<i64>>(4).unwrap_or_default(),
                nw: r.col::<Vec<f32>>(5).unwrap_or_default(),
                xb: r.col::<Vec<i64>>(6).unwrap_or_default(),
                xw: r.col::<Vec<f32>>(7).unwrap_or_default(),
                emb: r.col::<Vec<f32>>(8),
                text: r.col::<Vec<f32>>(9),
            });
        }
    });
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let index: HashMap<i64, u32> = ids.iter().enumerate().map(|(p, &id)| (id, p as u32)).collect();
    type Pick = dyn Fn(&Row) -> (&Vec<i64>, &Vec<f32>);
    let lists = |f: &Pick| -> Lists {
        rows.iter()
            .map(|r| {
                let (b, w) = f(r);
                b.iter().zip(w).filter_map(|(id, w)| index.get(id).map(|&j| (j, *w))).collect()
            })
            .collect()
    };
    let main = lists(&|r| (&r.nb, &r.nw));
    let next = lists(&|r| (&r.xb, &r.xw));
    let mat = |f: &dyn Fn(&Row) -> &Option<Vec<f32>>| -> Option<Mat> {
        let dim = rows.iter().find_map(|r| f(r).as_ref().map(Vec::len))?;
        let mut m = Mat { dim, data: Vec::with_capacity(rows.len() * dim), has: Vec::with_capacity(rows.len()) };
        for r in &rows {
            match f(r).clone().filter(|v| v.len() == dim).and_then(unit) {
                Some(v) => {
                    m.data.extend_from_slice(&v);
                    m.has.push(true);
                }
                None => {
                    m.data.extend(std::iter::repeat_n(0f32, dim));
                    m.has.push(false);
                }
            }
        }
        Some(m)
    };
    let vectors = mat(&|r| &r.emb);
    let texts = mat(&|r| &r.text);
    let mut core = Core::new(params, ids, rows.iter().map(|r| r.pop).collect());
    core.categories = rows.iter().map(|r| r.cat.clone()).collect();
    core.main = Rows::from_lists(main);
    core.next = Rows::from_lists(next);
    core.vectors = vectors;
    core.texts = texts;
    let sources = sources.parse("the stored sources of the recommender");
    let l = Rc::new(Loaded { name, sources, core, index });
    LOADED.with(|m| {
        let mut m = m.borrow_mut();
        m.retain(|k, _| k.0 != key.0);
        m.insert(key, l.clone());
    });
    l
}

/// The allow-mask of a category list and a SQL predicate on the items source.
fn allow_mask(l: &Loaded, categories: Option<Vec<Option<String>>>, filter: Option<&str>) -> Option<Vec<bool>> {
    if categories.is_none() && filter.is_none() {
        return None;
    }
    let n = l.core.n();
    let mut mask = vec![true; n];
    if let Some(cats) = categories {
        let cats: Vec<String> = cats.into_iter().flatten().collect();
        for (j, c) in l.core.categories.iter().enumerate() {
            mask[j] = c.as_ref().is_some_and(|c| cats.contains(c));
        }
    }
    if let Some(f) = filter {
        let Some(items) = l.source("items") else {
            bad(format!("a filter needs a model trained with items; model \"{}\" has none", l.name))
        };
        let query = format!(
            "SELECT ({k})::bigint FROM {from} AS persona_items WHERE ({f})",
            k = l.col("item_key_col"),
            from = from_item(&items, "items")
        );
        let mut pass = vec![false; n];
        for_each_batch(&query, |batch| {
            for r in batch {
                if let Ok(Some(id)) = r.get::<i64>(1) {
                    if let Some(&j) = l.index.get(&id) {
                        pass[j as usize] = true;
                    }
                }
            }
        });
        for (m, p) in mask.iter_mut().zip(pass) {
            *m = *m && p;
        }
    }
    Some(mask)
}

fn opt_vec(v: Option<Vec<Option<f32>>>) -> Option<Vec<f32>> {
    v.and_then(|v| v.into_iter().collect::<Option<Vec<f32>>>()).and_then(unit)
}

/// Reads what is known of one user; None when nothing is.
fn user_input(l: &Loaded, user: i64) -> Option<UserInput> {
    let mut u = UserInput::default();
    let mut known = false;
    if let Some(ev) = l.source("events") {
        let q = events_query(
            &from_item(&ev, "events"),
            &l.source("user_col").unwrap_or_default(),
            &l.source("item_col").unwrap_or_default(),
            &l.source("time_col").unwrap_or_default(),
            // No cast on the column, so that an index on it is used.
            &format!("s.{} = {user}", l.col("user_col")),
        );
        let e = read_events(&q);
        for s in e.sequences {
            known = true;
            u.history.extend(s.iter().filter_map(|i| l.index.get(i).copied()));
        }
    }
    if let Some(src) = l.source("user_vectors") {
        if let Some((_, v)) = read_vectors(&from_item(&src, "user_vectors"), &format!("t.c1 = {user}")).pop() {
            known = true;
            u.vector = unit(v);
        }
    }
    if let Some(p) = l.source("profiles") {
        let row = crate::spi::first::<Vec<Option<f32>>>(
            "read the user's profile",
            "SELECT coalesce(text_vec, '{}') FROM persona.profiles WHERE name = $1 AND user_id = $2",
            &[p.as_str().into(), user.into()],
        );
        if let Some(v) = row {
            known = true;
            u.text = if v.is_empty() { None } else { opt_vec(Some(v)) };
        }
    }
    if let Some(s) = l.source("segments") {
        if let Some(seg) = crate::spi::first::<i32>(
            "read the user's segment",
            "SELECT segment FROM persona.segment_members WHERE model = $1 AND user_id = $2",
            &[s.as_str().into(), user.into()],
        ) {
            known = true;
            u.segment = Some(seg);
        }
    }
    if !known {
        if let Some(users) = l.source("users") {
            known = crate::spi::first::<bool>(
                "look the user up in the users source",
                &format!("SELECT EXISTS (SELECT FROM {} s WHERE s.{} = {user})", from_item(&users, "users"), l.col("users_key_col")),
                &[],
            )
            .unwrap_or(false);
        }
    }
    known.then_some(u)
}

/// Popularity of each item among the members of one segment.
fn segment_popularity_sql(l: &Loaded, segment: i32) -> Vec<f32> {
    let mut pop = vec![0f32; l.core.n()];
    let (Some(ev), Some(model)) = (l.source("events"), l.source("segments")) else { return pop };
    let q = format!(
        "SELECT (s.{i})::bigint, count(DISTINCT (s.{u})::bigint) FROM {from} s
         JOIN persona.segment_members m ON m.user_id = (s.{u})::bigint
         WHERE m.model = {model} AND m.segment = {segment} GROUP BY 1",
        i = l.col("item_col"),
        u = l.col("user_col"),
        from = from_item(&ev, "events"),
        model = literal(&model),
    );
    for_each_batch(&q, |batch| {
        for r in batch {
            if let (Ok(Some(id)), Ok(Some(c))) = (r.get::<i64>(1), r.get::<i64>(2)) {
                if let Some(&j) = l.index.get(&id) {
                    pop[j as usize] = c as f32;
                }
            }
        }
    });
    pop
}

/// Top-k items for one user, with a reason for each.
#[allow(clippy::too_many_arguments)]
#[pg_extern(stable, parallel_unsafe)]
fn recommend(
    user_id: Option<i64>,
    k: default!(Option<i32>, 10),
    model: default!(Option<&str>, "NULL"),
    exclude_seen: default!(Option<bool>, true),
    categories: default!(Option<Vec<Option<String>>>, "NULL"),
    filter: default!(Option<&str>, "NULL"),
) -> TableIterator<'static, (name!(item_id, i64), name!(score, f64), name!(reason, String))> {
    required!(user_id, k, exclude_seen);
    let k = check_k(k);
    let (l, owner) = serve(model, "recommend from it");
    // The user's history comes from the sources the owner stored: read with the owner's rights.
    let Some((allow, u, seg_pop)) = as_owner(owner, || {
        let allow = allow_mask(&l, categories, filter);
        let u = user_input(&l, user_id)?;
        let mut seg_pop = HashMap::new();
        if let Some(s) = u.segment {
            if u.history.is_empty() && u.text.is_none() && u.vector.is_none() {
                seg_pop.insert(s, segment_popularity_sql(&l, s));
            }
        }
        Some((allow, u, seg_pop))
    }) else {
        pgrx::notice!("recommend: user {user_id} is unknown to recommender \"{}\"", l.name);
        return TableIterator::new(Vec::new());
    };
    let ask = Ask { k, exclude_seen, allow: allow.as_deref() };
    let users = [u];
    let core = &l.core;
    let mut lists = run_on_pool(|| rank_batch(core, &users, &ask, &seg_pop)).unwrap_or_else(|e| raise_rank_error(e));
    let list = lists.pop().unwrap_or_default();
    let ids = &l.core.ids;
    TableIterator::new(list.into_iter().map(|(j, s, r)| (ids[j as usize], f64::from(s), r.text(ids))).collect::<Vec<_>>())
}

/// Items most like one item.
#[pg_extern(stable, parallel_unsafe)]
fn similar_items(
    item: Option<i64>,
    k: default!(Option<i32>, 10),
    model: default!(Option<&str>, "NULL"),
) -> TableIterator<'static, (name!(item_id, i64), name!(score, f64), name!(reason, String))> {
    required!(item, k);
    let k = check_k(k);
    let name = model_name(model);
    access::require_read(Kind::Recommender, &name, "use it");
    let l = load(Some(&name));
    let Some(&i) = l.index.get(&item) else {
        pgrx::notice!("similar_items: item {item} is unknown to recommender \"{}\"", l.name);
        return TableIterator::new(Vec::new());
    };
    let c = &l.core;
    let ids = &c.ids;
    let mut out: Vec<(i64, f64, String)> = Vec::new();
    let mut taken = vec![i];
    let (items, weights) = c.main.row(i);
    // Positive weights only: a negative EASE weight says "rather not".
    for (&j, &w) in items.iter().zip(weights).filter(|x| *x.1 > 0.0).take(k) {
        out.push((ids[j as usize], f64::from(w), "often chosen by the same users".to_owned()));
        taken.push(j);
    }
    for (mat, reason) in [(c.vectors.as_ref(), "nearest item vector"), (c.texts.as_ref(), "similar text")] {
        if out.len() >= k {
            break;
        }
        let Some(m) = mat else { continue };
        if !m.has[i as usize] {
            continue;
        }
        let q = m.row(i as usize);
        let scores: Vec<f32> = (0..c.n()).map(|j| dot(q, m.row(j))).collect();
        taken.sort_unstable();
        let ask = Ask { k: k - out.len(), exclude_seen: true, allow: None };
        for (j, s) in top_of(&scores, k - out.len(), &taken, &ask, |j| m.has[j]) {
            out.push((ids[j as usize], f64::from(s), reason.to_owned()));
            taken.push(j);
        }
    }
    TableIterator::new(out)
}

// ------------------------------------------------------ all users at once

/// Every user the model knows, with what is known of them.
fn all_users(l: &Loaded) -> BTreeMap<i64, UserInput> {
    let mut users: BTreeMap<i64, UserInput> = BTreeMap::new();
    if let Some(ev) = l.source("events") {
        let e = read_events(&events_query(
            &from_item(&ev, "events"),
            &l.source("user_col").unwrap_or_default(),
            &l.source("item_col").unwrap_or_default(),
            &l.source("time_col").unwrap_or_default(),
            "true",
        ));
        for (u, s) in e.users.into_iter().zip(e.sequences) {
            users.entry(u).or_default().history = s.iter().filter_map(|i| l.index.get(i).copied()).collect();
        }
    }
    if let Some(src) = l.source("user_vectors") {
        for (u, v) in read_vectors(&from_item(&src, "user_vectors"), "true") {
            users.entry(u).or_default().vector = unit(v);
        }
    }
    if let Some(p) = l.source("profiles") {
        let q = format!("SELECT user_id, text_vec FROM persona.profiles WHERE name = {}", literal(&p));
        for_each_batch(&q, |batch| {
            for r in batch {
                if let Ok(Some(u)) = r.get::<i64>(1) {
                    users.entry(u).or_default().text = opt_vec(r.col::<Vec<Option<f32>>>(2));
                }
            }
        });
    }
    if let Some(s) = l.source("segments") {
        let q = format!("SELECT user_id, segment FROM persona.segment_members WHERE model = {}", literal(&s));
        for_each_batch(&q, |batch| {
            for r in batch {
                if let (Ok(Some(u)), Ok(Some(seg))) = (r.get::<i64>(1), r.get::<i32>(2)) {
                    users.entry(u).or_default().segment = Some(seg);
                }
            }
        });
    }
    if let Some(src) = l.source("users") {
        let q = format!("SELECT (s.{})::bigint FROM {} s", l.col("users_key_col"), from_item(&src, "users"));
        for_each_batch(&q, |batch| {
            for r in batch {
                if let Ok(Some(u)) = r.get::<i64>(1) {
                    users.entry(u).or_default();
                }
            }
        });
    }
    users
}

/// Popularity per segment among its members (counted from histories).
fn segment_popularity_all(n: usize, users: &BTreeMap<i64, UserInput>) -> HashMap<i32, Vec<f32>> {
    let mut out: HashMap<i32, Vec<f32>> = HashMap::new();
    for u in users.values() {
        if let Some(s) = u.segment {
            let pop = out.entry(s).or_insert_with(|| vec![0f32; n]);
            for j in distinct_sorted(&u.history) {
                pop[j as usize] += 1.0;
            }
        }
    }
    out
}

/// Top-k for every user into persona.recommendation_lists (the view
/// persona.recommendations), in blocks of users.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn recommend_all(
    k: default!(Option<i32>, 10),
    model: default!(Option<&str>, "NULL"),
    exclude_seen: default!(Option<bool>, true),
    categories: default!(Option<Vec<Option<String>>>, "NULL"),
    filter: default!(Option<&str>, "NULL"),
    batch_size: default!(Option<i32>, 10_000),
) -> TableIterator<'static, (name!(users, i64), name!(recommendations, i64), name!(seconds, f64))> {
    let started = Instant::now();
    required!(k, exclude_seen, batch_size);
    let k = check_k(k);
    if !(1..=1_000_000).contains(&batch_size) {
        bad(format!("batch_size must be between 1 and 1000000, not {batch_size}"));
    }
    let (l, owner) = serve(model, "recommend from it");
    let (allow, users) = as_owner(owner, || (allow_mask(&l, categories, filter), all_users(&l)));
    let seg_pop = segment_popularity_all(l.core.n(), &users);
    let total = users.len();
    pgrx::notice!("recommend_all: {total} users, {} items, read in {:.1} s", l.core.n(), started.elapsed().as_secs_f64());
    Spi::run_with_args("DELETE FROM persona.recommendation_lists WHERE model = $1", &[l.name.as_str().into()])
        .unwrap_or_else(|e| spi_err("clear persona.recommendation_lists", e));
    let ask = Ask { k, exclude_seen, allow: allow.as_deref() };
    let entries: Vec<(i64, UserInput)> = users.into_iter().collect();
    let ids = &l.core.ids;
    let mut done = 0usize;
    let mut written = 0i64;
    let mut last_notice = Instant::now();
    let (mut ranking, mut writing) = (0.0f64, 0.0f64);
    for block in entries.chunks(batch_size as usize) {
        check_for_interrupts!();
        let inputs: Vec<UserInput> = block.iter().map(|e| e.1.clone()).collect();
        let core = &l.core;
        let t = Instant::now();
        let lists = run_on_pool(|| rank_batch(core, &inputs, &ask, &seg_pop)).unwrap_or_else(|e| raise_rank_error(e));
        ranking += t.elapsed().as_secs_f64();
        check_for_interrupts!();
        let t = Instant::now();
        // One flat row per recommendation, grouped back into one array row
        // per user by the INSERT (unnest is linear; slicing a long array
        // parameter per user was quadratic).
        let n_rows: usize = lists.iter().map(Vec::len).sum();
        let mut users = Vec::with_capacity(n_rows);
        let (mut items, mut scores, mut reasons) = (Vec::with_capacity(n_rows), Vec::with_capacity(n_rows), Vec::with_capacity(n_rows));
        for ((u, _), list) in block.iter().zip(&lists) {
            for &(j, s, r) in list {
                users.push(*u);
                items.push(ids[j as usize]);
                scores.push(s);
                reasons.push(r.text(ids));
            }
        }
        written += items.len() as i64;
        Spi::run_with_args(
            "INSERT INTO persona.recommendation_lists (model, user_id, items, scores, reasons)
             SELECT $1, u, array_agg(i ORDER BY n), array_agg(s ORDER BY n), array_agg(r ORDER BY n)
             FROM unnest($2::bigint[], $3::bigint[], $4::real[], $5::text[]) WITH ORDINALITY AS x(u, i, s, r, n)
             GROUP BY u",
            &[l.name.as_str().into(), users.into(), items.into(), scores.into(), reasons.into()],
        )
        .unwrap_or_else(|e| spi_err("write persona.recommendation_lists", e));
        writing += t.elapsed().as_secs_f64();
        done += block.len();
        if last_notice.elapsed().as_secs_f64() >= 2.0 || done == total {
            last_notice = Instant::now();
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            pgrx::notice!("recommend_all: {done} of {total} users, {:.0} users/s", done as f64 / secs);
        }
    }
    pgrx::notice!("recommend_all: ranking {ranking:.1} s, writing {writing:.1} s, {written} recommendations");
    TableIterator::once((total as i64, written, started.elapsed().as_secs_f64()))
}

// -------------------------------------------------------------- evaluation

/// Leave-last-out evaluation: each user's last event is held out, the model
/// is refitted with its parameters on everything before it, and the held-out
/// item is looked for in the top k (the user's other items excluded).
#[pg_extern(volatile, parallel_unsafe)]
fn evaluate_recommendations(
    model: default!(Option<&str>, "NULL"),
    k: default!(Option<i32>, 10),
) -> TableIterator<
    'static,
    (
        name!(method, String),
        name!(users, i64),
        name!(hit_rate, f64),
        name!(ndcg, f64),
        name!(recall, f64),
        name!(coverage, f64),
    ),
> {
    let started = Instant::now();
    required!(k);
    let k = check_k(k);
    let (l, owner) = serve(model, "evaluate it");
    let mut users = as_owner(owner, || all_users(&l));
    let n = l.core.n();
    let keys: Vec<i64> = users.keys().copied().collect();
    let sequences: Vec<Vec<u32>> = keys.iter().map(|u| users[u].history.clone()).collect();
    // Each user's last event is the target; the model sees everything
    // before it, less earlier events of the target item itself (a repeat
    // would be excluded as seen, and the task is the next item not yet seen).
    let mut histories: Vec<Vec<u32>> = Vec::with_capacity(sequences.len());
    let mut test: Vec<Option<u32>> = Vec::with_capacity(sequences.len());
    for s in &sequences {
        match s.split_last() {
            Some((&last, before)) if !before.is_empty() => {
                histories.push(before.iter().copied().filter(|&i| i != last).collect());
                test.push(Some(last));
            }
            _ => {
                histories.push(s.clone());
                test.push(None);
            }
        }
    }
    let tested: Vec<usize> = (0..keys.len()).filter(|&u| test[u].is_some()).collect();
    pgrx::notice!(
        "evaluate_recommendations: {} users with a held-out item, {n} items; refitting {}",
        tested.len(),
        l.core.params.method.name()
    );
    check_for_interrupts!();
    let p = l.core.params.clone();
    let popularity = item_popularity(&histories, n).unwrap_or_else(|e| raise_rank_error(e));
    let mut core = Core::new(p.clone(), l.core.ids.clone(), popularity.iter().map(|&c| c as f32).collect());
    if p.method != Method::Vectors {
        let (main, next) = run_cancellable(|stop| fit_lists(&histories, n, &p, stop)).unwrap_or_else(|e| raise_rank_error(e));
        core.main = Rows::from_lists(main);
        core.next = Rows::from_lists(next);
    } else {
        core.vectors = l.core.vectors.as_ref().map(|m| Mat { dim: m.dim, data: m.data.clone(), has: m.has.clone() });
    }
    core.texts = l.core.texts.as_ref().map(|m| Mat { dim: m.dim, data: m.data.clone(), has: m.has.clone() });
    check_for_interrupts!();
    // Inputs: the training history; vectors, texts and segments as stored.
    let inputs: Vec<UserInput> = tested
        .iter()
        .map(|&u| {
            let mut x = users.remove(&keys[u]).unwrap_or_default();
            x.history = histories[u].clone();
            x
        })
        .collect();
    let targets: Vec<u32> = tested.iter().filter_map(|&u| test[u]).collect();
    let ask = Ask { k, exclude_seen: true, allow: None };
    let no_segments = HashMap::new();
    let mut rows = Vec::new();
    let mut blocks: Vec<Vec<u32>> = Vec::with_capacity(inputs.len());
    let mut lists_pop: Vec<Vec<u32>> = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(5000) {
        check_for_interrupts!();
        let lists = run_on_pool(|| rank_batch(&core, chunk, &ask, &no_segments)).unwrap_or_else(|e| raise_rank_error(e));
        blocks.extend(lists.into_iter().map(|l| l.into_iter().map(|r| r.0).collect::<Vec<u32>>()));
        let pop: Vec<Vec<u32>> = run_on_pool(|| {
            chunk
                .par_iter()
                .map(|u| {
                    let seen = distinct_sorted(&u.history);
                    top_of(&core.popularity, k, &seen, &ask, |_| true).into_iter().map(|x| x.0).collect()
                })
                .collect()
        });
        lists_pop.extend(pop);
    }
    for (label, lists) in [(format!("persona ({})", p.method.name()), &blocks), ("popularity".to_owned(), &lists_pop)] {
        let m = targets.len().max(1) as f64;
        let hr: f64 = lists.iter().zip(&targets).map(|(r, &t)| persona_rank::hit_rate_at_k(r, t, k)).sum::<f64>() / m;
        let nd: f64 = lists.iter().zip(&targets).map(|(r, &t)| ndcg_at_k(r, t, k)).sum::<f64>() / m;
        let rc: f64 = lists.iter().zip(&targets).map(|(r, &t)| recall_at_k(r, &[t], k).unwrap_or(0.0)).sum::<f64>() / m;
        let cov = catalogue_coverage(lists, n).unwrap_or(0.0);
        rows.push((label, targets.len() as i64, hr, nd, rc, cov));
    }
    pgrx::notice!("evaluate_recommendations: done in {:.1} s", started.elapsed().as_secs_f64());
    TableIterator::new(rows)
}
