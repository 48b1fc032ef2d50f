//! What is known of users, read from a model's stored sources.

use std::collections::{BTreeMap, HashMap};

use persona_rank::distinct_sorted;
use persona_rank::recommender::{unit, UserInput};

use super::load::Loaded;
use super::{bad, events_query, for_each_batch, read_events, read_vectors};
use crate::source::from_item;
use crate::spi::Columns;
use crate::sql_text::quote_literal as literal;

/// The allow-mask of a category list and a SQL predicate on the items source.
pub(super) fn allow_mask(l: &Loaded, categories: Option<Vec<Option<String>>>, filter: Option<&str>) -> Option<Vec<bool>> {
    if categories.is_none() && filter.is_none() {
        return None;
    }
    let n = l.rec.n();
    let mut mask = vec![true; n];
    if let Some(cats) = categories {
        let cats: Vec<String> = cats.into_iter().flatten().collect();
        for (j, c) in l.rec.categories.iter().enumerate() {
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

/// The events query of a model's events source.
pub(super) fn model_events_query(l: &Loaded, filter: &str, flag: Option<&str>) -> Option<String> {
    let ev = l.source("events")?;
    Some(events_query(
        &from_item(&ev, "events"),
        &l.source("user_col").unwrap_or_default(),
        &l.source("item_col").unwrap_or_default(),
        &l.source("time_col").unwrap_or_default(),
        filter,
        flag,
    ))
}

/// Reads what is known of one user; None when nothing is.
pub(super) fn user_input(l: &Loaded, user: i64) -> Option<UserInput> {
    let mut u = UserInput::default();
    let mut known = false;
    // No cast on the column, so that an index on it is used.
    if let Some(q) = model_events_query(l, &format!("s.{} = {user}", l.col("user_col")), None) {
        for s in read_events(&q).sequences {
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
pub(super) fn segment_popularity_sql(l: &Loaded, segment: i32) -> Vec<f32> {
    let mut pop = vec![0f32; l.rec.n()];
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

/// Every user the model knows, with what is known of them; with `flag`
/// (a boolean SQL expression on the events), also each event's flag.
pub(super) fn all_users(l: &Loaded, flag: Option<&str>) -> (BTreeMap<i64, UserInput>, HashMap<i64, Vec<bool>>) {
    let mut users: BTreeMap<i64, UserInput> = BTreeMap::new();
    let mut flags = HashMap::new();
    if let Some(q) = model_events_query(l, "true", flag) {
        let e = read_events(&q);
        for ((u, s), f) in e.users.into_iter().zip(e.sequences).zip(e.flags) {
            // Events of items outside the catalogue (added since training) are dropped with their flags.
            let (h, f): (Vec<u32>, Vec<bool>) = s.iter().zip(f).filter_map(|(i, f)| l.index.get(i).map(|&j| (j, f))).unzip();
            users.entry(u).or_default().history = h;
            if flag.is_some() {
                flags.insert(u, f);
            }
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
    (users, flags)
}

/// Popularity per segment among its members (counted from histories).
pub(super) fn segment_popularity_all(n: usize, users: &BTreeMap<i64, UserInput>) -> HashMap<i32, Vec<f32>> {
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
