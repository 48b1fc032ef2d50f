//! `persona.train_recommender`: read the sources, train (choosing what the
//! caller left open), store the model and its item rows.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use persona_rank::item_popularity;
use persona_rank::recommender::{train, Method, Params};
use pgrx::prelude::*;

use super::{bad, check_column, events_query, for_each_batch, read_events, read_vectors, Events};
use crate::access::{self, Kind};
use crate::errors::{raise_rank_error, raise_spi_error as spi_err, required};
use crate::jsonb::JsonbText;
use crate::runtime::run_cancellable;
use crate::source::from_item;
use crate::spi::Columns;
use crate::sql_text::quote_ident;

/// Per item id: category, item vector, text vector.
type Entry = (Option<String>, Option<Vec<f32>>, Option<Vec<f32>>);

/// Trains a recommender and stores it (replacing a model of that name).
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn train_recommender(
    model: Option<&str>,
    events: default!(Option<&str>, "NULL"),
    user_col: default!(Option<&str>, "'user_id'"),
    item_col: default!(Option<&str>, "'item_id'"),
    time_col: default!(Option<&str>, "'event_time'"),
    method: default!(Option<&str>, "'auto'"),
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
    let method = Method::parse(method).unwrap_or_else(|e| raise_rank_error(e));
    let (params, given) =
        Params::from_options(method, &options.parse("argument \"options\"")).unwrap_or_else(|e| raise_rank_error(e));
    if method == Some(Method::Vectors) && (user_vectors.is_none() || item_vectors.is_none()) {
        bad("method 'vectors' needs user_vectors and item_vectors".to_owned());
    }
    if method != Some(Method::Vectors) && events.is_none() {
        bad(format!("method '{}' needs events", method.map_or("auto", Method::name)));
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

    let job = crate::progress::Job::start("train_recommender", "reading events", "rows", None);
    let ev = match events {
        Some(e) => read_events(&events_query(&from_item(e, "events"), user_col, item_col, time_col, "true", None)),
        None => Events { users: Vec::new(), sequences: Vec::new(), flags: Vec::new(), rows: 0, skipped: 0 },
    };
    if ev.skipped > 0 {
        pgrx::notice!("train_recommender: skipped {} events with a NULL user or item", ev.skipped);
    }
    // Items of the catalogue: from events, items and item vectors.
    let mut catalogue: BTreeMap<i64, Entry> = BTreeMap::new();
    for s in &ev.sequences {
        for &i in s {
            catalogue.entry(i).or_default();
        }
    }
    job.phase("reading items", "rows", None);
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
        "train_recommender: {} events of {} users over {n} items; {}",
        ev.rows,
        ev.users.len(),
        if persona_rank::recommender::will_search(&params, &given) {
            "choosing the parameters left open on held-out events, then fitting".to_owned()
        } else {
            format!("fitting {}", params.method.name())
        }
    );
    check_for_interrupts!();
    job.phase(
        if persona_rank::recommender::will_search(&params, &given) { "choosing parameters on held-out events, then fitting" } else { "fitting" },
        "steps",
        None,
    );
    let popularity = item_popularity(&histories, n).unwrap_or_else(|e| raise_rank_error(e));
    let trained = run_cancellable(|stop| train(&histories, n, &params, &given, stop)).unwrap_or_else(|e| raise_rank_error(e));
    check_for_interrupts!();
    let chosen = &trained.params;
    if let Some(s) = &trained.selection {
        pgrx::notice!(
            "train_recommender: {}; the final fit took {:.1} s",
            s.summary(),
            trained.fit_seconds
        );
    }
    if chosen.method.uses_ease() && n > chosen.max_items {
        pgrx::notice!(
            "train_recommender: EASE is dense (cubic in items): fitted on the {} most popular of {n} items{}",
            chosen.max_items,
            if chosen.method == Method::Blend { "; item-kNN scores the rest" } else { "; the rest are ranked by item-kNN only with method 'blend' or 'knn'" }
        );
    }
    let neighbour_rows = trained.fitted.weights() as i64;
    pgrx::notice!("train_recommender: fitted in {:.1} s, {neighbour_rows} neighbour weights kept", trained.fit_seconds);

    // Store.
    job.phase("storing items", "items", Some(n as i64));
    Spi::run_with_args("DELETE FROM persona.recommender_models WHERE name = $1", &[model.into()])
        .unwrap_or_else(|e| spi_err("replace the model", e));
    let sources = serde_json::json!({
        "events": events, "user_col": user_col, "item_col": item_col, "time_col": time_col,
        "items": items, "item_key_col": item_key_col, "category_col": category_col, "item_text_col": item_text_col,
        "users": users, "users_key_col": users_key_col, "profiles": profiles, "segments": segments,
        "user_vectors": user_vectors, "item_vectors": item_vectors,
    });
    let selection = serde_json::json!({
        "given": given,
        "choice": trained.selection,
    });
    Spi::run_with_args(
        "INSERT INTO persona.recommender_models (name, method, sources, parameters, selection, users, items, interactions, seconds)
         VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6, $7, $8, $9)",
        &[
            model.into(),
            chosen.method.name().into(),
            sources.to_string().into(),
            chosen.to_json().to_string().into(),
            selection.to_string().into(),
            (ev.users.len() as i64).into(),
            (n as i64).into(),
            ev.rows.into(),
            started.elapsed().as_secs_f64().into(),
        ],
    )
    .unwrap_or_else(|e| spi_err("write persona.recommender_models", e));
    store_items(model, &ids, &popularity, catalogue.into_values().collect(), &trained.fitted.main, &trained.fitted.next, &job);
    let seconds = started.elapsed().as_secs_f64();
    Spi::run_with_args("UPDATE persona.recommender_models SET seconds = $2 WHERE name = $1", &[model.into(), seconds.into()])
        .unwrap_or_else(|e| spi_err("write persona.recommender_models", e));
    pgrx::notice!("train_recommender: stored model \"{model}\" ({n} items) in {seconds:.1} s");
    TableIterator::once((ev.users.len() as i64, n as i64, ev.rows, neighbour_rows, seconds))
}

/// Writes one row per catalogue item, 1,000 items per statement.
fn store_items(
    model: &str,
    ids: &[i64],
    popularity: &[u32],
    entries: Vec<Entry>,
    main: &[Vec<(u32, f32)>],
    next: &[Vec<(u32, f32)>],
    job: &crate::progress::Job,
) {
    let n = ids.len();
    let vec_dim = entries.iter().find_map(|e| e.1.as_ref().map(Vec::len)).unwrap_or(0);
    let text_dim = entries.iter().find_map(|e| e.2.as_ref().map(Vec::len)).unwrap_or(0);
    let push = |out: &mut Vec<f32>, has: &mut Vec<bool>, v: &Option<Vec<f32>>, dim: usize| match v {
        Some(v) if v.len() == dim => {
            out.extend_from_slice(v);
            has.push(true);
        }
        _ => {
            out.extend(std::iter::repeat_n(0f32, dim));
            has.push(false);
        }
    };
    for start in (0..n).step_by(1000) {
        check_for_interrupts!();
        let end = (start + 1000).min(n);
        let (mut nb_off, mut nx_off) = (vec![0i32], vec![0i32]);
        let (mut nb, mut nw, mut xb, mut xw) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
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
            push(&mut vecs, &mut has_vec, &e.1, vec_dim);
            push(&mut texts, &mut has_text, &e.2, text_dim);
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
        job.set(end as i64);
    }
}
