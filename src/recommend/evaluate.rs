//! `persona.evaluate_recommendations`: hold out events by a protocol,
//! repeat the model's training recipe on the rest, and compare the model
//! with popularity on what was held out.

use std::collections::HashMap;
use std::time::Instant;

use persona_rank::item_popularity;
use persona_rank::recommender::{
    figures, popular_lists, rank_batch, split_after, split_last, split_random, train, Ask, Given, Method, Recommender,
    Split, UserInput, Validation,
};
use pgrx::prelude::*;

use super::load::serve;
use super::users::all_users;
use super::{bad, check_k};
use crate::access::as_owner;
use crate::errors::{raise_rank_error, required};
use crate::jsonb::JsonbText;
use crate::runtime::{run_cancellable, run_on_pool};
use crate::sql_text::{quote_ident, quote_literal};

/// Evaluates a model by a protocol ('last', 'cutoff' or 'random').
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn evaluate_recommendations(
    model: default!(Option<&str>, "NULL"),
    k: default!(Option<i32>, 10),
    protocol: default!(Option<&str>, "'last'"),
    cutoff: default!(Option<&str>, "NULL"),
    test_fraction: default!(Option<f64>, 0.1),
    seed: default!(Option<i64>, 0),
) -> TableIterator<
    'static,
    (
        name!(method, String),
        name!(users, i64),
        name!(hit_rate, f64),
        name!(ndcg, f64),
        name!(recall, f64),
        name!(coverage, f64),
        name!(popularity_rank, f64),
    ),
> {
    let started = Instant::now();
    required!(k, protocol, test_fraction, seed);
    let k = check_k(k);
    match (protocol, cutoff) {
        ("cutoff", None) => bad("protocol 'cutoff' needs a cutoff (a value of the time column)".to_owned()),
        ("last" | "random", Some(_)) => bad(format!("protocol '{protocol}' takes no cutoff")),
        ("last" | "cutoff" | "random", _) => {}
        (other, _) => bad(format!("protocol must be 'last', 'cutoff' or 'random', not '{other}'")),
    }
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        bad(format!("test_fraction must be between 0 and 1, exclusive, not {test_fraction}"));
    }
    let job = crate::progress::Job::start("evaluate_recommendations", "loading the model", "rows", None);
    let (l, owner) = serve(model, "evaluate it");
    job.phase("reading users", "rows", None);
    // The cut-off is a literal compared with the time column, so it takes that column's type.
    let flag = cutoff.map(|c| format!("s.{} >= {}", quote_ident(&l.source("time_col").unwrap_or_default()), quote_literal(c)));
    let (mut users, mut flags) = as_owner(owner, || all_users(&l, flag.as_deref()));
    let n = l.rec.n();
    let keys: Vec<i64> = users.keys().copied().collect();
    let sequences: Vec<Vec<u32>> = keys.iter().map(|u| users[u].history.clone()).collect();
    let split: Split = match protocol {
        "last" => Ok(split_last(&sequences)),
        "random" => split_random(&keys, &l.rec.ids, &sequences, test_fraction, seed as u64),
        _ => {
            let f: Vec<Vec<bool>> = keys.iter().map(|u| flags.remove(u).unwrap_or_default()).collect();
            split_after(&sequences, &f)
        }
    }
    .unwrap_or_else(|e| raise_rank_error(e));
    let tested = split.tested();
    // The model's recipe again: what it chose itself is chosen again, on
    // validation items held out of the training part the way the protocol
    // holds out its test.
    let stored = l.rec.params.clone();
    let given: Given = crate::spi::first::<JsonbText>(
        "read the recommender's choice",
        "SELECT selection -> 'given' FROM persona.recommender_models WHERE name = $1",
        &[l.name.as_str().into()],
    )
    .and_then(|j| serde_json::from_value(j.parse("the stored choice of the recommender")).ok())
    .unwrap_or(Given { method: true, keys: Vec::new(), search: false });
    let validation = if protocol == "random" { Validation::Random } else { Validation::Latest };
    let searching = persona_rank::recommender::will_search(&stored, &given);
    let base = if searching {
        // Open parameters start from their defaults, not from the stored choice.
        let (mut p, _) = persona_rank::recommender::Params::from_options(
            given.method.then_some(stored.method),
            &{
                let all = stored.to_json();
                serde_json::Value::Object(given.keys.iter().filter_map(|key| all.get(key).map(|v| (key.clone(), v.clone()))).collect())
            },
        )
        .unwrap_or_else(|e| raise_rank_error(e));
        p.validation = validation;
        p
    } else {
        stored.clone()
    };
    pgrx::notice!(
        "evaluate_recommendations: protocol {protocol}, {} users with held-out items, {n} items; {}",
        tested.len(),
        if searching { "choosing and refitting on the training part".to_owned() } else { format!("refitting {}", stored.method.name()) }
    );
    check_for_interrupts!();
    job.phase(if searching { "choosing parameters and refitting on the training part" } else { "refitting on the training part" }, "steps", None);
    let popularity = item_popularity(&split.train, n).unwrap_or_else(|e| raise_rank_error(e));
    let mut rec = Recommender::new(base.clone(), l.rec.ids.clone(), popularity.iter().map(|&c| c as f32).collect());
    if stored.method == Method::Vectors {
        rec.vectors = l.rec.vectors.clone();
    } else {
        let trained = run_cancellable(|stop| train(&split.train, n, &base, &given, stop)).unwrap_or_else(|e| raise_rank_error(e));
        if let Some(s) = &trained.selection {
            pgrx::notice!("evaluate_recommendations: {}", s.summary());
        }
        rec.params = trained.params;
        rec.set_lists(trained.fitted.main, trained.fitted.next);
    }
    rec.texts = l.rec.texts.clone();
    rec.set_categories(l.rec.categories.clone());
    check_for_interrupts!();
    // Inputs: the training history; vectors, texts and segments as stored.
    let inputs: Vec<UserInput> = tested
        .iter()
        .map(|&u| {
            let mut x = users.remove(&keys[u]).unwrap_or_default();
            x.history = split.train[u].clone();
            x
        })
        .collect();
    let ask = Ask { k, exclude_seen: true, allow: None, reasons: false };
    let no_segments = HashMap::new();
    let mut lists: Vec<Vec<u32>> = Vec::with_capacity(inputs.len());
    job.phase("ranking held-out users", "users", Some(inputs.len() as i64));
    for chunk in inputs.chunks(5000) {
        check_for_interrupts!();
        let ranked = run_on_pool(|| rank_batch(&rec, chunk, &ask, &no_segments)).unwrap_or_else(|e| raise_rank_error(e));
        lists.extend(ranked.into_iter().map(|l| l.into_iter().map(|r| r.0).collect::<Vec<u32>>()));
        job.set(lists.len() as i64);
    }
    job.phase("scoring against popularity", "steps", None);
    let test: Vec<Vec<u32>> = tested.iter().map(|&u| split.test[u].clone()).collect();
    let pop_all = popular_lists(&split, &popularity, k);
    let pop: Vec<Vec<u32>> = tested.iter().map(|&u| pop_all[u].clone()).collect();
    let mut rows = Vec::new();
    for (label, lists) in [(format!("persona ({})", rec.params.method.name()), &lists), ("popularity".to_owned(), &pop)] {
        let f = figures(lists, &test, &popularity, k).unwrap_or_else(|e| raise_rank_error(e));
        rows.push((label, f.users as i64, f.hit_rate, f.ndcg, f.recall, f.coverage, f.popularity_rank));
    }
    pgrx::notice!("evaluate_recommendations: done in {:.1} s", started.elapsed().as_secs_f64());
    TableIterator::new(rows)
}
