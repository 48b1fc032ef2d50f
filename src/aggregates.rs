//! `persona.vec_avg(real[])` and `persona.vec_avg(real[], weight float8)`:
//! element-wise (weighted) mean as a parallel-safe aggregate.
//!
//! The state is a `persona_linalg::MeanAccumulator` held as `internal` in the
//! aggregate's memory context (freed with it), so a row costs one pass over
//! its elements and no allocation. Combine, serial and deserial functions let
//! Postgres run it in parallel workers (`Partial Aggregate`).

use persona_linalg::MeanAccumulator;
use pgrx::prelude::*;
use pgrx::{Internal, PgMemoryContexts, PgSqlErrorCode};

use crate::errors::{raise, raise_mean_error};
use crate::similarity::as_vector;

/// The aggregate's long-lived memory context; ERROR when not called as an
/// aggregate. Shared by every `internal`-state aggregate in persona.
pub fn agg_context(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::MemoryContext {
    let mut ctx: pg_sys::MemoryContext = std::ptr::null_mut();
    // SAFETY: fcinfo is the live call's; AggCheckCallContext only reads it.
    if unsafe { pg_sys::AggCheckCallContext(fcinfo, &mut ctx) } == 0 || ctx.is_null() {
        raise(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "aggregate support function called outside an aggregate".to_owned(),
            None,
            None,
        );
    }
    ctx
}

/// The accumulator in `state`, created in the aggregate context on first use.
fn accumulator(state: &mut Internal, fcinfo: pg_sys::FunctionCallInfo) -> &mut MeanAccumulator {
    let ctx = agg_context(fcinfo);
    // SAFETY: the state datum is only ever a MeanAccumulator made here, and it
    // lives in the aggregate context, which outlives every call using it.
    unsafe { PgMemoryContexts::For(ctx).switch_to(|_| state.get_or_insert_default::<MeanAccumulator>()) }
}


#[pg_extern(immutable, parallel_safe)]
fn vec_avg_accum(mut state: Internal, v: Option<Array<'_, f32>>, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    let acc = accumulator(&mut state, fcinfo);
    if let Some(v) = v {
        acc.add(&as_vector(v, "vector"), 1.0).unwrap_or_else(|e| raise_mean_error(e));
    }
    state
}

#[pg_extern(immutable, parallel_safe)]
fn vec_avg_weighted_accum(
    mut state: Internal,
    v: Option<Array<'_, f32>>,
    weight: Option<f64>,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Internal {
    let acc = accumulator(&mut state, fcinfo);
    // A row with a NULL vector or a NULL weight is skipped, as avg() skips NULLs.
    if let (Some(v), Some(w)) = (v, weight) {
        acc.add(&as_vector(v, "vector"), w).unwrap_or_else(|e| raise_mean_error(e));
    }
    state
}

#[pg_extern(immutable, parallel_safe)]
fn vec_avg_combine(mut state: Internal, other: Internal, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    // SAFETY: both states are MeanAccumulators made by this module.
    let other_acc = unsafe { other.get::<MeanAccumulator>() };
    if let Some(other_acc) = other_acc {
        let acc = accumulator(&mut state, fcinfo);
        acc.merge(other_acc).unwrap_or_else(|e| raise_mean_error(e));
    }
    state
}

#[pg_extern(immutable, parallel_safe, strict)]
fn vec_avg_serial(state: Internal) -> Vec<u8> {
    // SAFETY: see vec_avg_combine.
    unsafe { state.get::<MeanAccumulator>() }.map(MeanAccumulator::to_bytes).unwrap_or_default()
}

#[pg_extern(immutable, parallel_safe, strict)]
fn vec_avg_deserial(bytes: &[u8], _unused: Internal, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    let decoded = MeanAccumulator::from_bytes(bytes).unwrap_or_else(|e| raise_mean_error(e));
    let mut state = Internal::from(None);
    *accumulator(&mut state, fcinfo) = decoded;
    state
}

#[pg_extern(immutable, parallel_safe)]
fn vec_avg_final(state: Internal) -> Option<Vec<f32>> {
    // SAFETY: see vec_avg_combine.
    unsafe { state.get::<MeanAccumulator>() }.and_then(MeanAccumulator::mean)
}
