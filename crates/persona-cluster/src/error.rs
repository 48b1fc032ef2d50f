//! The one error type of the crate.

use std::fmt;

/// Why a clustering call could not run. Row and column numbers are 0-based
/// positions inside the slice handed to that call.
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterError {
    /// No rows (or no labels, or no documents) were given.
    EmptyData,
    /// `dim` was 0.
    ZeroDimension,
    /// The data length is not a whole number of rows of `dim` values.
    RaggedData {
        /// Number of values given.
        len: usize,
        /// Row length they should divide into.
        dim: usize,
    },
    /// A centroid matrix has the wrong number of values.
    CentroidShape {
        /// Values expected (or, for a matrix whose `k` is inferred, the row length).
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// `k` is below 1 or above the number of rows.
    InvalidK {
        /// Number of clusters asked for.
        k: usize,
        /// Rows available.
        rows: usize,
    },
    /// A value is NaN or infinite.
    NotFinite {
        /// Row of the value.
        row: usize,
        /// Position of the value within its row.
        column: usize,
    },
    /// A row (or centroid) with norm 0 under [`crate::Metric::Cosine`].
    ZeroVector {
        /// The row.
        row: usize,
    },
    /// Two slices that must pair up element by element differ in length.
    LengthMismatch {
        /// Length of the first.
        left: usize,
        /// Length of the second.
        right: usize,
    },
    /// A label is not below the number of clusters.
    LabelOutOfRange {
        /// The label.
        label: u32,
        /// Number of clusters.
        k: usize,
    },
    /// A configuration value is outside its domain.
    InvalidParameter {
        /// The setting.
        name: &'static str,
        /// What it must be.
        reason: &'static str,
    },
    /// A setting of [`crate::train`] that cannot be used, alone or with this
    /// data (`k` above the number of rows); the message names it and says why.
    InvalidSetting(String),
    /// A later pass over a [`crate::RowSource`] did not give the rows of the first.
    SourceChanged {
        /// Rows of the first read.
        expected: usize,
        /// Rows of the later pass.
        got: usize,
    },
    /// The caller's stop check said so.
    Cancelled,
    /// A model could not be fitted to these rows; the message says why and
    /// which setting to change.
    FitFailed(String),
    /// Stored parts handed back for loading do not make a model (a part of
    /// the wrong size, a value that is not finite, a covariance that is not
    /// positive definite); the message names the part.
    InvalidModel(String),
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::EmptyData => write!(f, "no data to cluster"),
            ClusterError::ZeroDimension => write!(f, "vector dimension must be at least 1"),
            ClusterError::RaggedData { len, dim } => {
                write!(f, "{len} values do not form rows of dimension {dim}")
            }
            ClusterError::CentroidShape { expected, got } => {
                write!(f, "expected {expected} centroid values, got {got}")
            }
            ClusterError::InvalidK { k, rows } => {
                write!(f, "k = {k} must be between 1 and the number of rows ({rows})")
            }
            ClusterError::NotFinite { row, column } => {
                write!(f, "NaN or infinity not allowed (row {row}, element {column}, 0-based)")
            }
            ClusterError::ZeroVector { row } => {
                write!(f, "zero vector at row {row} (0-based) has no direction for cosine distance")
            }
            ClusterError::LengthMismatch { left, right } => {
                write!(f, "lengths differ: {left} and {right}")
            }
            ClusterError::LabelOutOfRange { label, k } => {
                write!(f, "label {label} is not below the number of clusters {k}")
            }
            ClusterError::InvalidParameter { name, reason } => write!(f, "invalid {name}: {reason}"),
            ClusterError::InvalidSetting(message) => f.write_str(message),
            ClusterError::SourceChanged { expected, got } => {
                write!(f, "the source gave {got} rows on a later pass, not {expected}: it changed during the training")
            }
            ClusterError::Cancelled => write!(f, "the computation was cancelled"),
            ClusterError::FitFailed(message) => f.write_str(message),
            ClusterError::InvalidModel(message) => write!(f, "invalid stored model: {message}"),
        }
    }
}

impl std::error::Error for ClusterError {}
