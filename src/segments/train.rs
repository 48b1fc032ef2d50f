//! `persona.kmeans_train()`: SQL arguments to settings, the driver's
//! progress to NOTICEs (one per step: inertia, moved rows, time), its
//! parallel work to the backend's thread pool, and the result to a new version.

use std::time::Instant;

use persona_cluster::{train, Progress, TrainParams};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use super::read::first_read;
use super::store::store;
use super::{mode, raise_train_error, Trained};
use crate::access::Kind;
use crate::errors::{raise, raise_spi_error as spi_err, required};
use crate::runtime::run_on_pool;
use crate::sql_text::{quote_ident, quote_literal as literal};

/// Trains K-Means on (key, vector) rows of a table or query and stores the
/// result as a new version of the model.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn kmeans_train(
    model: Option<&str>,
    source: default!(Option<&str>, "NULL"),
    vector_col: default!(Option<&str>, "'profile_vec'"),
    k: default!(Option<i32>, "NULL"),
    key_col: default!(Option<&str>, "'user_id'"),
    k_min: default!(Option<i32>, 2),
    k_max: default!(Option<i32>, 10),
    metric: default!(Option<&str>, "'cosine'"),
    n_init: default!(Option<i32>, 3),
    max_iter: default!(Option<i32>, 100),
    tol: default!(Option<f64>, 1e-4),
    seed: default!(Option<i64>, 1),
    sample_size: default!(Option<i32>, 5_000),
    init: default!(Option<&str>, "'k-means++'"),
    profiles: default!(Option<&str>, "NULL"),
    texts: default!(Option<&str>, "NULL"),
    k_anonymity_floor: default!(Option<i32>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(version, i32),
        name!(k, i32),
        name!(inertia, f64),
        name!(silhouette, Option<f64>),
        name!(iterations, i32),
        name!(rows, i64),
        name!(training_mode, String),
        name!(seconds, f64),
    ),
> {
    // NULL k means "choose k"; NULL source/profiles/texts mean "not given".
    required!(model, vector_col, key_col, k_min, k_max, metric, n_init, max_iter, tol, seed, sample_size, init);
    // Before any work: one training of a name at a time, and only its owner's.
    crate::access::claim(Kind::Kmeans, model);
    let floor = k_anonymity_floor;
    if let Some(f) = floor.filter(|&f| f < 1) {
        raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, format!("k_anonymity_floor must be at least 1, not {f}"), None, None);
    }
    let args = TrainParams {
        k: k.map(i64::from),
        k_min: k_min.into(),
        k_max: k_max.into(),
        metric,
        init,
        n_init: n_init.into(),
        max_iter: max_iter.into(),
        tol,
        seed: seed as u64,
        sample_size: sample_size.into(),
    }
    .check()
    .unwrap_or_else(|e| raise_train_error(e));
    let (source_text, from, key_col, vector_col) = resolve_source(source, profiles, key_col, vector_col);
    let texts_from = texts.map(|t| crate::source::from_item(t, "texts"));
    let query = format!(
        "SELECT (s.{k})::bigint, (s.{v})::real[] FROM {from} s",
        k = quote_ident(&key_col),
        v = quote_ident(&vector_col)
    );
    let budget = crate::gucs::kmeans_work_mem_bytes();
    let started = Instant::now();
    let job = crate::progress::Job::start("kmeans_train", "reading rows", "rows", None);
    let read = first_read(&query, args.metric(), args.sample_size(), args.seed(), budget);
    let read_seconds = started.elapsed().as_secs_f64();
    if read.skipped > 0 {
        pgrx::notice!("kmeans_train: skipped {} rows with a NULL key or vector", read.skipped);
    }
    if read.keys.is_empty() {
        pgrx::notice!("kmeans_train: no rows with a vector in the source; nothing trained");
        return TableIterator::once((0, 0, 0.0, None, 0, 0, "none".to_owned(), 0.0));
    }
    // Iterations count on across restarts (max_iter each, the most there
    // can be), so a restart that converges early skips ahead; in passes
    // there is one run of up to max_iter passes.
    let (n_init_all, max_iter_all) = (i64::from(n_init), i64::from(max_iter));
    let in_memory_rows = std::cell::Cell::new(true);
    let training = || {
        if in_memory_rows.get() {
            job.phase(&format!("run 1/{n_init}"), "iterations", Some(n_init_all * max_iter_all));
        } else {
            job.phase("pass 1", "passes", Some(max_iter_all));
        }
    };
    let progress = |p: Progress| match p {
        Progress::Started { rows, dim, in_memory } => {
            pgrx::notice!("kmeans_train: {rows} rows of {dim} dimensions read in {read_seconds:.3} s, {}", mode(in_memory));
            in_memory_rows.set(in_memory);
            match k {
                Some(_) => training(),
                None => job.phase("choosing k by silhouette", "candidates", Some(i64::from(k_max - k_min + 1).max(1))),
            }
        }
        Progress::Candidate { k, inertia, silhouette } => {
            pgrx::notice!("kmeans_train: k = {k}: inertia {inertia:.4}, silhouette {silhouette:.4}");
            job.add(1);
        }
        Progress::ChoseK { k, sample_rows } => {
            pgrx::notice!("kmeans_train: chose k = {k} by silhouette on {sample_rows} rows");
            training();
        }
        Progress::Iteration { run, runs, iteration, inertia, moved, seconds } => {
            pgrx::notice!("kmeans_train: run {run}/{runs}, iteration {iteration}: inertia {inertia:.6}, moved {moved}, {seconds:.3} s");
            job.step((run as i64 - 1) * max_iter_all + iteration as i64, &format!("run {run}/{runs}, iteration {iteration}"));
        }
        Progress::Pass { pass, inertia, max_centroid_shift, seconds } => {
            pgrx::notice!(
                "kmeans_train: pass {pass}: inertia {inertia:.6}, max centroid shift {max_centroid_shift:.6}, {seconds:.3} s"
            );
            job.step(pass as i64, &format!("pass {pass}"));
        }
        Progress::Assigned => {
            pgrx::debug1!("kmeans_train: assigned every row at {:.3} s", started.elapsed().as_secs_f64());
            job.phase("spreads and silhouette", "steps", None);
        }
        Progress::Scored => {
            pgrx::debug1!("kmeans_train: spreads and silhouette done at {:.3} s", started.elapsed().as_secs_f64());
            job.phase("storing the version", "steps", None);
        }
    };
    // Interrupts are Postgres' own ERROR, raised here between steps and
    // chunks; the maths runs on the pool, whose threads never call Postgres.
    let stop = || {
        check_for_interrupts!();
        false
    };
    let parallel = |work: &mut (dyn FnMut() + Send)| run_on_pool(work);
    let hooks = persona_cluster::Hooks { stop: &stop, progress: &progress, parallel: &parallel };
    let segmentation = train(&read.rows, &args, &hooks).unwrap_or_else(|e| raise_train_error(e));
    let trained = Trained { model: segmentation, keys: read.keys, skipped: read.skipped, seconds: started.elapsed().as_secs_f64() };
    let params = serde_json::json!({
        "key_col": key_col, "vector_col": vector_col, "k": k, "k_min": k_min, "k_max": k_max, "metric": metric,
        "n_init": n_init, "max_iter": max_iter, "tol": tol, "seed": seed, "sample_size": sample_size, "init": init,
        "texts": texts, "work_mem_bytes": budget,
    });
    let (version, _) = store(model, &source_text, &query, profiles, args.metric(), params, &trained, texts_from.as_deref(), floor);
    let t = &trained.model;
    TableIterator::once((
        version,
        t.k as i32,
        t.inertia,
        t.silhouette,
        t.iterations as i32,
        trained.keys.len() as i64,
        trained.mode().to_owned(),
        trained.seconds,
    ))
}

/// The rows to train on: a source with its key and vector columns (checked),
/// or a profile definition's vectors (readable by the caller). Returns the
/// source as recorded, the FROM item, and the two columns.
pub(super) fn resolve_source(source: Option<&str>, profiles: Option<&str>, key_col: &str, vector_col: &str) -> (String, String, String, String) {
    match (source, profiles) {
        (Some(s), None) => {
            let from = crate::source::from_item(s, "source");
            for (col, kind, arg) in [(key_col, "integer", "key_col"), (vector_col, "vector", "vector_col")] {
                Spi::run_with_args("SELECT persona._column_type($1, $2, $3, $4)", &[s.into(), col.into(), kind.into(), arg.into()])
                    .unwrap_or_else(|e| spi_err("check the source", e));
            }
            (s.to_owned(), from, key_col.to_owned(), vector_col.to_owned())
        }
        (None, Some(p)) => {
            crate::access::require_read(Kind::Profiles, p, "train on them");
            let from = format!("(SELECT user_id, profile_vec FROM persona.profiles WHERE name = {})", literal(p));
            (from.clone(), from, "user_id".to_owned(), "profile_vec".to_owned())
        }
        _ => raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "give either source or profiles".to_owned(),
            None,
            Some("source => 'table or (query)', or profiles => 'a name given to persona.build_profiles()'."),
        ),
    }
}
