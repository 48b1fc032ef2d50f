//! persona: user profiles, segments and recommendations inside PostgreSQL.
//!
//! This crate is the thin SQL layer. The maths lives in Postgres-free crates
//! under `crates/` (`persona-embed` for the sentence model, `persona-linalg`
//! for vector maths); the modules here map SQL arguments onto them, check for
//! interrupts between batches and turn failures into ERRORs with SQLSTATEs.

use pgrx::prelude::*;

mod embed;
mod errors;
mod gucs;
mod models;
mod runtime;
mod similarity;

::pgrx::pg_module_magic!(name, version);

// Catalog objects that functions below read: created before any function.
extension_sql_file!("../sql/catalog.sql", name = "catalog", bootstrap);
// PL/pgSQL procedures built on the Rust functions.
extension_sql_file!("../sql/embed_column.sql", name = "embed_column", requires = [embed::embed_batch]);
// COMMENT ON for every object, once everything exists.
extension_sql_file!("../sql/comments.sql", name = "comments", finalize);

/// Runs when the library is loaded into a backend (or into the postmaster
/// under `shared_preload_libraries`). Only settings are defined here: models
/// and threads are started lazily by the first call that needs them.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    gucs::init();
}

#[cfg(any(test, feature = "pg_test"))]
#[path = "../pg_test/mod.rs"]
#[pg_schema]
mod tests;

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
