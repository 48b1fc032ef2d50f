//! Vector building blocks used by profiles: L2 normalisation and the
//! combination of a behaviour part and a text part into one profile vector.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::errors::{raise, raise_vec_error, required};
use crate::similarity::as_vector;

/// The longest profile vector. pgvector's `vector` holds at most 16,000
/// dimensions; this leaves room and refuses sizes whose zeros alone would
/// take gigabytes.
const MAX_PROFILE_DIM: i64 = 100_000;

fn unit(v: &[f32]) -> Vec<f32> {
    persona_linalg::check_finite(v).unwrap_or_else(|e| raise_vec_error(e));
    let norm = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    if norm == 0.0 {
        // As pgvector's l2_normalize: a zero vector stays zero.
        return v.to_vec();
    }
    v.iter().map(|&x| (f64::from(x) / norm) as f32).collect()
}

/// The vector scaled to length 1 (a zero vector is returned unchanged).
#[pg_extern(immutable, strict, parallel_safe)]
fn normalize(v: Array<'_, f32>) -> Vec<f32> {
    unit(&as_vector(v, "vector"))
}

fn part(v: Option<Array<'_, f32>>, dim: i32, arg: &str) -> Option<Vec<f32>> {
    let s = as_vector(v?, arg);
    if s.len() != dim as usize {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("{arg} has {} dimensions, not {dim}", s.len()),
            None,
            Some("All profiles of one name must use the same models."),
        );
    }
    let u = unit(&s);
    if u.iter().all(|&x| x == 0.0) {
        None
    } else {
        Some(u)
    }
}

/// Concatenation of the unit behaviour vector scaled by sqrt(1 - text_weight)
/// and the unit text vector scaled by sqrt(text_weight), so that the result
/// has length 1 and a dot product of two profiles is the weighted sum of the
/// two parts' cosines. A missing (NULL or zero) part is filled with zeros and
/// the other part takes the whole weight; both missing gives NULL.
#[pg_extern(immutable, parallel_safe)]
fn profile_vector(
    behaviour_vec: Option<Array<'_, f32>>,
    text_vec: Option<Array<'_, f32>>,
    text_weight: Option<f64>,
    behaviour_dim: Option<i32>,
    text_dim: Option<i32>,
) -> Option<Vec<f32>> {
    // Not STRICT: a NULL vector is a missing part; the weight and dimensions
    // are not optional.
    required!(text_weight, behaviour_dim, text_dim);
    if !(0.0..=1.0).contains(&text_weight) {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("text_weight must be between 0 and 1, not {text_weight}"),
            None,
            None,
        );
    }
    // A missing part is filled with `dim` zeros: an unchecked 2e9 asked for
    // gigabytes (and the i32 sum overflowed).
    let total = i64::from(behaviour_dim) + i64::from(text_dim);
    if behaviour_dim < 0 || text_dim < 0 || total == 0 || total > MAX_PROFILE_DIM {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!(
                "dimensions must be non-negative, not both 0 and at most {MAX_PROFILE_DIM} together, not {behaviour_dim} and {text_dim}"
            ),
            None,
            None,
        );
    }
    let b = part(behaviour_vec, behaviour_dim, "behaviour_vec");
    let t = part(text_vec, text_dim, "text_vec");
    let (wb, wt) = match (&b, &t) {
        (None, None) => return None,
        (Some(_), None) => (1.0, 0.0),
        (None, Some(_)) => (0.0, 1.0),
        (Some(_), Some(_)) => (1.0 - text_weight, text_weight),
    };
    let mut out = Vec::with_capacity((behaviour_dim + text_dim) as usize);
    let scaled = |p: &Option<Vec<f32>>, w: f64, dim: i32, out: &mut Vec<f32>| match p {
        Some(p) => out.extend(p.iter().map(|&x| (f64::from(x) * w.sqrt()) as f32)),
        None => out.extend(std::iter::repeat(0.0f32).take(dim as usize)),
    };
    scaled(&b, wb, behaviour_dim, &mut out);
    scaled(&t, wt, text_dim, &mut out);
    Some(out)
}
