//! Worker threads for model inference and fitting inside a backend.
//!
//! Postgres delivers signals (cancel, timeout, terminate) to the backend
//! process, and any thread that has them unblocked may be picked to run the
//! handler. A handler running on a worker thread would touch backend state
//! from the wrong thread, so pools are started with every signal blocked:
//! the threads inherit that mask and the backend thread alone handles them.
//! Worker threads run pure Rust maths only; they never call Postgres.
//!
//! The pool is created lazily, on the first call that uses it, never in
//! `_PG_init` (which also runs in the postmaster under preloading). A
//! backend has one pool at a time, of `persona.threads` threads capped at
//! the cores; a new size replaces it and the old threads are joined first,
//! so SETting many values never accumulates threads.
//!
//! While the pool works, the backend thread waits in [`run_cancellable`],
//! looking every [`POLL`] for a pending cancel, statement timeout or
//! terminate. It never calls Postgres there (the pool may be using data on
//! its stack); it raises a flag the maths checks between blocks, waits for
//! the pool to return, and only then lets Postgres process the interrupt,
//! which raises the usual error (57014, or FATAL on terminate).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use pgrx::{check_for_interrupts, pg_sys, PgSqlErrorCode};
use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::errors::raise;

/// How often the waiting backend thread looks for an interrupt.
const POLL: Duration = Duration::from_millis(50);

/// The backend's pool, its size and its threads (to join them when it is
/// replaced). A static, not a thread-local: it is never dropped at exit,
/// where joining threads would only delay the backend's end.
struct Pool {
    threads: usize,
    pool: Arc<ThreadPool>,
    handles: Vec<JoinHandle<()>>,
}

static POOL: Mutex<Option<Pool>> = Mutex::new(None);

impl Pool {
    /// Ends the pool's threads and waits for them. The pool is idle here:
    /// work runs only inside `run_cancellable`, which holds its own
    /// reference until the work is done.
    fn shut_down(self) {
        if let Ok(pool) = Arc::try_unwrap(self.pool) {
            drop(pool);
            for handle in self.handles {
                let _ = handle.join();
            }
        }
        // Still shared (cannot happen): its threads end when it is dropped.
    }
}

fn build_pool(threads: usize) -> Result<Pool, rayon::ThreadPoolBuildError> {
    let mut handles = Vec::with_capacity(threads);
    // SAFETY: plain libc calls on a stack-allocated sigset; the old mask is
    // restored before returning, whatever the build's outcome. Rayon starts
    // every thread inside build(), so each inherits the full mask.
    let pool = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pool = ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("persona-worker-{i}"))
            .spawn_handler(|thread| {
                let mut builder = std::thread::Builder::new();
                if let Some(name) = thread.name() {
                    builder = builder.name(name.to_owned());
                }
                if let Some(size) = thread.stack_size() {
                    builder = builder.stack_size(size);
                }
                handles.push(builder.spawn(|| thread.run())?);
                Ok(())
            })
            .build();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        pool
    };
    Ok(Pool { threads, pool: Arc::new(pool?), handles })
}

/// Keeps large allocations on the heap instead of fresh mmap()s.
///
/// A forward pass allocates and frees buffers of a few MB per operation.
/// With glibc's default (dynamic) mmap threshold, each becomes an mmap,
/// page faults and zeroing, and a munmap: 20-25% of inference time
/// (measured with `bench/embed.sh`). Done once per backend that embeds, before
/// its first pool: such a backend keeps up to 256 MB of freed heap for reuse.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called on the backend thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

/// The pool of `threads` threads: the current one, or a new one replacing it.
fn pool(threads: usize) -> Arc<ThreadPool> {
    let built = {
        let mut slot = POOL.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.as_ref() {
            Some(p) if p.threads == threads => return p.pool.clone(),
            Some(_) => {}
            None => tune_allocator(),
        }
        // The old threads end before new ones start.
        if let Some(old) = slot.take() {
            old.shut_down();
        }
        match build_pool(threads) {
            Ok(p) => {
                let pool = p.pool.clone();
                *slot = Some(p);
                Ok(pool)
            }
            Err(e) => Err(e),
        }
    };
    // Raised with the lock released.
    built.unwrap_or_else(|e| {
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
            format!("could not start {threads} inference threads"),
            Some(e.to_string()),
            Some("Lower persona.threads."),
        )
    })
}

/// A cancel, statement timeout or terminate that Postgres would act on at
/// its next interrupt check (the conditions of ProcessInterrupts). Reads
/// the flags only: safe while the pool runs.
fn interrupt_pending() -> bool {
    // SAFETY: reads of sig_atomic_t / uint32 globals of this backend, which
    // its own signal handlers set; volatile so every poll reads them afresh.
    unsafe {
        let read = |p: *const i32| std::ptr::read_volatile(p) != 0;
        read(std::ptr::addr_of!(pg_sys::InterruptPending))
            && std::ptr::read_volatile(std::ptr::addr_of!(pg_sys::InterruptHoldoffCount)) == 0
            && std::ptr::read_volatile(std::ptr::addr_of!(pg_sys::CritSectionCount)) == 0
            && (read(std::ptr::addr_of!(pg_sys::ProcDiePending))
                || (read(std::ptr::addr_of!(pg_sys::QueryCancelPending))
                    && std::ptr::read_volatile(std::ptr::addr_of!(pg_sys::QueryCancelHoldoffCount)) == 0))
    }
}

/// Runs `work` on the pool of `persona.threads` threads and returns its
/// result. A panic inside the maths becomes an ERROR with SQLSTATE 38000
/// rather than an internal error; a cancel, timeout or terminate arriving
/// meanwhile is raised once the work returns.
pub fn run_on_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    run_cancellable(|_| work())
}

/// [`run_on_pool`] for long work that takes a "should stop" check and asks
/// it between blocks (persona-rank's `*_with` functions). The check turns
/// true when a cancel, statement timeout or terminate arrives; the work
/// should then return early (with whatever error it has for that), and
/// this function raises Postgres' own error for the interrupt (57014), so
/// the work's result is never seen in that case.
pub fn run_cancellable<R: Send>(work: impl FnOnce(&(dyn Fn() -> bool + Sync)) -> R + Send) -> R {
    let pool = pool(crate::gucs::threads());
    let stop = AtomicBool::new(false);
    let (done, finished) = channel();
    let mut outcome = None;
    pool.in_place_scope(|scope| {
        let stop = &stop;
        scope.spawn(move |_| {
            let should_stop = || stop.load(Ordering::Relaxed);
            let _ = done.send(catch_unwind(AssertUnwindSafe(|| work(&should_stop))));
        });
        // This thread, outside the pool, waits and watches for interrupts.
        // The scope also waits for the job before it returns, so nothing on
        // this stack is freed while the pool may still use it.
        loop {
            match finished.recv_timeout(POLL) {
                Ok(result) => {
                    outcome = Some(result);
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {
                    if interrupt_pending() {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    });
    if stop.load(Ordering::Relaxed) || interrupt_pending() {
        // The pool is idle again: Postgres may now raise its error.
        check_for_interrupts!();
        raise(
            PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
            "canceling statement due to an interrupt".to_owned(),
            None,
            None,
        );
    }
    match outcome {
        Some(Ok(r)) => r,
        None => raise(
            PgSqlErrorCode::ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
            "model computation failed".to_owned(),
            Some("the worker thread ended without a result".to_owned()),
            None,
        ),
        Some(Err(payload)) => {
            let what = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "unknown panic".to_owned());
            raise(
                PgSqlErrorCode::ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
                "model computation failed".to_owned(),
                Some(what),
                None,
            )
        }
    }
}
