//! Serving: top-k for one user, similar items, and every user's list.

use std::collections::HashMap;
use std::time::Instant;

use persona_rank::recommender::{rank_batch, similar_items as similar, Ask, UserInput};
use pgrx::prelude::*;

use super::load::{load, model_name, serve};
use super::users::{all_users, allow_mask, segment_popularity_all, segment_popularity_sql, user_input};
use super::{bad, check_k};
use crate::access::{self, as_owner, Kind};
use crate::errors::{raise_rank_error, raise_spi_error as spi_err, required};
use crate::runtime::run_on_pool;

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
    let ask = Ask { k, exclude_seen, allow: allow.as_deref(), reasons: true };
    let users = [u];
    let rec = &l.rec;
    let mut lists = run_on_pool(|| rank_batch(rec, &users, &ask, &seg_pop)).unwrap_or_else(|e| raise_rank_error(e));
    let list = lists.pop().unwrap_or_default();
    let ids = &l.rec.ids;
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
    let ids = &l.rec.ids;
    let out: Vec<(i64, f64, String)> =
        similar(&l.rec, i, k).into_iter().map(|(j, s, r)| (ids[j as usize], f64::from(s), r.to_owned())).collect();
    TableIterator::new(out)
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
    let job = crate::progress::Job::start("recommend_all", "loading the model", "rows", None);
    let (l, owner) = serve(model, "recommend from it");
    job.phase("reading users", "rows", None);
    let (allow, users) = as_owner(owner, || (allow_mask(&l, categories, filter), all_users(&l, None).0));
    let seg_pop = segment_popularity_all(l.rec.n(), &users);
    let total = users.len();
    pgrx::notice!("recommend_all: {total} users, {} items, read in {:.1} s", l.rec.n(), started.elapsed().as_secs_f64());
    job.phase("ranking and writing", "users", Some(total as i64));
    Spi::run_with_args("DELETE FROM persona.recommendation_lists WHERE model = $1", &[l.name.as_str().into()])
        .unwrap_or_else(|e| spi_err("clear persona.recommendation_lists", e));
    let ask = Ask { k, exclude_seen, allow: allow.as_deref(), reasons: true };
    let entries: Vec<(i64, UserInput)> = users.into_iter().collect();
    let ids = &l.rec.ids;
    let mut done = 0usize;
    let mut written = 0i64;
    let mut last_notice = Instant::now();
    let (mut ranking, mut writing) = (0.0f64, 0.0f64);
    for block in entries.chunks(batch_size as usize) {
        check_for_interrupts!();
        let inputs: Vec<UserInput> = block.iter().map(|e| e.1.clone()).collect();
        let rec = &l.rec;
        let t = Instant::now();
        let lists = run_on_pool(|| rank_batch(rec, &inputs, &ask, &seg_pop)).unwrap_or_else(|e| raise_rank_error(e));
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
        job.set(done as i64);
        if last_notice.elapsed().as_secs_f64() >= 2.0 || done == total {
            last_notice = Instant::now();
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            pgrx::notice!("recommend_all: {done} of {total} users, {:.0} users/s", done as f64 / secs);
        }
    }
    pgrx::notice!("recommend_all: ranking {ranking:.1} s, writing {writing:.1} s, {written} recommendations");
    TableIterator::once((total as i64, written, started.elapsed().as_secs_f64()))
}
