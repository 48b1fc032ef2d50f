//! Segments of users: K-Means trained in the database, stored as versions,
//! and scored against the current version.
//!
//! The training itself is `persona_cluster::train`. This module only reads
//! rows (`read`: straight out of the executor, again on every pass when
//! they do not fit in `persona.kmeans_work_mem`), turns the SQL arguments
//! and the driver's progress into settings and NOTICEs (`train`), writes a
//! new version in the caller's transaction (`store`: a cancelled training
//! leaves earlier versions as they were), and answers for the current
//! version (`score`). The types the files share live here, so that none of
//! them imports another's.

use persona_cluster::{ClusterError, Metric, Segmentation};
use pgrx::PgSqlErrorCode;

use crate::errors::{raise, raise_cluster_error};

mod mixture;
mod read;
mod score;
mod store;
mod train;

/// A training, with what the database side knows about it.
pub struct Trained {
    pub model: Segmentation,
    /// Key of each row, in the order of `model.assignments`.
    pub keys: Vec<i64>,
    /// Rows left out for a NULL key or vector.
    pub skipped: i64,
    /// Reading included.
    pub seconds: f64,
}

impl Trained {
    /// `training_mode` as the catalog records it.
    pub fn mode(&self) -> &'static str {
        mode(self.model.in_memory)
    }
}

pub fn mode(in_memory: bool) -> &'static str {
    if in_memory {
        "in_memory"
    } else {
        "passes"
    }
}

/// A metric name from SQL or the catalog; 22023 for any other.
pub fn parse_metric(metric: &str) -> Metric {
    metric.parse().unwrap_or_else(|e| raise_train_error(e))
}

/// ERRORs for what the driver refuses: its settings (and k against the
/// rows) are the caller's to fix, 22023 like every other bad argument.
pub fn raise_train_error(e: ClusterError) -> ! {
    match e {
        ClusterError::InvalidSetting(message) => raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, message, None, None),
        ClusterError::Cancelled => raise(
            PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
            "canceling statement due to an interrupt".to_owned(),
            None,
            None,
        ),
        other => raise_cluster_error(other),
    }
}

/// A segment with at least 1% of the rows (and 2 members). Members of
/// smaller segments are scored against the nearest major segment: a tight
/// little cluster of identical accounts (bots) is itself the anomaly.
pub fn is_major(size: i64, rows: i64) -> bool {
    size >= 2 && (size as f64) >= 0.01 * rows as f64
}
