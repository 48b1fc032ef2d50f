//! Fresh columns in the background: which (database, role) pairs have
//! queued rows, and the short-lived workers that embed them.
//!
//! A commit whose triggers queued rows (`persona._embedder_notify`) marks
//! its database and the registration's owner pending and wakes the worker.
//! The worker starts a refresher for each pending pair: a dynamic
//! background worker connected to that database, which calls
//! `persona.embed_backlog_step()` one transaction at a time until nothing is
//! left, and exits. Each step runs *as the owner*, in a security-restricted
//! operation (`access::as_owner`, as REFRESH MATERIALIZED VIEW runs a view's
//! query), so it has the owner's own rights and nobody else's, and cannot
//! SET ROLE its way out. It connects as the bootstrap superuser only so that
//! owners without LOGIN (group roles) can be served: Postgres 15 refuses a
//! worker that connects as a NOLOGIN role.
//! A refresher that fails (stopped, or an error) marks its pair pending
//! again and is retried after a back-off that doubles up to an hour.
//!
//! Pairs are kept in a file in the data directory so that a restart does not
//! forget a backlog: the worker marks every known pair pending at start.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pgrx::bgworkers::BackgroundWorkerBuilder;
use pgrx::prelude::*;

use super::queue::{self, Shared, Target};

/// Refreshers running at once, cluster-wide.
const RUNNING_MAX: usize = 2;
const TARGETS_FILE: &str = "persona_fresh_columns";
const STARTUP_DEADLINE_MICROS: i64 = 60_000_000;

fn key(database: pg_sys::Oid, role: pg_sys::Oid) -> u64 {
    (u64::from(database.to_u32()) << 32) | u64::from(role.to_u32())
}

fn now() -> i64 {
    // SAFETY: a clock read.
    unsafe { pg_sys::GetCurrentTimestamp() }
}

/// The entry for `key`, added if new; None when the table is full.
fn target(shared: &Shared, key: u64) -> Option<&Target> {
    for t in &shared.targets {
        match t.key.compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some(t),
            Err(k) if k == key => return Some(t),
            Err(_) => {}
        }
    }
    None
}

thread_local! {
    /// Pairs this transaction queued work for.
    static QUEUED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}
static CALLBACK: AtomicBool = AtomicBool::new(false);

#[pg_guard]
unsafe extern "C-unwind" fn at_end_of_transaction(event: pg_sys::XactEvent::Type, _arg: *mut std::ffi::c_void) {
    let commit = event == pg_sys::XactEvent::XACT_EVENT_COMMIT || event == pg_sys::XactEvent::XACT_EVENT_PARALLEL_COMMIT;
    // A prepared transaction's keys are dropped: COMMIT PREPARED runs
    // elsewhere, and the worker finds the rows at its next notify or start.
    let end = commit
        || event == pg_sys::XactEvent::XACT_EVENT_ABORT
        || event == pg_sys::XactEvent::XACT_EVENT_PARALLEL_ABORT
        || event == pg_sys::XactEvent::XACT_EVENT_PREPARE;
    if !end {
        return;
    }
    let keys = QUEUED.with(|q| std::mem::take(&mut *q.borrow_mut()));
    if !commit || keys.is_empty() {
        return;
    }
    if let Some(shared) = queue::shared() {
        for k in keys {
            if let Some(t) = target(shared, k) {
                t.pending.store(1, Ordering::Release);
            }
        }
        shared.wake_worker();
    }
}

/// `persona._embedder_notify(owner)`: this transaction queued rows of a
/// fresh column owned by `owner`; at commit the worker is told.
pub fn notify(owner: pg_sys::Oid) {
    if queue::shared().is_none() {
        return;
    }
    if !CALLBACK.swap(true, Ordering::AcqRel) {
        // SAFETY: registers a callback that lives as long as the process.
        unsafe { pg_sys::RegisterXactCallback(Some(at_end_of_transaction), std::ptr::null_mut()) };
    }
    // SAFETY: MyDatabaseId is set in every connected backend.
    let k = key(unsafe { pg_sys::MyDatabaseId }, owner);
    QUEUED.with(|q| {
        let mut q = q.borrow_mut();
        if !q.contains(&k) {
            q.push(k);
        }
    });
}

fn targets_path() -> std::path::PathBuf {
    // SAFETY: DataDir is the cluster's data directory, set at startup.
    let dir = unsafe { std::ffi::CStr::from_ptr(pg_sys::DataDir) }.to_string_lossy().into_owned();
    std::path::Path::new(&dir).join(TARGETS_FILE)
}

/// At worker start: every pair known before is pending (it may have a backlog).
pub fn load_targets(shared: &Shared) {
    let Ok(text) = std::fs::read_to_string(targets_path()) else { return };
    for k in text.lines().filter_map(|l| l.trim().parse::<u64>().ok()).filter(|&k| k != 0) {
        if let Some(t) = target(shared, k) {
            if !queue::alive(t.running.load(Ordering::Acquire)) {
                t.running.store(0, Ordering::Release);
            }
            t.pending.store(1, Ordering::Release);
        }
    }
}

/// Writes the known pairs when there are new ones (worker only).
fn save_targets(shared: &Shared) {
    static SAVED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(usize::MAX);
    let keys: Vec<u64> = shared.targets.iter().map(|t| t.key.load(Ordering::Acquire)).filter(|&k| k != 0).collect();
    if SAVED.load(Ordering::Relaxed) == keys.len() {
        return;
    }
    let text: String = keys.iter().map(|k| format!("{k}\n")).collect();
    let path = targets_path();
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path)).is_ok() {
        SAVED.store(keys.len(), Ordering::Relaxed);
    }
}

/// Starts refreshers for pending pairs (worker only).
pub fn launch(shared: &Shared) {
    save_targets(shared);
    let running = shared.targets.iter().filter(|t| t.running.load(Ordering::Acquire) != 0).count();
    let mut slots = RUNNING_MAX.saturating_sub(running);
    for (i, t) in shared.targets.iter().enumerate() {
        if slots == 0 {
            break;
        }
        let k = t.key.load(Ordering::Acquire);
        // Registered but never started (fork failure): free the pair again.
        if k != 0 && t.running.load(Ordering::Acquire) == -1 && now() > t.retry_at.load(Ordering::Acquire) {
            t.running.store(0, Ordering::Release);
            t.pending.store(1, Ordering::Release);
        }
        if k == 0 || t.running.load(Ordering::Acquire) != 0 || t.pending.load(Ordering::Acquire) == 0 {
            continue;
        }
        if now() < t.retry_at.load(Ordering::Acquire) {
            continue;
        }
        t.pending.store(0, Ordering::Release);
        t.running.store(-1, Ordering::Release);
        // Until the refresher starts, retry_at is the time by which it must have.
        t.retry_at.store(now() + STARTUP_DEADLINE_MICROS, Ordering::Release);
        let started = BackgroundWorkerBuilder::new(&format!("persona fresh columns {}/{}", k >> 32, k & 0xffff_ffff))
            .set_type("persona fresh columns")
            .set_library("persona")
            .set_function("persona_fresh_main")
            .set_argument(Some(pg_sys::Datum::from(i)))
            .enable_spi_access()
            .set_restart_time(None)
            .load_dynamic();
        if started.is_err() {
            // No free worker slot (max_worker_processes): try again later.
            t.running.store(0, Ordering::Release);
            t.pending.store(1, Ordering::Release);
            t.retry_at.store(now() + 5_000_000, Ordering::Release);
            continue;
        }
        slots -= 1;
    }
}

extern "C-unwind" {
    /// Postgres' own SIGTERM handler for backends (tcop/postgres.c); pgrx's
    /// `pg_sys::die` is a guarded Rust wrapper, not a signal handler.
    fn die(signal: std::ffi::c_int);
}

static CLEAN_EXIT: AtomicBool = AtomicBool::new(false);

#[pg_guard]
unsafe extern "C-unwind" fn at_refresher_exit(_code: i32, arg: pg_sys::Datum) {
    let Some(shared) = queue::shared() else { return };
    let Some(t) = shared.targets.get(arg.value()) else { return };
    if CLEAN_EXIT.load(Ordering::Acquire) {
        t.failures.store(0, Ordering::Release);
        t.retry_at.store(0, Ordering::Release);
    } else {
        let failures = t.failures.fetch_add(1, Ordering::AcqRel).min(12);
        let wait = Duration::from_secs((1u64 << failures).min(3600));
        t.retry_at.store(now() + wait.as_micros() as i64, Ordering::Release);
        t.pending.store(1, Ordering::Release);
    }
    t.running.store(0, Ordering::Release);
    shared.wake_worker();
}

/// A refresher: embeds one (database, role)'s queued rows, then exits.
#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn persona_fresh_main(arg: pg_sys::Datum) {
    let index = arg.value();
    let Some(shared) = queue::shared() else { return };
    let Some(t) = shared.targets.get(index) else { return };
    let k = t.key.load(Ordering::Acquire);
    // SAFETY: standard worker set-up: a registered exit callback, the
    // backend's own SIGTERM handler (die: a FATAL at the next interrupt
    // check, so a step's transaction aborts cleanly), then signals on.
    unsafe {
        t.running.store(pg_sys::MyProcPid, Ordering::Release);
        pg_sys::before_shmem_exit(Some(at_refresher_exit), arg);
        pg_sys::pqsignal(pg_sys::SIGTERM as i32, Some(die));
        pg_sys::BackgroundWorkerUnblockSignals();
    }
    let database = pg_sys::Oid::from((k >> 32) as u32);
    let role = pg_sys::Oid::from((k & 0xffff_ffff) as u32);
    pgrx::bgworkers::BackgroundWorker::connect_worker_to_spi_by_oid(Some(database), None);
    loop {
        check_for_interrupts!();
        let handled = pgrx::bgworkers::BackgroundWorker::transaction(|| {
            crate::access::as_owner(role, || Spi::get_one::<i32>("SELECT persona.embed_backlog_step(64)"))
        });
        match handled {
            Ok(Some(n)) if n > 0 => continue,
            Ok(_) => break,
            Err(e) => {
                log!("persona fresh columns: {e}");
                return;
            }
        }
    }
    CLEAN_EXIT.store(true, Ordering::Release);
}
