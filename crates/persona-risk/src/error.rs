//! The one error type of the crate.

use std::fmt;

/// Why a risk call could not run. User numbers are 0-based positions in the
/// slice handed to that call.
#[derive(Debug, Clone, PartialEq)]
pub enum RiskError {
    /// A setting is outside its domain; the message names it and says why.
    BadParameter(String),
    /// A user's signals cannot be right (NaN, a negative count, more views than
    /// events); the message names the user and the field.
    BadInput {
        /// Position of the user in the slice.
        user: usize,
        /// What is wrong.
        reason: String,
    },
    /// The caller's stop check said so.
    Cancelled,
}

impl fmt::Display for RiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RiskError::BadParameter(message) => f.write_str(message),
            RiskError::BadInput { user, reason } => write!(f, "user {user} (0-based): {reason}"),
            RiskError::Cancelled => write!(f, "the risk scoring was cancelled"),
        }
    }
}

impl std::error::Error for RiskError {}

pub(crate) fn bad_parameter(message: impl Into<String>) -> RiskError {
    RiskError::BadParameter(message.into())
}

pub(crate) fn bad_input(user: usize, reason: impl Into<String>) -> RiskError {
    RiskError::BadInput { user, reason: reason.into() }
}
