//! The embedder worker: one copy of each model for all sessions.
//!
//! With persona in `shared_preload_libraries`, a background worker owns the
//! models and the inference threads. Backends put their texts into shared
//! memory slots (`queue`), wake it and wait on their latch (`client`); the
//! worker batches what all sessions sent (`worker`). It also starts the
//! refreshers of fresh columns (`fresh`). Without the preload, or while no
//! worker runs, `persona.embed()` embeds in the backend as before.

pub mod client;
pub mod fresh;
mod queue;
mod worker;

use std::sync::atomic::Ordering;
use std::time::Duration;

use pgrx::bgworkers::{BackgroundWorkerBuilder, BgWorkerStartTime};
use pgrx::prelude::*;

/// Registers the shared area and the worker; `_PG_init` under preloading.
pub fn register() {
    queue::AREA.register();
    BackgroundWorkerBuilder::new("persona embedder")
        .set_type("persona embedder")
        .set_library("persona")
        .set_function("persona_embedder_main")
        .enable_shmem_access(None)
        .set_start_time(BgWorkerStartTime::PostmasterStart)
        .set_restart_time(Some(Duration::from_secs(1)))
        .load();
}

/// `persona._embedder_notify(owner)`: called by fresh-column triggers.
#[pg_extern(volatile, parallel_unsafe, name = "_embedder_notify")]
fn embedder_notify(owner: Option<pg_sys::Oid>) {
    if let Some(owner) = owner {
        fresh::notify(owner);
    }
}

/// One row: how this session embeds, and the worker's state.
#[pg_extern(volatile, parallel_safe, name = "embedder_status")]
#[allow(clippy::type_complexity)]
fn embedder_status() -> TableIterator<
    'static,
    (
        name!(mode, String),
        name!(pid, Option<i32>),
        name!(started_at, Option<pgrx::datum::TimestampWithTimeZone>),
        name!(models, Vec<String>),
        name!(queued, i32),
        name!(running, i32),
        name!(batches, i64),
        name!(texts, i64),
        name!(texts_per_second, Option<f64>),
    ),
> {
    let Some(shared) = queue::shared() else {
        return TableIterator::once(("in-process (persona is not in shared_preload_libraries)".to_owned(), None, None, Vec::new(), 0, 0, 0, 0, None));
    };
    let pid = shared.worker();
    let mode = match (pid, crate::gucs::use_embedder()) {
        (Some(_), true) => "worker",
        (Some(_), false) => "in-process (persona.use_embedder is off)",
        (None, _) => "in-process (the embedder worker is not running)",
    };
    let started = pid.and_then(|_| {
        pgrx::datum::TimestampWithTimeZone::try_from(shared.started_at.load(Ordering::Acquire)).ok()
    });
    let (queued, running) = shared.depth();
    let texts = shared.texts.load(Ordering::Relaxed);
    let busy = shared.busy_micros.load(Ordering::Relaxed) as f64 / 1e6;
    TableIterator::once((
        mode.to_owned(),
        pid,
        started,
        shared.model_names(),
        queued as i32,
        running as i32,
        shared.batches.load(Ordering::Relaxed) as i64,
        texts as i64,
        (busy > 0.0).then(|| texts as f64 / busy),
    ))
}

extension_sql!(
    r#"
CREATE VIEW persona.embedder AS SELECT * FROM persona.embedder_status();
GRANT SELECT ON persona.embedder TO PUBLIC;
REVOKE ALL ON FUNCTION persona._embedder_notify(oid) FROM PUBLIC;
COMMENT ON VIEW persona.embedder IS 'How this session embeds text (mode: worker or in-process, and why) and the shared embedder worker: its pid, start, loaded models, requests queued and running, forward passes, texts embedded and texts per second of forward-pass time since it started.';
COMMENT ON COLUMN persona.embedder.mode IS 'worker: this session embeds through the shared worker; in-process, with the reason: it loads its own copy of each model.';
COMMENT ON COLUMN persona.embedder.pid IS 'The worker process (a SIGTERM restarts it; it is not a backend, so pg_terminate_backend does not apply).';
COMMENT ON COLUMN persona.embedder.started_at IS 'When the running worker started.';
COMMENT ON COLUMN persona.embedder.models IS 'Models the worker has loaded, by the name of the first request for each.';
COMMENT ON COLUMN persona.embedder.queued IS 'Requests waiting for the worker, from all sessions (a request is up to 64 texts).';
COMMENT ON COLUMN persona.embedder.running IS 'Requests in the worker''s current round.';
COMMENT ON COLUMN persona.embedder.batches IS 'Forward passes since the server started (across worker restarts).';
COMMENT ON COLUMN persona.embedder.texts IS 'Texts embedded by the worker since the server started.';
COMMENT ON COLUMN persona.embedder.texts_per_second IS 'Texts per second of forward-pass time (not of wall time).';
COMMENT ON FUNCTION persona.embedder_status() IS 'The row of persona.embedder.';
COMMENT ON FUNCTION persona._embedder_notify(oid) IS 'Internal: fresh-column triggers call it; at commit the embedder worker learns that this database has rows queued for that owner.';
"#,
    name = "embedder_view",
    requires = [embedder_status, embedder_notify]
);
