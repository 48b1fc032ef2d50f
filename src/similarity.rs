//! Similarity and distance between `real[]` vectors.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::errors::{raise, raise_vec_error};

/// Borrows a `real[]` as a slice, rejecting NULL elements.
pub fn as_vector<'a>(arr: &'a Array<'_, f32>, arg: &str) -> &'a [f32] {
    if arr.contains_nulls() {
        raise(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            format!("{arg} contains NULL elements"),
            None,
            Some("Vectors must not contain NULLs."),
        );
    }
    match arr.as_slice() {
        Ok(s) => s,
        Err(e) => raise(PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, format!("{arg} is not a usable vector"), Some(e.to_string()), None),
    }
}

fn apply(a: Array<'_, f32>, b: Array<'_, f32>, f: fn(&[f32], &[f32]) -> Result<f64, persona_linalg::VecError>) -> f64 {
    f(as_vector(&a, "first vector"), as_vector(&b, "second vector")).unwrap_or_else(|e| raise_vec_error(e))
}

/// Cosine similarity in [-1, 1]; NaN when either vector is all zeros.
#[pg_extern(immutable, strict, parallel_safe)]
fn cosine_similarity(a: Array<'_, f32>, b: Array<'_, f32>) -> f64 {
    apply(a, b, persona_linalg::cosine_similarity)
}

/// Sum of element-wise products.
#[pg_extern(immutable, strict, parallel_safe)]
fn inner_product(a: Array<'_, f32>, b: Array<'_, f32>) -> f64 {
    apply(a, b, persona_linalg::inner_product)
}

/// Euclidean distance.
#[pg_extern(immutable, strict, parallel_safe)]
fn l2_distance(a: Array<'_, f32>, b: Array<'_, f32>) -> f64 {
    apply(a, b, persona_linalg::l2_distance)
}
