//! Similarity and distance between `real[]` vectors.

use std::ops::Deref;

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::errors::{raise, raise_vec_error};

/// A `real[]` argument checked to be usable as a vector: one-dimensional,
/// without NULL elements. Derefs to its elements, borrowed from the array.
pub struct Vector<'a>(Array<'a, f32>);

impl Deref for Vector<'_> {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        // Checked in as_vector: the array has no NULLs, so this is Ok.
        self.0.as_slice().unwrap_or(&[])
    }
}

/// Rejects an array of more than one dimension, as pgvector does: pgrx
/// reads '{{1,2},{3,4}}' as four elements, and a vector function would
/// silently treat a matrix as a longer vector.
fn one_dimensional<'a>(arr: Array<'a, f32>, arg: &str) -> Array<'a, f32> {
    // The Array API does not expose the dimensions: take its (detoasted)
    // ArrayType, read the header, and wrap the same pointer again.
    let ptr = arr.into_array_type();
    // SAFETY: `ptr` is the valid, detoasted ArrayType the argument was read
    // into, allocated in (or living beyond) the call's memory context.
    let ndim = unsafe { (*ptr).ndim };
    if ndim > 1 {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("{arg} must be a one-dimensional array, not an array of {ndim} dimensions"),
            None,
            Some("A vector is a one-dimensional real[]; pass one row of a matrix, or flatten it explicitly."),
        );
    }
    // SAFETY: as above; it is already detoasted, so no copy is made.
    unsafe { Array::<f32>::from_polymorphic_datum(pg_sys::Datum::from(ptr), false, pg_sys::FLOAT4ARRAYOID) }
        .unwrap_or_else(|| raise(PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, format!("{arg} is not a usable vector"), None, None))
}

/// Every `real[]` argument of a vector function is read through here: it
/// must be one-dimensional (22000) and hold no NULL elements (22004).
pub fn as_vector<'a>(arr: Array<'a, f32>, arg: &str) -> Vector<'a> {
    let arr = one_dimensional(arr, arg);
    if arr.contains_nulls() {
        raise(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            format!("{arg} contains NULL elements"),
            None,
            Some("Vectors must not contain NULLs."),
        );
    }
    if let Err(e) = arr.as_slice() {
        raise(PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, format!("{arg} is not a usable vector"), Some(e.to_string()), None);
    }
    Vector(arr)
}

fn apply(a: Array<'_, f32>, b: Array<'_, f32>, f: fn(&[f32], &[f32]) -> Result<f64, persona_linalg::VecError>) -> f64 {
    f(&as_vector(a, "first vector"), &as_vector(b, "second vector")).unwrap_or_else(|e| raise_vec_error(e))
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
