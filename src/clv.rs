//! Customer lifetime value in SQL: BG/NBD and Gamma-Gamma fitted by maximum
//! likelihood as aggregates, and functions that apply a fitted model.
//!
//! The fit aggregates collect their rows (3 or 2 float8 per customer) in an
//! `internal` state with combine, serial and deserial functions, so the scan
//! can run in parallel workers; the optimiser runs once, in the final function.

use persona_clv::{BgNbd, Customer, GammaGamma, SpendRecord};
use pgrx::prelude::*;
use pgrx::{Internal, PgMemoryContexts, PgSqlErrorCode};

use crate::errors::{raise, raise_clv_error, raise_clv_fit_error};

/// Rows of `width` float8 values, flattened.
#[derive(Default)]
struct Rows {
    values: Vec<f64>,
    skipped: u64,
}

fn agg_rows(state: &mut Internal, fcinfo: pg_sys::FunctionCallInfo) -> &mut Rows {
    let ctx = crate::aggregates::agg_context(fcinfo);
    // SAFETY: the state is only ever a Rows made here, in the aggregate context.
    unsafe { PgMemoryContexts::For(ctx).switch_to(|_| state.get_or_insert_default::<Rows>()) }
}

fn push(state: &mut Internal, fcinfo: pg_sys::FunctionCallInfo, row: &[Option<f64>]) {
    let rows = agg_rows(state, fcinfo);
    if row.iter().all(Option::is_some) {
        rows.values.extend(row.iter().flatten());
    } else {
        rows.skipped += 1;
    }
}

fn combine(mut state: Internal, other: Internal, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    // SAFETY: see agg_rows.
    if let Some(o) = unsafe { other.get::<Rows>() } {
        let rows = agg_rows(&mut state, fcinfo);
        rows.values.extend_from_slice(&o.values);
        rows.skipped += o.skipped;
    }
    state
}

fn serial(state: Internal) -> Vec<u8> {
    // SAFETY: see agg_rows.
    let Some(rows) = (unsafe { state.get::<Rows>() }) else { return Vec::new() };
    let mut out = Vec::with_capacity(8 * (rows.values.len() + 1));
    out.extend_from_slice(&rows.skipped.to_le_bytes());
    for v in &rows.values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

fn deserial(bytes: &[u8], fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    let mut state = Internal::from(None);
    let rows = agg_rows(&mut state, fcinfo);
    let mut words = bytes.chunks_exact(8).map(|c| <[u8; 8]>::try_from(c).unwrap_or([0; 8]));
    rows.skipped = words.next().map(u64::from_le_bytes).unwrap_or(0);
    rows.values = words.map(f64::from_le_bytes).collect();
    state
}



fn set_field<T: IntoDatum>(tuple: &mut PgHeapTuple<'_, AllocatedByRust>, type_name: &str, name: &str, v: T) {
    if let Err(e) = tuple.set_by_name(name, v) {
        raise(PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH, format!("persona.{type_name}.{name}: {e}"), None, None);
    }
}

fn notice_skipped(rows: &Rows, model: &str) {
    if rows.skipped > 0 {
        pgrx::notice!("{model}: skipped {} rows with NULLs", rows.skipped);
    }
}

// ---- BG/NBD -------------------------------------------------------------

#[pg_extern(immutable, parallel_safe)]
fn bgnbd_fit_accum(
    mut state: Internal,
    frequency: Option<f64>,
    recency: Option<f64>,
    t: Option<f64>,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Internal {
    push(&mut state, fcinfo, &[frequency, recency, t]);
    state
}

#[pg_extern(immutable, parallel_safe)]
fn clv_fit_combine(state: Internal, other: Internal, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    combine(state, other, fcinfo)
}

#[pg_extern(immutable, parallel_safe, strict)]
fn clv_fit_serial(state: Internal) -> Vec<u8> {
    serial(state)
}

#[pg_extern(immutable, parallel_safe, strict)]
fn clv_fit_deserial(bytes: &[u8], _unused: Internal, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    deserial(bytes, fcinfo)
}

#[pg_extern(immutable, parallel_safe)]
fn bgnbd_fit_final(state: Internal) -> Option<pgrx::composite_type!('static, "bgnbd_model")> {
    // SAFETY: see agg_rows.
    let rows = unsafe { state.get::<Rows>() }?;
    notice_skipped(rows, "bgnbd_fit");
    let customers: Vec<Customer> =
        rows.values.chunks_exact(3).map(|c| Customer { x: c[0], t_x: c[1], t: c[2] }).collect();
    if customers.is_empty() {
        return None;
    }
    // Each likelihood evaluation is a pass over all rows: check for cancel between them.
    let m = BgNbd::fit_with(&customers, &|| {
        check_for_interrupts!();
    }).unwrap_or_else(|e| raise_clv_fit_error("BG/NBD", e));
    let mut tuple = PgHeapTuple::new_composite_type("persona.bgnbd_model").ok()?;
    for (name, v) in [("r", m.r), ("alpha", m.alpha), ("a", m.a), ("b", m.b), ("log_likelihood", m.log_likelihood)] {
        set_field(&mut tuple, "bgnbd_model", name, v);
    }
    set_field(&mut tuple, "bgnbd_model", "customers", m.n as i64);
    Some(tuple)
}

fn bgnbd_from(model: &pgrx::composite_type!("bgnbd_model")) -> BgNbd {
    let get = |name: &str| -> f64 {
        match model.get_by_name::<f64>(name) {
            Ok(Some(v)) if v.is_finite() && v > 0.0 => v,
            _ => raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("BG/NBD parameter {name} must be a positive number"),
                None,
                Some("Use the result of persona.bgnbd_fit()."),
            ),
        }
    };
    BgNbd { r: get("r"), alpha: get("alpha"), a: get("a"), b: get("b"), log_likelihood: 0.0, n: 0 }
}

fn customer(frequency: f64, recency: f64, t: f64) -> Customer {
    let c = Customer { x: frequency, t_x: recency, t };
    let ok = [frequency, recency, t].iter().all(|v| v.is_finite())
        && frequency >= 0.0
        && recency >= 0.0
        && recency <= t
        && t > 0.0;
    if !ok {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("invalid customer (frequency {frequency}, recency {recency}, T {t})"),
            Some("Need frequency >= 0 and 0 <= recency <= T, T > 0.".to_owned()),
            None,
        );
    }
    c
}

/// Expected purchases in the next `horizon` time units (same unit as recency and T).
#[pg_extern(immutable, strict, parallel_safe)]
fn bgnbd_expected_purchases(
    model: pgrx::composite_type!("bgnbd_model"),
    frequency: f64,
    recency: f64,
    t: f64,
    horizon: f64,
) -> f64 {
    if !(horizon.is_finite() && horizon >= 0.0) {
        raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, format!("horizon must be >= 0, not {horizon}"), None, None);
    }
    bgnbd_from(&model)
        .expected_purchases(&customer(frequency, recency, t), horizon)
        .unwrap_or_else(|e| raise_clv_error("bgnbd_expected_purchases", e))
}

/// Probability that the customer has not dropped out.
#[pg_extern(immutable, strict, parallel_safe)]
fn bgnbd_probability_alive(model: pgrx::composite_type!("bgnbd_model"), frequency: f64, recency: f64, t: f64) -> f64 {
    bgnbd_from(&model)
        .probability_alive(&customer(frequency, recency, t))
        .unwrap_or_else(|e| raise_clv_error("bgnbd_probability_alive", e))
}

// ---- Gamma-Gamma --------------------------------------------------------

#[pg_extern(immutable, parallel_safe)]
fn gamma_gamma_fit_accum(
    mut state: Internal,
    frequency: Option<f64>,
    mean_spend: Option<f64>,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Internal {
    push(&mut state, fcinfo, &[frequency, mean_spend]);
    state
}

#[pg_extern(immutable, parallel_safe)]
fn gamma_gamma_fit_final(state: Internal) -> Option<pgrx::composite_type!('static, "gamma_gamma_model")> {
    // SAFETY: see agg_rows.
    let rows = unsafe { state.get::<Rows>() }?;
    notice_skipped(rows, "gamma_gamma_fit");
    let records: Vec<SpendRecord> =
        rows.values.chunks_exact(2).map(|c| SpendRecord { x: c[0], mean_spend: c[1] }).collect();
    if records.is_empty() {
        return None;
    }
    let m = GammaGamma::fit_with(&records, &|| {
        check_for_interrupts!();
    })
        .unwrap_or_else(|e| raise_clv_fit_error("Gamma-Gamma", e));
    let mut tuple = PgHeapTuple::new_composite_type("persona.gamma_gamma_model").ok()?;
    for (name, v) in [("p", m.p), ("q", m.q), ("gamma", m.gamma), ("log_likelihood", m.log_likelihood)] {
        set_field(&mut tuple, "gamma_gamma_model", name, v);
    }
    set_field(&mut tuple, "gamma_gamma_model", "customers", m.n as i64);
    Some(tuple)
}

/// Expected spend per future purchase of a customer.
#[pg_extern(immutable, strict, parallel_safe)]
fn gamma_gamma_expected_spend(model: pgrx::composite_type!("gamma_gamma_model"), frequency: f64, mean_spend: f64) -> f64 {
    let get = |name: &str| -> f64 {
        match model.get_by_name::<f64>(name) {
            Ok(Some(v)) if v.is_finite() && v > 0.0 => v,
            _ => raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("Gamma-Gamma parameter {name} must be a positive number"),
                None,
                Some("Use the result of persona.gamma_gamma_fit()."),
            ),
        }
    };
    if !(frequency.is_finite() && mean_spend.is_finite()) || frequency < 0.0 || mean_spend < 0.0 {
        raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, "frequency and mean_spend must be >= 0".to_owned(), None, None);
    }
    let m = GammaGamma { p: get("p"), q: get("q"), gamma: get("gamma"), log_likelihood: 0.0, n: 0 };
    m.expected_spend(&SpendRecord { x: frequency, mean_spend })
        .unwrap_or_else(|e| raise_clv_error("gamma_gamma_expected_spend", e))
}
