//! persona: user profiles, segments and recommendations inside PostgreSQL.
//!
//! This crate is the thin SQL layer. The maths lives in Postgres-free crates
//! under `crates/` (`persona-embed` for the sentence model, `persona-linalg`
//! for vector maths); the modules here map SQL arguments onto them, check for
//! interrupts between batches and turn failures into ERRORs with SQLSTATEs.

use pgrx::prelude::*;

mod access;
mod aggregates;
mod clv;
mod embed;
mod embedder;
mod errors;
mod gucs;
mod item2vec;
mod item_factors;
mod jsonb;
mod models;
mod progress;
mod recommend;
mod report;
mod risk;
mod runtime;
mod segments;
mod shmem;
mod similarity;
mod source;
mod spi;
mod sql_text;
mod text;
mod vector_scan;
mod vectors;

::pgrx::pg_module_magic!(name, version);

// Catalog objects that functions below read: created before any function.
extension_sql_file!("../sql/catalog.sql", name = "catalog", bootstrap);
// PL/pgSQL procedures built on the Rust functions.
extension_sql_file!("../sql/embed_column.sql", name = "embed_column", requires = [embed::embed_batch]);
extension_sql_file!(
    "../sql/aggregates.sql",
    name = "aggregates",
    requires = [
        aggregates::vec_avg_accum,
        aggregates::vec_avg_weighted_accum,
        aggregates::vec_avg_combine,
        aggregates::vec_avg_serial,
        aggregates::vec_avg_deserial,
        aggregates::vec_avg_final
    ]
);
extension_sql_file!(
    "../sql/clv.sql",
    name = "clv",
    requires = [
        clv::bgnbd_fit_accum,
        clv::bgnbd_fit_final,
        clv::gamma_gamma_fit_accum,
        clv::gamma_gamma_fit_final,
        clv::clv_fit_combine,
        clv::clv_fit_serial,
        clv::clv_fit_deserial
    ]
);
// Reading sources from PL/pgSQL: column checks, a model owner's sources run as that owner.
extension_sql_file!("../sql/sources.sql", name = "sources", requires = [source::source_sql, access::as_owner_sql]);
extension_sql_file!(
    "../sql/profiles.sql",
    name = "profiles",
    requires = ["sources", "aggregates", "clv", vectors::profile_vector, clv::bgnbd_expected_purchases, clv::bgnbd_probability_alive, clv::gamma_gamma_expected_spend]
);
extension_sql_file!(
    "../sql/segments.sql",
    name = "segments",
    requires = ["profiles", segments::score::kmeans_nearest]
);
// Recommendation tables and the view persona.recommendations.
extension_sql_file!("../sql/recommend.sql", name = "recommend", requires = ["segments"]);
// Risk scores with reasons, rings of near-identical accounts.
extension_sql_file!("../sql/risk.sql", name = "risk", requires = ["segments", risk::score_risks]);
// Columns whose vectors the embedder keeps fresh.
extension_sql_file!("../sql/embed_on_change.sql", name = "embed_on_change", requires = ["embed_column", embedder::embedder_notify]);
extension_sql_file!("../sql/embed_backlog.sql", name = "embed_backlog", requires = ["embed_on_change"]);
// Row-level security on model rows, sharing, dropping, erasure.
extension_sql_file!("../sql/security.sql", name = "security", requires = ["recommend", "risk", access::use_sql]);
// COMMENT ON for every object, once everything exists.
extension_sql_file!("../sql/comments.sql", name = "comments", finalize);

/// Runs when the library is loaded into a backend (or into the postmaster
/// under `shared_preload_libraries`). Settings are defined here; under
/// preloading also the shared memory areas and the embedder worker. Models
/// and threads are started lazily by the first call that needs them.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    gucs::init();
    if shmem::preloading() {
        embedder::register();
        progress::register();
        shmem::install_hooks();
    }
}

// The #[pg_test]s live in pg_test/ (a proc-macro attribute cannot take a
// file module, so the file is included).
#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    include!("../pg_test/mod.rs");
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
