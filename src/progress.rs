//! Progress of running persona jobs, visible from any session (`persona.progress`).
//!
//! A job reports where it is (a phase, units done of a total) into a slot of
//! shared memory (`slots`), which every session can read; the view filters
//! the rows by the reader's privileges (`sql`). Rust jobs hold a [`Job`],
//! whose drop empties the slot: pgrx turns a Postgres ERROR (a cancel raised
//! by `check_for_interrupts!` too) into unwinding, so that covers errors.
//! PL/pgSQL jobs call `persona._progress_begin / _update / _end`; their rows
//! go at `_end`, at backend exit, when a savepoint they began in is rolled
//! back, and when a transaction aborts (every job of the session then: one
//! begun before a commit is a procedure such as `embed_column`, which
//! commits between batches and fails in a later one). A commit keeps them.
//!
//! Nesting: a backend has one row. A job started while another runs in the
//! same backend (a Rust job called from a PL/pgSQL job, say) keeps the
//! outer job's name, role and start in the row and shows its own count and
//! phase, prefixed by its name; when it ends the outer job's count and phase
//! come back. So a DBA watching a pg_cron job sees that job throughout.
//!
//! Without `shared_preload_libraries = 'persona'` there is no area: every
//! call here returns at once and the view has no rows.
//!
//! Updates come from the backend thread only (a [`Job`] is neither Send nor
//! Sync): callers report from the callbacks that already run there, never
//! from the thread pool.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use pgrx::pg_sys;

use crate::shmem::Area;

mod slots;
mod sql;

use slots::{Row, Slots};

static AREA: Area<Slots> = Area::new(c"persona progress");

/// Registers the shared area; called from `_PG_init` during preloading.
pub fn register() {
    AREA.register();
}

/// One job of this backend, innermost last.
struct Frame {
    id: u64,
    job: String,
    phase: String,
    unit: String,
    done: i64,
    total: Option<i64>,
    started: i64,
    counting_since: i64,
    /// Begun by `_progress_begin` (ended by `_progress_end`), not by a [`Job`].
    sql: bool,
    /// The subtransaction it was begun in; an abort of that one (or of an
    /// ancestor) ends it. Reset to the top level when a transaction commits.
    subxact: pg_sys::SubTransactionId,
}

struct Local {
    frames: Vec<Frame>,
    /// This backend's slot while it has frames (None: not claimed, or full).
    slot: Option<usize>,
    next_id: u64,
    /// Of the outermost job, captured when it began.
    pid: i32,
    database: u32,
    role: u32,
}

/// Backend-local state. A Mutex rather than a thread-local: the exit
/// callback runs late in proc_exit, and nothing here needs a destructor.
/// Never held across a call into Postgres (which may raise an ERROR).
static LOCAL: Mutex<Local> = Mutex::new(Local { frames: Vec::new(), slot: None, next_id: 1, pid: 0, database: 0, role: 0 });
static HOOKED: AtomicBool = AtomicBool::new(false);

fn local() -> MutexGuard<'static, Local> {
    LOCAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Now as a Postgres timestamp (microseconds since 2000-01-01 UTC).
fn now() -> i64 {
    const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;
    let micros = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64);
    micros - POSTGRES_EPOCH_MICROS
}

impl Local {
    /// Writes the row from the frames: the outermost job's identity, the
    /// innermost one's phase and count.
    fn publish(&self, slots: &Slots) {
        let (Some(i), Some(outer), Some(inner)) = (self.slot, self.frames.first(), self.frames.last()) else { return };
        let phase = if inner.job == outer.job { inner.phase.clone() } else { format!("{}: {}", inner.job, inner.phase) };
        slots.publish(
            i,
            &Row {
                pid: self.pid,
                database: self.database,
                role: self.role,
                job: outer.job.clone(),
                phase,
                unit: inner.unit.clone(),
                done: inner.done,
                total: inner.total,
                started: outer.started,
                counting_since: inner.counting_since,
                updated: now(),
            },
        );
    }

    /// Publishes what is left after frames were removed, or frees the slot.
    fn settle(&mut self, slots: &Slots) {
        if !self.frames.is_empty() {
            self.publish(slots);
        } else if let Some(i) = self.slot.take() {
            slots.release(i);
        }
    }

    fn push(&mut self, slots: &Slots, mut frame: Frame, who: (i32, u32, u32)) -> u64 {
        if self.frames.is_empty() {
            (self.pid, self.database, self.role) = who;
            self.slot = slots.claim(who.0);
        }
        frame.id = self.next_id;
        self.next_id += 1;
        self.frames.push(frame);
        self.publish(slots);
        self.next_id - 1
    }

    /// Ends the frame at `at` and every frame inside it.
    fn end_from(&mut self, slots: &Slots, at: usize) {
        self.frames.truncate(at);
        self.settle(slots);
    }

    fn position(&self, id: u64) -> Option<usize> {
        self.frames.iter().position(|f| f.id == id)
    }
}

impl Frame {
    /// Sets the count; a count that goes down starts a new one (for the rate).
    fn set(&mut self, done: i64) {
        if done < self.done {
            self.counting_since = now();
        }
        self.done = done;
    }

    fn restart(&mut self, phase: &str, unit: &str, total: Option<i64>) {
        self.phase = slots::fit(phase, slots::PHASE_BYTES).to_owned();
        self.unit = slots::fit(unit, slots::UNIT_BYTES).to_owned();
        self.total = total;
        self.done = 0;
        self.counting_since = now();
    }
}

/// Registers, once per backend, what ends its jobs on abort and at exit.
fn hook() {
    if HOOKED.load(Ordering::Relaxed) {
        return;
    }
    // SAFETY: plain registrations of callbacks with static lifetimes, on the
    // backend thread inside a transaction.
    unsafe {
        pg_sys::RegisterXactCallback(Some(on_xact), std::ptr::null_mut());
        pg_sys::RegisterSubXactCallback(Some(on_subxact), std::ptr::null_mut());
        pg_sys::before_shmem_exit(Some(on_exit), pg_sys::Datum::from(0usize));
    }
    HOOKED.store(true, Ordering::Relaxed);
}

/// Starts a frame; None without the shared area. Postgres is asked for the
/// caller's identity before the lock is taken.
fn begin(job: &str, phase: &str, unit: &str, total: Option<i64>, sql: bool) -> Option<u64> {
    let slots = AREA.get()?;
    hook();
    // SAFETY: reads of this backend's globals and of its current user and
    // subtransaction, inside a transaction on the backend thread.
    let (who, subxact) = unsafe {
        (
            (pg_sys::MyProcPid, pg_sys::MyDatabaseId.to_u32(), pg_sys::GetUserId().to_u32()),
            pg_sys::GetCurrentSubTransactionId(),
        )
    };
    let t = now();
    let frame = Frame {
        id: 0,
        job: slots::fit(job, slots::JOB_BYTES).to_owned(),
        phase: slots::fit(phase, slots::PHASE_BYTES).to_owned(),
        unit: slots::fit(unit, slots::UNIT_BYTES).to_owned(),
        done: 0,
        total,
        started: t,
        counting_since: t,
        sql,
        subxact,
    };
    Some(local().push(slots, frame, who))
}

/// Changes frame `id` (if it is still there) and publishes the row.
fn change(id: u64, f: impl FnOnce(&mut Frame)) {
    let Some(slots) = AREA.get() else { return };
    let mut l = local();
    if let Some(at) = l.position(id) {
        f(&mut l.frames[at]);
        l.publish(slots);
    }
}

/// A running job of this backend, shown in `persona.progress` until dropped.
///
/// ```ignore
/// let job = progress::Job::start("kmeans_train", "reading rows", "rows", None);
/// job.phase("run 1/3", "iterations", Some(300));
/// job.step(7, "run 1/3, iteration 7");
/// ```
pub struct Job {
    /// 0 when nothing is reported (no shared area).
    id: u64,
    /// Not Send or Sync: reported from the backend thread only.
    _backend: PhantomData<*const ()>,
}

impl Job {
    /// Starts reporting `job` (the SQL function's name) in `phase`, counting
    /// `unit`s out of `total` (None: not known).
    pub fn start(job: &str, phase: &str, unit: &str, total: Option<i64>) -> Job {
        Job { id: begin(job, phase, unit, total, false).unwrap_or(0), _backend: PhantomData }
    }

    /// A new phase: counting `unit`s from 0 out of `total`; the rate restarts.
    pub fn phase(&self, phase: &str, unit: &str, total: Option<i64>) {
        if self.id != 0 {
            change(self.id, |f| f.restart(phase, unit, total));
        }
    }

    /// `done` units of the current phase.
    pub fn set(&self, done: i64) {
        if self.id != 0 {
            change(self.id, |f| f.set(done));
        }
    }

    /// `n` more units of the current phase.
    pub fn add(&self, n: i64) {
        if self.id != 0 {
            change(self.id, |f| f.done = f.done.saturating_add(n));
        }
    }

    /// `done` units, with new words for the phase (the count goes on, as
    /// with "run 1/3, iteration 7" in one phase of iterations).
    pub fn step(&self, done: i64, phase: &str) {
        if self.id != 0 {
            change(self.id, |f| {
                f.set(done);
                f.phase = slots::fit(phase, slots::PHASE_BYTES).to_owned();
            });
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        let Some(slots) = AREA.get().filter(|_| self.id != 0) else { return };
        let mut l = local();
        if let Some(at) = l.position(self.id) {
            l.end_from(slots, at);
        }
    }
}

/// `n` more units for the innermost job of this backend, if it is a Rust
/// [`Job`]: for readers shared by several jobs (cursor loops) whose callers
/// set a phase counting rows. A no-op otherwise, so that a PL/pgSQL job's
/// own count is never moved by a helper it calls.
pub fn advance(n: i64) {
    let Some(slots) = AREA.get() else { return };
    let mut l = local();
    if let Some(f) = l.frames.last_mut().filter(|f| !f.sql) {
        f.done = f.done.saturating_add(n);
        l.publish(slots);
    }
}

/// Ends every job when the transaction aborts; on commit the surviving
/// frames belong to the top level (their subtransactions are gone).
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn on_xact(event: pg_sys::XactEvent::Type, _arg: *mut std::ffi::c_void) {
    let Some(slots) = AREA.get() else { return };
    let mut l = local();
    match event {
        pg_sys::XactEvent::XACT_EVENT_ABORT => l.end_from(slots, 0),
        pg_sys::XactEvent::XACT_EVENT_COMMIT | pg_sys::XactEvent::XACT_EVENT_PREPARE => {
            for f in &mut l.frames {
                f.subxact = TOP_SUBXACT;
            }
        }
        _ => {}
    }
}

/// TopSubTransactionId in Postgres' xact.h.
const TOP_SUBXACT: pg_sys::SubTransactionId = 1;

/// Ends the jobs begun in an aborted subtransaction or in one of its
/// children. Subtransaction ids only grow within a transaction, and one that
/// began after `my_subid` and is still on the stack is its child (committed
/// into it or not): those are exactly the frames with an id >= `my_subid`.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn on_subxact(
    event: pg_sys::SubXactEvent::Type,
    my_subid: pg_sys::SubTransactionId,
    _parent: pg_sys::SubTransactionId,
    _arg: *mut std::ffi::c_void,
) {
    if event != pg_sys::SubXactEvent::SUBXACT_EVENT_ABORT_SUB {
        return;
    }
    let Some(slots) = AREA.get() else { return };
    let mut l = local();
    let before = l.frames.len();
    l.frames.retain(|f| f.subxact < my_subid);
    if l.frames.len() != before {
        l.settle(slots);
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn on_exit(_code: std::ffi::c_int, _arg: pg_sys::Datum) {
    if let Some(slots) = AREA.get() {
        local().end_from(slots, 0);
    }
}

/// Units per second of the current count and the time left at that rate
/// (microseconds), as of `now`: None when not known.
fn rate_and_left(row: &Row, now: i64) -> (Option<f64>, Option<i64>) {
    let seconds = (now - row.counting_since) as f64 / 1e6;
    if seconds <= 0.0 {
        return (None, None);
    }
    let rate = row.done as f64 / seconds;
    let left = row.total.filter(|_| rate > 0.0).map(|t| ((t - row.done).max(0) as f64 / rate * 1e6).min(i64::MAX as f64 / 2.0) as i64);
    (Some(rate), left)
}

#[cfg(test)]
mod tests {
    use super::{rate_and_left, Row};

    #[test]
    fn rate_and_time_left() {
        let row = |done, total| Row { done, total, counting_since: 0, ..Row::default() };
        // 50 of 200 in 10 s: 5 a second, 30 s left.
        assert_eq!(rate_and_left(&row(50, Some(200)), 10_000_000), (Some(5.0), Some(30_000_000)));
        assert_eq!(rate_and_left(&row(50, None), 10_000_000), (Some(5.0), None));
        // Nothing done yet: no time left to tell; past the total: none left.
        assert_eq!(rate_and_left(&row(0, Some(200)), 10_000_000), (Some(0.0), None));
        assert_eq!(rate_and_left(&row(300, Some(200)), 10_000_000), (Some(30.0), Some(0)));
        assert_eq!(rate_and_left(&row(5, Some(10)), 0), (None, None));
    }
}
