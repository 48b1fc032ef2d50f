//! The one error type of this crate.

use std::fmt;

/// Why a ranking computation refused its input.
#[derive(Debug, Clone, PartialEq)]
pub enum RankError {
    /// A buffer's length does not match the shape it was declared with.
    ShapeMismatch {
        what: &'static str,
        expected: usize,
        actual: usize,
    },
    /// A size or count so large that the buffer it implies cannot be addressed.
    TooLarge { what: &'static str },
    /// A parameter outside its valid range.
    InvalidParameter {
        name: &'static str,
        reason: &'static str,
    },
    /// A NaN or infinity in an input that must be finite.
    NonFinite { what: &'static str, index: usize },
    /// The exclusion list of a query is not sorted ascending.
    UnsortedExclusion { query: usize },
    /// An item index at or beyond the catalogue size.
    ItemOutOfRange { item: u32, n_items: usize },
    /// Cholesky met a non-positive pivot: the matrix is not symmetric positive definite.
    NotPositiveDefinite { column: usize },
    /// An internal matrix view did not fit its buffer. This is a bug in this
    /// crate, reported as an error rather than risked as an out-of-bounds access.
    InternalShape(&'static str),
    /// The caller's stop check asked for it (a cancel): the work was abandoned.
    Cancelled,
    /// A caller's option refused, with the whole message.
    BadOption(String),
}

impl fmt::Display for RankError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RankError::ShapeMismatch {
                what,
                expected,
                actual,
            } => write!(f, "{what}: expected length {expected}, got {actual}"),
            RankError::TooLarge { what } => write!(f, "{what} is too large to address"),
            RankError::InvalidParameter { name, reason } => {
                write!(f, "invalid parameter {name}: {reason}")
            }
            RankError::NonFinite { what, index } => {
                write!(f, "{what} holds a non-finite value at position {index}")
            }
            RankError::UnsortedExclusion { query } => write!(
                f,
                "the exclusion list of query {query} is not sorted ascending"
            ),
            RankError::ItemOutOfRange { item, n_items } => write!(
                f,
                "item index {item} is out of range for a catalogue of {n_items} items"
            ),
            RankError::NotPositiveDefinite { column } => write!(
                f,
                "matrix is not positive definite (pivot at column {column} is not positive)"
            ),
            RankError::InternalShape(what) => {
                write!(f, "internal error: matrix view out of bounds in {what}")
            }
            RankError::Cancelled => write!(f, "the computation was cancelled"),
            RankError::BadOption(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for RankError {}

/// `a * b`, or `TooLarge` naming `what` when it overflows.
pub(crate) fn checked_len(a: usize, b: usize, what: &'static str) -> Result<usize, RankError> {
    a.checked_mul(b).ok_or(RankError::TooLarge { what })
}

/// Fails with `ShapeMismatch` unless `actual == expected`.
pub(crate) fn expect_len(
    what: &'static str,
    expected: usize,
    actual: usize,
) -> Result<(), RankError> {
    if expected == actual {
        Ok(())
    } else {
        Err(RankError::ShapeMismatch {
            what,
            expected,
            actual,
        })
    }
}

/// A zero-filled buffer of `len` elements, or `TooLarge` naming `what` when
/// the allocation fails: the dense matrices here can be gigabytes, and a
/// failed allocation must not abort the host process.
pub(crate) fn zeroed<T: Copy + Default>(
    len: usize,
    what: &'static str,
) -> Result<Vec<T>, RankError> {
    let mut buffer = Vec::new();
    buffer
        .try_reserve_exact(len)
        .map_err(|_| RankError::TooLarge { what })?;
    buffer.resize(len, T::default());
    Ok(buffer)
}
