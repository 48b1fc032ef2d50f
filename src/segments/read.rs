//! Reading the (key, vector) rows of a training, as a `RowSource`.
//!
//! The first read keeps every vector while they fit in the memory allowed,
//! and a sample whatever their number (`persona_cluster::FirstRead`); when
//! they do not fit, every pass the driver asks for runs the query again.

use persona_cluster::{ClusterError, FirstRead, KeptRows, Metric, RowSource};
use pgrx::PgSqlErrorCode;

use super::raise_train_error;
use crate::errors::raise;
use crate::vector_scan::scan_vectors;

/// Rows handed to the driver (and from it to the thread pool) at a time in a pass.
const CHUNK_ROWS: usize = 10_000;

/// The rows of a query (`SELECT key::bigint, vector::real[] ...`).
pub struct QueryRows<'q> {
    query: &'q str,
    metric: Metric,
    kept: KeptRows,
}

/// What the first read found besides the rows.
pub struct FirstReadOf<'q> {
    pub rows: QueryRows<'q>,
    /// Keys of the rows used, in read order (every pass gives the same order).
    pub keys: Vec<i64>,
    pub skipped: i64,
}

/// Checks one row's vector; ERROR naming the row's key when it cannot be used.
fn check_row(key: i64, v: &[f32], dim: &mut usize, metric: Metric) {
    if *dim == 0 {
        *dim = v.len();
    }
    if v.len() != *dim || v.is_empty() {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("vector of key {key} has {} dimensions, not {}", v.len(), *dim),
            None,
            Some("All vectors must come from the same model."),
        );
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("vector of key {key} has NaN or infinity at element {}", i + 1),
            None,
            None,
        );
    }
    if metric == Metric::Cosine && v.iter().all(|&x| x == 0.0) {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("vector of key {key} is all zeros, which has no direction for metric 'cosine'"),
            None,
            Some("Filter out zero vectors, or use metric => 'l2'."),
        );
    }
}

/// Reads `query` once: keys, a sample, and the vectors if they fit in `budget_bytes`.
pub fn first_read<'q>(query: &'q str, metric: Metric, sample_size: usize, seed: u64, budget_bytes: usize) -> FirstReadOf<'q> {
    let mut first = FirstRead::new(metric, sample_size, budget_bytes, seed);
    let mut keys = Vec::new();
    let mut dim = 0;
    let skipped = scan_vectors(query, &mut |key, v| {
        check_row(key, v, &mut dim, metric);
        first.push(v).unwrap_or_else(|e| raise_train_error(e));
        keys.push(key);
    });
    FirstReadOf { rows: QueryRows { query, metric, kept: first.finish() }, keys, skipped }
}

impl RowSource for QueryRows<'_> {
    fn dim(&self) -> usize {
        self.kept.dim
    }

    fn rows(&self) -> usize {
        self.kept.rows
    }

    fn in_memory(&self) -> Option<&[f32]> {
        self.kept.data.as_deref()
    }

    fn sample(&self) -> &[f32] {
        &self.kept.sample
    }

    /// Runs the query again. The rows are checked as on the first read; an
    /// error from `each` is raised at once, which also ends the query.
    fn pass(&self, each: &mut dyn FnMut(&[f32]) -> Result<(), ClusterError>) -> Result<(), ClusterError> {
        let dim = self.kept.dim;
        let mut chunk = Vec::with_capacity(CHUNK_ROWS * dim);
        let mut d = dim;
        scan_vectors(self.query, &mut |key, v| {
            check_row(key, v, &mut d, self.metric);
            chunk.extend_from_slice(v);
            if chunk.len() >= CHUNK_ROWS * dim {
                each(&chunk).unwrap_or_else(|e| raise_train_error(e));
                chunk.clear();
            }
        });
        if chunk.is_empty() {
            Ok(())
        } else {
            each(&chunk)
        }
    }
}
