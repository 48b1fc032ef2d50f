//! Recommendations: SQL functions over the recommender of `persona-rank`
//! (`persona_rank::recommender`: parameters, training with the automatic
//! choice, scoring, reasons, evaluation protocols). These files only read
//! rows into catalogue indices and user inputs, and write models and lists.
//!
//! Storage: one row per model in `persona.recommender_models` (sources,
//! parameters, the choice made, figures) and one row per catalogue item in
//! `persona.recommender_items`: its popularity, category, and its top
//! neighbours by model weight as two arrays (`neighbours`, `weights`), the
//! same for transitions (`next_items`, `next_weights`), and the item's
//! vectors (`embedding` for the vectors method, `text_vec` for cold start).
//! A model is loaded once per backend (keyed by name and creation time);
//! users' histories are read live from the events source, so new events
//! count without retraining.
//!
//! All maths runs on the thread pool as pure Rust (no Postgres calls),
//! between reads and writes done on the backend thread, which checks for
//! interrupts between blocks.

mod evaluate;
mod load;
mod serve;
mod train;
mod users;

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::errors::{raise, raise_spi_error as spi_err};
use crate::spi::Columns;
use crate::sql_text::quote_ident;

/// The most recommendations one call returns per user.
pub const MAX_K: i32 = 1000;
/// Rows fetched per cursor fetch.
const FETCH_ROWS: libc::c_long = 10_000;

fn bad(msg: String) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, msg, None, None)
}

fn check_k(k: i32) -> usize {
    if !(1..=MAX_K).contains(&k) {
        bad(format!("k must be between 1 and {MAX_K}, not {k}"));
    }
    k as usize
}

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
            // Rows read, for the job reading them (a no-op outside one).
            crate::progress::advance(batch.len() as i64);
            each(batch);
        }
    });
}

/// Users' time-ordered events.
struct Events {
    users: Vec<i64>,
    /// Per user, time-ordered item ids.
    sequences: Vec<Vec<i64>>,
    /// Per user and event, the third column's flag (a cut-off), when asked.
    flags: Vec<Vec<bool>>,
    rows: i64,
    skipped: i64,
}

/// The events query; `flag`, when given, is a boolean SQL expression on `s`
/// read as a third column.
fn events_query(from: &str, user_col: &str, item_col: &str, time_col: &str, filter: &str, flag: Option<&str>) -> String {
    format!(
        "SELECT (s.{u})::bigint, (s.{i})::bigint, {flag} FROM {from} s WHERE {filter} ORDER BY 1, s.{t}, 2",
        u = quote_ident(user_col),
        i = quote_ident(item_col),
        t = quote_ident(time_col),
        flag = flag.map_or_else(|| "false".to_owned(), |f| format!("coalesce(({f}), false)")),
    )
}

fn read_events(query: &str) -> Events {
    let mut ev = Events { users: Vec::new(), sequences: Vec::new(), flags: Vec::new(), rows: 0, skipped: 0 };
    for_each_batch(query, |batch| {
        for row in batch {
            let (Ok(Some(u)), Ok(Some(i))) = (row.get::<i64>(1), row.get::<i64>(2)) else {
                ev.skipped += 1;
                continue;
            };
            if ev.users.last() != Some(&u) {
                ev.users.push(u);
                ev.sequences.push(Vec::new());
                ev.flags.push(Vec::new());
            }
            if let (Some(s), Some(f)) = (ev.sequences.last_mut(), ev.flags.last_mut()) {
                s.push(i);
                f.push(row.get::<bool>(3).ok().flatten().unwrap_or(false));
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
