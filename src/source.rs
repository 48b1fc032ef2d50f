//! Sources: the caller's tables, views or parenthesised queries that persona
//! reads. One function turns a source into a FROM item, for the Rust and the
//! PL/pgSQL code alike; a source that is neither is an ERROR, never SQL
//! passed through as it came.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::errors::{raise, raise_spi_error};

/// A parenthesised query as it is, otherwise the (quoted, schema-qualified
/// where needed) name of an existing table or view. 22023 for an empty
/// source, 42P01 for a missing relation.
pub fn from_item(source: &str, argument: &str) -> String {
    let trimmed = source.trim();
    if trimmed.is_empty() {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("{argument} must name a table, a view or a query in parentheses"),
            None,
            None,
        );
    }
    if trimmed.starts_with('(') {
        if !trimmed.ends_with(')') {
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("{argument} starts with \"(\" but does not end with \")\""),
                None,
                Some("A query source is one query in parentheses, for example (SELECT user_id, item_id, ts FROM events)."),
            );
        }
        return trimmed.to_owned();
    }
    // to_regclass() answers NULL (never an error) for a missing relation and
    // for a string that is no name at all.
    let name = Spi::get_one_with_args::<String>("SELECT pg_catalog.to_regclass($1)::text", &[trimmed.into()])
        .unwrap_or_else(|e| raise_spi_error("look up the source", e));
    match name {
        Some(name) => name,
        None => raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
            format!("relation \"{trimmed}\" does not exist"),
            None,
            Some(&format!("The {argument} argument takes a table or view name, or a query in parentheses.")),
        ),
    }
}

/// `persona._source(source, argument)`: [`from_item`] for PL/pgSQL.
#[pg_extern(stable, parallel_safe, name = "_source")]
fn source_sql(source: Option<&str>, argument: Option<&str>) -> String {
    from_item(source.unwrap_or(""), crate::errors::not_null(argument, "argument"))
}
