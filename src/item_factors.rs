//! `persona.train_item_factors()`: item vectors from a truncated SVD of the
//! user x item matrix, stored in `persona.item_vectors` like item2vec's.
//!
//! item2vec learns which items are used together, not who uses them; the
//! right singular vectors of the (log-damped, type-weighted) user x item
//! matrix keep what sets users apart. Profiles built on these vectors
//! (`build_profiles(item2vec_model => ...)`) fold each user in: the
//! behaviour part is the weighted mean of the user's item vectors, the user's
//! factor row times the singular values, normalised. This file only reads
//! rows and writes vectors; the maths is `persona_linalg::truncated_svd`.

use std::collections::HashMap;
use std::time::Instant;

use persona_linalg::{truncated_svd, SparseRows, SvdError, SvdParams};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::errors::{raise, raise_spi_error as spi_err, required};
use crate::jsonb::JsonbText;
use crate::sql_text::quote_ident;

fn raise_svd_error(e: SvdError) -> ! {
    let code = match e {
        SvdError::InvalidParameter { .. } => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        SvdError::OutOfMemory { .. } => PgSqlErrorCode::ERRCODE_OUT_OF_MEMORY,
        SvdError::Cancelled => PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
        SvdError::BadInput(_) => PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
    };
    raise(code, e.to_string(), None, None)
}

/// The event types and their weights, from a JSON object of numbers.
fn weights(event_weights: &serde_json::Value) -> (Vec<String>, Vec<f64>) {
    let Some(map) = event_weights.as_object().filter(|m| !m.is_empty()) else {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "event_weights must be a non-empty JSON object of event type to weight".to_owned(),
            None,
            Some(r#"For example '{"view": 1, "cart": 3, "purchase": 5}'."#),
        )
    };
    let mut types = Vec::with_capacity(map.len());
    let mut values = Vec::with_capacity(map.len());
    for (t, w) in map {
        match w.as_f64().filter(|w| w.is_finite() && *w >= 0.0 && *w <= 1e6) {
            Some(w) => {
                types.push(t.clone());
                values.push(w);
            }
            None => raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("event_weights: the weight of \"{t}\" must be a number between 0 and 1000000, not {w}"),
                None,
                None,
            ),
        }
    }
    (types, values)
}

/// Trains item vectors as the right singular vectors of the user x item
/// matrix (cell: ln(1 + sum of the user's event weights on the item)).
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn train_item_factors(
    model: Option<&str>,
    source: Option<&str>,
    user_col: default!(Option<&str>, "'user_id'"),
    item_col: default!(Option<&str>, "'item_id'"),
    type_col: default!(Option<&str>, "'event_type'"),
    event_weights: default!(Option<JsonbText>, r#"'{"view": 1, "cart": 3, "purchase": 5}'"#),
    dim: default!(Option<i32>, 64),
    power_iterations: default!(Option<i32>, 4),
    seed: default!(Option<i64>, 1),
) -> TableIterator<
    'static,
    (name!(items, i64), name!(users, i64), name!(cells, i64), name!(explained, f64), name!(seconds, f64)),
> {
    required!(model, source, user_col, item_col, type_col, event_weights, dim, power_iterations, seed);
    // Before any work: one training of a name at a time, and only its owner's.
    crate::access::claim(crate::access::Kind::Item2vec, model);
    let started = Instant::now();
    let (types, values) = weights(&event_weights.parse("argument \"event_weights\""));
    if !(1..=persona_linalg::MAX_K as i32).contains(&dim) {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("dim must be between 1 and {}, not {dim}", persona_linalg::MAX_K),
            None,
            None,
        );
    }
    if !(0..=persona_linalg::MAX_POWER_ITERS as i32).contains(&power_iterations) {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("power_iterations must be between 0 and {}, not {power_iterations}", persona_linalg::MAX_POWER_ITERS),
            None,
            None,
        );
    }
    let from = crate::source::from_item(source, "source");
    let query = format!(
        "SELECT (s.{u})::bigint, (s.{i})::bigint, ln(1 + sum(w.w)) FROM {from} s
         JOIN unnest($1::text[], $2::float8[]) AS w(t, w) ON w.t = (s.{ty})::text
         WHERE s.{u} IS NOT NULL AND s.{i} IS NOT NULL GROUP BY 1, 2 HAVING sum(w.w) > 0",
        u = quote_ident(user_col),
        i = quote_ident(item_col),
        ty = quote_ident(type_col),
    );
    let mut users: HashMap<i64, u32> = HashMap::new();
    let mut items: HashMap<i64, u32> = HashMap::new();
    let mut item_ids: Vec<i64> = Vec::new();
    let mut cells: Vec<(u32, u32, f32)> = Vec::new();
    let job = crate::progress::Job::start("train_item_factors", "reading events", "cells", None);
    Spi::connect(|client| {
        let mut cursor = client.open_cursor(&query, &[types.into(), values.into()]);
        loop {
            check_for_interrupts!();
            let batch = cursor.fetch(50_000).unwrap_or_else(|e| spi_err("read the events", e));
            if batch.is_empty() {
                break;
            }
            job.add(batch.len() as i64);
            for row in batch {
                let (Ok(Some(u)), Ok(Some(i)), Ok(Some(v))) = (row.get::<i64>(1), row.get::<i64>(2), row.get::<f64>(3)) else {
                    continue;
                };
                let n_users = users.len() as u32;
                let r = *users.entry(u).or_insert(n_users);
                let c = *items.entry(i).or_insert_with(|| {
                    item_ids.push(i);
                    (item_ids.len() - 1) as u32
                });
                cells.push((r, c, v as f32));
            }
        }
    });
    if cells.is_empty() {
        pgrx::notice!("train_item_factors: no events of the weighted types; nothing trained");
        return TableIterator::once((0, 0, 0, 0.0, started.elapsed().as_secs_f64()));
    }
    let (n_users, n_items) = (users.len(), item_ids.len());
    drop(users);
    drop(items);
    let k = (dim as usize).min(n_users).min(n_items);
    if k < dim as usize {
        pgrx::notice!("train_item_factors: dim {dim} is more than the {n_users} users or {n_items} items allow; using {k}");
    }
    let matrix = SparseRows::from_triplets(n_users, n_items, &cells).unwrap_or_else(|e| raise_svd_error(e));
    drop(cells);
    let params = SvdParams { k, power_iters: power_iterations as usize, seed: seed as u64, ..SvdParams::default() }
        .check(n_users, n_items)
        .unwrap_or_else(|e| raise_svd_error(e));
    // On this thread: the SVD asks stop() between its steps, and a cancel is
    // Postgres' own ERROR raised from here (and the step count is reported).
    job.phase(&format!("truncated SVD of {n_users} users x {n_items} items"), "steps", None);
    let stop = || {
        check_for_interrupts!();
        job.add(1);
        false
    };
    let svd = truncated_svd(&matrix, &params, &stop).unwrap_or_else(|e| raise_svd_error(e));
    let explained = svd.explained_share();
    job.phase("storing vectors", "items", Some(n_items as i64));
    Spi::run_with_args("DELETE FROM persona.item_vectors WHERE model = $1", &[model.into()])
        .unwrap_or_else(|e| spi_err("write persona.item_vectors", e));
    for (n, chunk) in item_ids.chunks(1000).enumerate() {
        check_for_interrupts!();
        let start = n * 1000;
        let flat: Vec<f32> = svd.item_factors[start * k..(start + chunk.len()) * k].to_vec();
        Spi::run_with_args(
            "INSERT INTO persona.item_vectors (model, item_id, embedding)
             SELECT $1, $2[j], $3[(j - 1) * $4 + 1 : j * $4] FROM generate_subscripts($2, 1) j",
            &[model.into(), chunk.to_vec().into(), flat.into(), (k as i32).into()],
        )
        .unwrap_or_else(|e| spi_err("write persona.item_vectors", e));
        job.add(chunk.len() as i64);
    }
    let seconds = started.elapsed().as_secs_f64();
    pgrx::notice!(
        "train_item_factors: {n_items} items x {k} factors from {n_users} users and {} cells, {:.1}% of the matrix explained",
        matrix.nnz(),
        100.0 * explained
    );
    TableIterator::once((n_items as i64, n_users as i64, matrix.nnz() as i64, explained, seconds))
}
