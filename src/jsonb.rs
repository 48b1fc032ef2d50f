//! jsonb values read as their text and parsed here, not through pgrx's
//! `JsonB`: its conversion runs serde_json inside the argument unboxing and
//! panics (XX000, "failed to parse a jsonb value") on jsonb that Postgres
//! accepts but serde_json does not: nesting deeper than serde's recursion
//! limit of 128, or numbers beyond f64 such as 1e400. Here the parse error
//! becomes a 22023 naming the argument, and a value only passed on (read
//! from a query, returned) is never parsed at all.

use core::ffi::CStr;

use pgrx::callconv::{Arg, ArgAbi, BoxRet, FcInfo};
use pgrx::nullable::Nullable;
use pgrx::prelude::*;
use pgrx::{direct_function_call, PgSqlErrorCode};

use crate::errors::raise;

/// A jsonb value as jsonb_out writes it.
pub struct JsonbText(String);

impl JsonbText {
    /// The jsonb of a value persona made (serialising has no depth limit).
    pub fn from_value(v: &serde_json::Value) -> JsonbText {
        JsonbText(v.to_string())
    }

    /// The value, or 22023 naming `what` (`argument "options"`) when
    /// serde_json cannot hold it.
    pub fn parse(&self, what: &str) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or_else(|e| {
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("{what} is not JSON persona can read: {e}"),
                None,
                Some("Give a flat JSON object of numbers (nesting is limited to 128 levels, numbers to the range of float8)."),
            )
        })
    }
}

impl FromDatum for JsonbText {
    unsafe fn from_polymorphic_datum(datum: pg_sys::Datum, is_null: bool, _: pg_sys::Oid) -> Option<Self> {
        if is_null {
            return None;
        }
        // SAFETY: the datum is a jsonb (the argument's or column's declared
        // type); jsonb_out detoasts it and returns a palloc'd C string.
        let cstr = unsafe { direct_function_call::<&CStr>(pg_sys::jsonb_out, &[Some(datum)]) }?;
        // jsonb_out writes the database encoding; option names and numbers
        // are ASCII, so a lossy read changes nothing persona looks at.
        let text = cstr.to_string_lossy().into_owned();
        // SAFETY: the string was palloc'd by jsonb_out and is not used again.
        unsafe { pg_sys::pfree(cstr.as_ptr() as *mut core::ffi::c_void) };
        Some(JsonbText(text))
    }
}

impl IntoDatum for JsonbText {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        let c = std::ffi::CString::new(self.0).ok()?;
        // SAFETY: jsonb_in parses a C string and raises a Postgres ERROR (not
        // a panic) on bad input.
        unsafe { pgrx::direct_function_call_as_datum(pg_sys::jsonb_in, &[Some(pg_sys::Datum::from(c.as_ptr()))]) }
    }

    fn type_oid() -> pg_sys::Oid {
        pg_sys::JSONBOID
    }
}

// SAFETY: unboxed through FromDatum above, as pgrx does for its own JsonB.
unsafe impl<'fcx> ArgAbi<'fcx> for JsonbText {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // Only reached for a non-Option argument; persona takes jsonb as Option.
        unsafe { arg.unbox_arg_using_from_datum() }.unwrap_or_else(|| {
            raise(
                PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
                format!("argument {} must not be null", index + 1),
                None,
                None,
            )
        })
    }

    unsafe fn unbox_nullable_arg(arg: Arg<'_, 'fcx>) -> Nullable<Self> {
        unsafe { arg.unbox_arg_using_from_datum::<JsonbText>() }.into()
    }
}

// SAFETY: returned through IntoDatum above, as pgrx does for its own JsonB.
unsafe impl BoxRet for JsonbText {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        match self.into_datum() {
            // SAFETY: a jsonb datum made by jsonb_in for this call.
            Some(datum) => unsafe { fcinfo.return_raw_datum(datum) },
            None => fcinfo.return_null(),
        }
    }
}

pgrx::impl_sql_translatable!(JsonbText, "jsonb");
