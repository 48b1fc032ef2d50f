//! `persona.train_item2vec()`: item vectors learned from behaviour sequences.
//!
//! Reads (user, item, time) rows through a cursor, builds each user's
//! time-ordered item sequence, trains SGNS (`persona-item2vec`) on the backend
//! thread in steps, checking for interrupts and reporting progress between
//! steps, then replaces the model's rows in `persona.item_vectors` in the same
//! transaction. A cancelled run therefore leaves the previous vectors intact.

use std::time::Instant;

use persona_item2vec::{Config, Trainer};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::sql_text::quote_ident;
use crate::errors::{raise, required};
use crate::spi::Columns;

/// Items trained between interrupt checks: a few milliseconds of work.
const STEP_ITEMS: u64 = 20_000;
/// Rows fetched from the source per cursor fetch.
const FETCH_ROWS: i64 = 10_000;

fn int_arg(name: &str, v: i32, lo: i32, hi: i32) -> usize {
    if v < lo || v > hi {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("{name} must be between {lo} and {hi}, not {v}"),
            None,
            None,
        );
    }
    v as usize
}

/// Item ids must be integers: 42804 otherwise (checked on one row; an empty
/// source has nothing to check).
fn check_item_type(from: &str, item_col: &str) {
    let probe = format!("SELECT pg_typeof({})::text FROM {from} LIMIT 1", quote_ident(item_col));
    if let Some(ty) = crate::spi::first::<String>("check the item column", &probe, &[]) {
        if !matches!(ty.as_str(), "smallint" | "integer" | "bigint") {
            raise(
                PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                format!("item column \"{item_col}\" is of type {ty}, not an integer type"),
                None,
                Some("Map item keys to integer ids first, for example with a lookup table."),
            );
        }
    }
}

/// Reads the source into one item sequence per user, in time order.
/// Returns the sequences and the number of rows skipped for NULL ids.
fn read_sequences(from: &str, user_col: &str, item_col: &str, time_col: &str) -> (Vec<Vec<i64>>, i64) {
    let query = format!(
        "SELECT ({u})::text, ({i})::bigint FROM {from} ORDER BY 1, {t}, 2",
        u = quote_ident(user_col),
        i = quote_ident(item_col),
        t = quote_ident(time_col),
    );
    let mut sequences: Vec<Vec<i64>> = Vec::new();
    let mut skipped = 0i64;
    Spi::connect(|client| {
        let mut cursor = client.open_cursor(query.as_str(), &[]);
        let mut current_user: Option<String> = None;
        loop {
            check_for_interrupts!();
            let batch = cursor.fetch(FETCH_ROWS as libc::c_long).unwrap_or_else(|e| {
                raise(PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, "cannot read the source".to_owned(), Some(e.to_string()), None)
            });
            if batch.is_empty() {
                break;
            }
            crate::progress::advance(batch.len() as i64);
            for row in batch {
                let user = row.col::<String>(1);
                let item = row.col::<i64>(2);
                let (Some(user), Some(item)) = (user, item) else {
                    skipped += 1;
                    continue;
                };
                if current_user.as_deref() != Some(user.as_str()) {
                    sequences.push(Vec::new());
                    current_user = Some(user);
                }
                if let Some(seq) = sequences.last_mut() {
                    seq.push(item);
                }
            }
        }
    });
    (sequences, skipped)
}

fn store_vectors(model: &str, trainer: &Trainer, dim: usize, job: &crate::progress::Job) {
    let run = |sql: &str, args: &[pgrx::datum::DatumWithOid]| {
        Spi::run_with_args(sql, args).unwrap_or_else(|e| {
            raise(PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, "cannot write persona.item_vectors".to_owned(), Some(e.to_string()), None)
        })
    };
    run("DELETE FROM persona.item_vectors WHERE model = $1", &[model.into()]);
    let all: Vec<(i64, &[f32])> = trainer.vectors().collect();
    for chunk in all.chunks(1000) {
        check_for_interrupts!();
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        let flat: Vec<f32> = chunk.iter().flat_map(|(_, v)| v.iter().copied()).collect();
        run(
            "INSERT INTO persona.item_vectors (model, item_id, embedding)
             SELECT $1, $2[k], $3[(k - 1) * $4 + 1 : k * $4] FROM generate_subscripts($2, 1) k",
            &[model.into(), ids.into(), flat.into(), (dim as i32).into()],
        );
        job.add(chunk.len() as i64);
    }
}

/// Trains item2vec (skip-gram, negative sampling) over each user's
/// time-ordered items and stores one vector per item in persona.item_vectors.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn train_item2vec(
    model: Option<&str>,
    source: Option<&str>,
    user_col: default!(Option<&str>, "'user_id'"),
    item_col: default!(Option<&str>, "'item_id'"),
    time_col: default!(Option<&str>, "'ts'"),
    dim: default!(Option<i32>, 64),
    window_size: default!(Option<i32>, 5),
    negatives: default!(Option<i32>, 5),
    epochs: default!(Option<i32>, 5),
    min_count: default!(Option<i32>, 1),
    ns_exponent: default!(Option<f64>, 0.75),
    sample: default!(Option<f64>, 0.001),
    alpha: default!(Option<f64>, 0.025),
    seed: default!(Option<i64>, 1),
) -> TableIterator<
    'static,
    (name!(items, i64), name!(sequences, i64), name!(trained_items, i64), name!(seconds, f64)),
> {
    required!(model, source, user_col, item_col, time_col, dim, window_size, negatives, epochs, min_count, ns_exponent, sample, alpha, seed);
    // Before any work: one training of a name at a time, and only its owner's.
    crate::access::claim(crate::access::Kind::Item2vec, model);
    let config = Config {
        dim: int_arg("dim", dim, 1, 4096),
        window: int_arg("window_size", window_size, 1, 1000),
        negatives: int_arg("negatives", negatives, 0, 100),
        epochs: int_arg("epochs", epochs, 1, 10_000),
        min_count: int_arg("min_count", min_count, 1, i32::MAX) as u64,
        ns_exponent,
        sample,
        alpha: alpha as f32,
        min_alpha: 0.0001,
        seed: seed as u64,
    };
    if let Err(e) = config.validate() {
        raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, e.to_string(), None, None);
    }
    let started = Instant::now();
    let job = crate::progress::Job::start("train_item2vec", "reading sequences", "rows", None);
    let from = format!("{} AS persona_source", crate::source::from_item(source, "source"));
    check_item_type(&from, item_col);
    let (sequences, skipped) = read_sequences(&from, user_col, item_col, time_col);
    if skipped > 0 {
        pgrx::notice!("train_item2vec: skipped {skipped} rows with a NULL user or item");
    }
    let n_sequences = sequences.len() as i64;
    let mut trainer = match Trainer::new(config.clone(), &sequences) {
        Ok(t) => t,
        Err(persona_item2vec::Item2VecError::NoData) => {
            pgrx::notice!("train_item2vec: no sequence with two items of min_count occurrences; nothing trained");
            return TableIterator::once((0, n_sequences, 0, started.elapsed().as_secs_f64()));
        }
        Err(e) => raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, e.to_string(), None, None),
    };
    drop(sequences);
    job.phase(&format!("epoch 1/{}", config.epochs), "items", Some(trainer.progress().items_total as i64));
    let train_start = Instant::now();
    let mut last_epoch = 0;
    loop {
        check_for_interrupts!();
        let p = trainer.step(STEP_ITEMS);
        job.step(p.items_done as i64, &format!("epoch {}/{}", (p.epoch + 1).min(config.epochs), config.epochs));
        if p.epoch != last_epoch || p.finished {
            last_epoch = p.epoch;
            let secs = train_start.elapsed().as_secs_f64().max(1e-9);
            pgrx::notice!(
                "train_item2vec: epoch {}/{} done, {} items/s, alpha {:.5}",
                p.epoch.min(config.epochs),
                config.epochs,
                (p.items_done as f64 / secs).round(),
                p.alpha
            );
        }
        if p.finished {
            break;
        }
    }
    job.phase("storing vectors", "items", Some(trainer.vocab().len() as i64));
    store_vectors(model, &trainer, config.dim, &job);
    let items = trainer.vocab().len() as i64;
    let trained = trainer.progress().items_done as i64;
    TableIterator::once((items, n_sequences, trained, started.elapsed().as_secs_f64()))
}
