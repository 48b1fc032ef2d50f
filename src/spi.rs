//! Reading query results: a read that fails is an ERROR, never a default.

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::SpiHeapTupleData;

use crate::errors::raise_spi_error;

/// The first column of the first row, or None when there is no row or the
/// value is NULL; `what` says what the read was for, in the ERROR.
pub fn first<T: FromDatum + IntoDatum>(what: &str, query: &str, args: &[DatumWithOid<'_>]) -> Option<T> {
    Spi::connect(|client| {
        let table = client.select(query, Some(1), args).unwrap_or_else(|e| raise_spi_error(what, e));
        if table.is_empty() {
            return None;
        }
        table.first().get_one::<T>().unwrap_or_else(|e| raise_spi_error(what, e))
    })
}

/// Typed access to a result row's columns (1-based): None for NULL, an
/// ERROR for a value that is not of the type asked for.
pub trait Columns {
    fn col<T: FromDatum + IntoDatum>(&self, ordinal: usize) -> Option<T>;
}

impl Columns for SpiHeapTupleData<'_> {
    fn col<T: FromDatum + IntoDatum>(&self, ordinal: usize) -> Option<T> {
        self.get::<T>(ordinal).unwrap_or_else(|e| raise_spi_error(&format!("read column {ordinal} of a result"), e))
    }
}
