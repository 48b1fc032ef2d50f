//! Worker threads for model inference inside a backend.
//!
//! Postgres delivers signals (cancel, timeout, terminate) to the backend
//! process, and any thread that has them unblocked may be picked to run the
//! handler. A handler running on a worker thread would touch backend state
//! from the wrong thread, so pools are started with every signal blocked:
//! the threads inherit that mask and the backend thread alone handles them.
//! Worker threads run pure Rust maths only; they never call Postgres.
//!
//! Pools are created lazily, on the first call that embeds, never in
//! `_PG_init` (which also runs in the postmaster under preloading).

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use pgrx::PgSqlErrorCode;
use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::errors::raise;

thread_local! {
    // One pool per distinct `persona.threads` value seen by this backend.
    static POOLS: RefCell<HashMap<usize, Arc<ThreadPool>>> = RefCell::new(HashMap::new());
}

fn build_pool(threads: usize) -> Result<ThreadPool, rayon::ThreadPoolBuildError> {
    // SAFETY: plain libc calls on a stack-allocated sigset; the old mask is
    // restored before returning, whatever the build's outcome.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pool = ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("persona-worker-{i}"))
            .build();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        pool
    }
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

fn pool(threads: usize) -> Arc<ThreadPool> {
    if let Some(p) = POOLS.with(|p| p.borrow().get(&threads).cloned()) {
        return p;
    }
    if POOLS.with(|p| p.borrow().is_empty()) {
        tune_allocator();
    }
    let pool = match build_pool(threads) {
        Ok(p) => Arc::new(p),
        Err(e) => raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
            format!("could not start {threads} inference threads"),
            Some(e.to_string()),
            Some("Lower persona.threads."),
        ),
    };
    POOLS.with(|p| p.borrow_mut().insert(threads, pool.clone()));
    pool
}

/// Runs `work` on the inference pool of `persona.threads` threads and
/// returns its result. A panic inside the maths becomes an ERROR with
/// SQLSTATE 38000 rather than an internal error.
pub fn run_on_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    let pool = pool(crate::gucs::threads());
    match catch_unwind(AssertUnwindSafe(|| pool.install(work))) {
        Ok(r) => r,
        Err(payload) => {
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
