//! The SQL side of progress: `persona._progress()` behind the view
//! `persona.progress`, and the functions PL/pgSQL jobs report with.

use pgrx::datum::{Interval, TimestampWithTimeZone};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use super::slots::{JOB_BYTES, UNIT_BYTES};
use super::{begin, local, now, rate_and_left, AREA};
use crate::errors::{raise, required};

fn bad(message: String, hint: Option<&str>) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, message, None, hint)
}

fn check_count(name: &str, value: Option<i64>) {
    if let Some(v) = value.filter(|&v| v < 0) {
        bad(format!("{name} must be 0 or more, not {v}"), None);
    }
}

/// Starts this session's report of a job run by PL/pgSQL (a job inside
/// another job of the session shows under the outer one's name).
#[pg_extern(volatile, parallel_unsafe, name = "_progress_begin")]
fn progress_begin(job: Option<&str>, phase: Option<&str>, unit: Option<&str>, total: Option<i64>) {
    required!(job, phase, unit);
    if job.is_empty() || job.len() > JOB_BYTES || !job.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        bad(
            format!("invalid job name \"{job}\""),
            Some("Use the SQL function's name: 1 to 32 lower-case letters, digits or underscores."),
        );
    }
    if unit.is_empty() || unit.len() > UNIT_BYTES {
        bad(format!("unit must be 1 to {UNIT_BYTES} bytes, not \"{unit}\""), Some("For example 'rows', 'users' or 'steps'."));
    }
    check_count("total", total);
    begin(job, phase, unit, total, true);
}

/// Updates the innermost job this session began with `_progress_begin`:
/// `done` units, and the phase and total when given. A lower count or a new
/// total starts a new count (for the rate). Does nothing when the innermost
/// job is not one (none, or a Rust job), so that a helper can report for
/// whichever job called it.
#[pg_extern(volatile, parallel_unsafe, name = "_progress_update")]
fn progress_update(done: Option<i64>, phase: default!(Option<&str>, "NULL"), total: default!(Option<i64>, "NULL")) {
    required!(done);
    check_count("done", Some(done));
    check_count("total", total);
    let Some(slots) = AREA.get() else { return };
    let mut l = local();
    let Some(f) = l.frames.last_mut().filter(|f| f.sql) else { return };
    if total.is_some() && total != f.total {
        f.total = total;
        f.counting_since = now();
    }
    f.set(done);
    if let Some(p) = phase {
        f.phase = super::slots::fit(p, super::slots::PHASE_BYTES).to_owned();
    }
    l.publish(slots);
}

/// Ends the innermost job this session began with `_progress_begin` (and
/// any job inside it); does nothing when there is none.
#[pg_extern(volatile, parallel_unsafe, name = "_progress_end")]
fn progress_end() {
    let Some(slots) = AREA.get() else { return };
    let mut l = local();
    if let Some(at) = l.frames.iter().rposition(|f| f.sql) {
        l.end_from(slots, at);
    }
}

/// Whether the current user may see a job of `role`: a member of it (as
/// for pg_stat_activity's query text), of pg_monitor, or a superuser.
fn may_see(role: u32) -> bool {
    // SAFETY: catalog lookups on the backend thread inside a transaction.
    unsafe {
        let me = pg_sys::GetUserId();
        pg_sys::has_privs_of_role(me, pg_sys::Oid::from(pg_sys::ROLE_PG_MONITOR)) || pg_sys::has_privs_of_role(me, pg_sys::Oid::from(role))
    }
}

fn name_of(p: *mut std::ffi::c_char) -> Option<String> {
    // SAFETY: a palloc'd NUL-terminated string from the catalog, or NULL.
    (!p.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// The rows of persona.progress the caller may see.
#[pg_extern(volatile, parallel_restricted, name = "_progress")]
#[allow(clippy::type_complexity)]
fn progress_rows() -> TableIterator<
    'static,
    (
        name!(pid, i32),
        name!(database, Option<String>),
        name!(role, Option<String>),
        name!(job, String),
        name!(phase, String),
        name!(done, i64),
        name!(total, Option<i64>),
        name!(unit, String),
        name!(rate, Option<f64>),
        name!(time_left, Option<Interval>),
        name!(started_at, Option<TimestampWithTimeZone>),
        name!(updated_at, Option<TimestampWithTimeZone>),
    ),
> {
    let Some(slots) = AREA.get() else { return TableIterator::new(Vec::new()) };
    // Copied out first: the lookups below may raise, and the copy holds no lock.
    let rows: Vec<_> = slots.rows().collect();
    let t = now();
    let out: Vec<_> = rows
        .into_iter()
        .filter(|r| may_see(r.role))
        .map(|r| {
            let (rate, left) = rate_and_left(&r, t);
            // SAFETY: catalog lookups that return NULL for a dropped object.
            let (database, role) = unsafe {
                (
                    name_of(pg_sys::get_database_name(pg_sys::Oid::from(r.database))),
                    name_of(pg_sys::GetUserNameFromId(pg_sys::Oid::from(r.role), true)),
                )
            };
            (
                r.pid,
                database,
                role,
                r.job,
                r.phase,
                r.done,
                r.total,
                r.unit,
                rate,
                left.map(Interval::from_micros),
                TimestampWithTimeZone::try_from(r.started).ok(),
                TimestampWithTimeZone::try_from(r.updated).ok(),
            )
        })
        .collect();
    TableIterator::new(out)
}

extension_sql!(
    r#"
CREATE VIEW persona.progress AS
SELECT pid, database, role, job, phase, done, total, unit, rate, time_left, started_at, updated_at
FROM persona._progress();
GRANT SELECT ON persona.progress TO PUBLIC;
COMMENT ON VIEW persona.progress IS
  'Every persona job running in the cluster, one row per backend, as pg_stat_progress_* shows VACUUM: which job, its phase, units done of the total, the rate and the time left. Rows of a job are visible to members of the role that runs it and of pg_monitor. A row goes when the job ends, fails or is cancelled. Needs shared_preload_libraries = ''persona''; without it the view is empty.';
COMMENT ON COLUMN persona.progress.pid IS 'Process id of the backend running the job (pg_stat_activity.pid).';
COMMENT ON COLUMN persona.progress.database IS 'Database the job runs in.';
COMMENT ON COLUMN persona.progress.role IS 'Role the job runs as (the current user when it started).';
COMMENT ON COLUMN persona.progress.job IS 'The SQL function running: embed_column, build_profiles, refresh_profiles, train_item2vec, train_item_factors, kmeans_train, gmm_train, train_recommender, recommend_all, evaluate_recommendations, report or score_risks. A job called by another in the same backend shows under the outer one, its name leading the phase.';
COMMENT ON COLUMN persona.progress.phase IS 'What the job is doing now, in a few words (for example ''run 1/3, iteration 7'').';
COMMENT ON COLUMN persona.progress.done IS 'Units done in the current phase; each phase counts from 0.';
COMMENT ON COLUMN persona.progress.total IS 'Units the current phase will do, or NULL when not known. For iterations it is the most there can be (max_iter per run): a run that converges sooner skips ahead.';
COMMENT ON COLUMN persona.progress.unit IS 'What done and total count: rows, iterations, users, items, steps...';
COMMENT ON COLUMN persona.progress.rate IS 'Units per second since the current phase began.';
COMMENT ON COLUMN persona.progress.time_left IS 'Time to finish the current phase at that rate; NULL when the total or the rate is not known.';
COMMENT ON COLUMN persona.progress.started_at IS 'When the job started.';
COMMENT ON COLUMN persona.progress.updated_at IS 'When the job last reported.';
COMMENT ON FUNCTION persona._progress() IS 'The rows of persona.progress that the caller may see.';
COMMENT ON FUNCTION persona._progress_begin(text, text, text, bigint) IS
  'Internal, for PL/pgSQL jobs: starts this session''s row of persona.progress (job name, phase, unit, total or NULL). The row stays across commits (for procedures that commit per batch) and goes at persona._progress_end(), on an abort of the transaction or savepoint it began in, and at backend exit. A job begun inside another shows under the outer one''s name.';
COMMENT ON FUNCTION persona._progress_update(bigint, text, bigint) IS
  'Internal, for PL/pgSQL jobs: units done, and the phase and total when not NULL, of the innermost job this session began with persona._progress_begin(); does nothing when there is none. A count lower than the last, or a new total, starts a new count (for the rate).';
COMMENT ON FUNCTION persona._progress_end() IS
  'Internal, for PL/pgSQL jobs: ends the innermost job this session began with persona._progress_begin() (the outer one, if any, is shown again); does nothing when there is none.';
"#,
    name = "progress_view",
    requires = [progress_rows, progress_begin, progress_update, progress_end]
);
