use std::fmt;
use std::path::PathBuf;

/// What can go wrong when loading or running a model.
///
/// The variants map one-to-one onto SQLSTATEs in the SQL layer, so keep them
/// about *what the user must fix*, not about which library failed.
#[derive(Debug)]
pub enum ModelError {
    /// The model directory or one of its required files does not exist.
    NotFound { path: PathBuf },
    /// A file exists but cannot be read or parsed.
    Corrupt { path: PathBuf, reason: String },
    /// The model loaded but failed while computing (should not happen on valid input).
    Inference(String),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::NotFound { path } => write!(f, "model file \"{}\" does not exist", path.display()),
            ModelError::Corrupt { path, reason } => {
                write!(f, "model file \"{}\" is not valid: {reason}", path.display())
            }
            ModelError::Inference(reason) => write!(f, "model inference failed: {reason}"),
        }
    }
}

impl std::error::Error for ModelError {}

impl From<candle_core::Error> for ModelError {
    fn from(e: candle_core::Error) -> Self {
        ModelError::Inference(e.to_string())
    }
}
