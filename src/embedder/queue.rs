//! The embedder's shared memory: request slots, the worker's identity and
//! counters, and the fresh-column targets.
//!
//! A slot belongs to whoever its state says. A backend claims a FREE slot
//! (CAS to CLAIMED), writes the request and publishes it as QUEUED; the
//! worker takes it (CAS QUEUED to TAKEN), writes the vectors and publishes
//! DONE (or FAILED with a message); the backend reads and frees it. A
//! backend that gives up (cancel, error) withdraws a QUEUED slot itself, or
//! marks a TAKEN one ABANDONED so that the worker frees it when done. Every
//! hand-over is an atomic state change with release/acquire ordering, so the
//! plain bytes behind it are only ever touched by the slot's current owner.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, AtomicU64, Ordering};

use pgrx::pg_sys;

/// Request slots: at most this many requests wait or run at once.
pub const SLOTS: usize = 64;
/// Bytes of text a request may carry, and of vectors it gets back.
pub const DATA_BYTES: usize = 256 * 1024;
/// Texts per request.
pub const TEXTS: usize = 64;
const PATH_BYTES: usize = 1024;
const PREFIX_BYTES: usize = 512;
/// Models the status view lists.
pub const MODELS: usize = 8;
const MODEL_NAME_BYTES: usize = 256;
/// (database, role) pairs with fresh columns.
pub const TARGETS: usize = 64;

pub const FREE: u32 = 0;
pub const CLAIMED: u32 = 1;
pub const QUEUED: u32 = 2;
pub const TAKEN: u32 = 3;
pub const DONE: u32 = 4;
pub const FAILED: u32 = 5;
pub const ABANDONED: u32 = 6;

/// What kind of failure a FAILED slot reports (its SQLSTATE is chosen by the backend).
pub const ERROR_NOT_FOUND: u32 = 1;
pub const ERROR_CORRUPT: u32 = 2;
pub const ERROR_INFERENCE: u32 = 3;
pub const ERROR_STOPPED: u32 = 4;

#[repr(C)]
pub struct Request {
    pub format: u32,
    pub n_texts: u32,
    pub path_len: u32,
    pub prefix_len: u32,
    pub name_len: u32,
    pub dimension: u32,
    pub error: u32,
    pub message_len: u32,
    pub path: [u8; PATH_BYTES],
    pub prefix: [u8; PREFIX_BYTES],
    /// The registry name, for the status view.
    pub name: [u8; MODEL_NAME_BYTES],
    /// Text i is `data[offsets[i]..offsets[i + 1]]`.
    pub offsets: [u32; TEXTS + 1],
    pub data: [u8; DATA_BYTES],
}

#[repr(C)]
pub struct Slot {
    pub state: AtomicU32,
    pub owner_procno: AtomicI32,
    pub owner_pid: AtomicI32,
    /// The worker generation that took the request.
    pub generation: AtomicU64,
    request: UnsafeCell<Request>,
}

impl Slot {
    /// The request bytes.
    ///
    /// # Safety
    /// The caller must own the slot by its state (CLAIMED or DONE/FAILED
    /// for the backend that claimed it, TAKEN for the worker).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn request(&self) -> &mut Request {
        // SAFETY: exclusive by the state protocol, as the caller promises.
        unsafe { &mut *self.request.get() }
    }

    /// Wakes the backend waiting on this slot.
    pub fn wake_owner(&self) {
        set_latch(self.owner_procno.load(Ordering::Acquire));
    }
}

#[repr(C)]
pub struct ModelEntry {
    pub len: AtomicU32,
    pub name: UnsafeCell<[u8; MODEL_NAME_BYTES]>,
}

/// A database and role whose fresh columns have work waiting.
#[repr(C)]
pub struct Target {
    /// database oid << 32 | role oid; 0 for an unused entry. Entries are only added.
    pub key: AtomicU64,
    /// Set by a commit that queued work; cleared when a refresher starts.
    pub pending: AtomicU32,
    /// The refresher's pid, -1 while it starts, 0 when none runs.
    pub running: AtomicI32,
    pub failures: AtomicU32,
    /// Not before this (a TimestampTz): backs off after failures.
    pub retry_at: AtomicI64,
}

#[repr(C)]
pub struct Shared {
    pub worker_pid: AtomicI32,
    pub worker_procno: AtomicI32,
    /// Incremented at each worker start.
    pub generation: AtomicU64,
    pub started_at: AtomicI64,
    pub batches: AtomicU64,
    pub texts: AtomicU64,
    /// Microseconds spent in forward passes.
    pub busy_micros: AtomicU64,
    pub model_count: AtomicU32,
    pub models: [ModelEntry; MODELS],
    pub targets: [Target; TARGETS],
    pub slots: [Slot; SLOTS],
}

// SAFETY: every field is an atomic or is accessed only by the owner the
// atomics name (see the module comment).
unsafe impl Sync for Shared {}

pub static AREA: crate::shmem::Area<Shared> = crate::shmem::Area::new(c"persona embedder");

/// The shared area, when persona is preloaded.
pub fn shared() -> Option<&'static Shared> {
    AREA.get()
}

/// Sets the latch of the process with this pgprocno (ignores -1 / 0 pids).
pub fn set_latch(procno: i32) {
    // SAFETY: ProcGlobal->allProcs is the shared PGPROC array of
    // allProcCount entries; procno came from MyProc->pgprocno of a process
    // and is checked against it. SetLatch is safe on another process's
    // shared latch.
    unsafe {
        if procno < 0 || procno as u32 >= (*pg_sys::ProcGlobal).allProcCount {
            return;
        }
        let proc = (*pg_sys::ProcGlobal).allProcs.add(procno as usize);
        pg_sys::SetLatch(std::ptr::addr_of_mut!((*proc).procLatch));
    }
}

/// This process's pgprocno.
pub fn my_procno() -> i32 {
    // SAFETY: MyProc is set for every backend and worker with shared memory.
    unsafe { (*pg_sys::MyProc).pgprocno }
}

/// True when a process with this pid exists.
pub fn alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence.
    pid > 0 && unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() == libc::EPERM }
}

impl Shared {
    /// The worker's pid, when one is running.
    pub fn worker(&self) -> Option<i32> {
        let pid = self.worker_pid.load(Ordering::Acquire);
        alive(pid).then_some(pid)
    }

    pub fn wake_worker(&self) {
        if self.worker_pid.load(Ordering::Acquire) > 0 {
            set_latch(self.worker_procno.load(Ordering::Acquire));
        }
    }

    pub fn model_names(&self) -> Vec<String> {
        let n = (self.model_count.load(Ordering::Acquire) as usize).min(MODELS);
        self.models[..n]
            .iter()
            .map(|m| {
                let len = (m.len.load(Ordering::Acquire) as usize).min(MODEL_NAME_BYTES);
                // SAFETY: written once by the worker before len was published.
                let bytes = unsafe { &(&*m.name.get())[..len] };
                String::from_utf8_lossy(bytes).into_owned()
            })
            .collect()
    }

    /// Adds a loaded model's name for the status view (worker only).
    pub fn add_model_name(&self, name: &str) {
        let n = self.model_count.load(Ordering::Acquire) as usize;
        if n >= MODELS || self.model_names().iter().any(|m| m == name) {
            return;
        }
        let bytes = &name.as_bytes()[..name.len().min(MODEL_NAME_BYTES)];
        let entry = &self.models[n];
        // SAFETY: only the worker writes entries, and entry n is not yet published.
        unsafe { (&mut *entry.name.get())[..bytes.len()].copy_from_slice(bytes) };
        entry.len.store(bytes.len() as u32, Ordering::Release);
        self.model_count.store(n as u32 + 1, Ordering::Release);
    }

    /// Counts of QUEUED and TAKEN slots.
    pub fn depth(&self) -> (usize, usize) {
        let states = self.slots.iter().map(|s| s.state.load(Ordering::Relaxed));
        states.fold((0, 0), |(q, t), s| (q + (s == QUEUED) as usize, t + (s == TAKEN) as usize))
    }
}

impl Request {
    /// Copies a request in. The caller checked the sizes (see [`fits`]).
    pub fn fill(&mut self, name: &str, path: &str, format: u32, prefix: &str, texts: &[&str]) {
        self.format = format;
        let name = &name.as_bytes()[..name.len().min(MODEL_NAME_BYTES)];
        self.name_len = name.len() as u32;
        self.name[..name.len()].copy_from_slice(name);
        self.path_len = path.len() as u32;
        self.path[..path.len()].copy_from_slice(path.as_bytes());
        self.prefix_len = prefix.len() as u32;
        self.prefix[..prefix.len()].copy_from_slice(prefix.as_bytes());
        self.n_texts = texts.len() as u32;
        let mut at = 0usize;
        for (i, t) in texts.iter().enumerate() {
            self.offsets[i] = at as u32;
            self.data[at..at + t.len()].copy_from_slice(t.as_bytes());
            at += t.len();
        }
        self.offsets[texts.len()] = at as u32;
        self.dimension = 0;
        self.error = 0;
        self.message_len = 0;
    }

    pub fn path(&self) -> String {
        String::from_utf8_lossy(&self.path[..(self.path_len as usize).min(PATH_BYTES)]).into_owned()
    }

    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.name[..(self.name_len as usize).min(MODEL_NAME_BYTES)]).into_owned()
    }

    pub fn prefix(&self) -> String {
        String::from_utf8_lossy(&self.prefix[..(self.prefix_len as usize).min(PREFIX_BYTES)]).into_owned()
    }

    pub fn texts(&self) -> Vec<String> {
        let n = (self.n_texts as usize).min(TEXTS);
        (0..n)
            .map(|i| {
                let b = (self.offsets[i + 1] as usize).min(DATA_BYTES);
                let a = (self.offsets[i] as usize).min(b);
                String::from_utf8_lossy(&self.data[a..b]).into_owned()
            })
            .collect()
    }

    /// Writes the vectors (worker side); they must fit (checked by the backend).
    pub fn put_vectors(&mut self, vectors: &[Vec<f32>]) -> bool {
        let dim = vectors.first().map_or(0, Vec::len);
        if dim * vectors.len() * 4 > DATA_BYTES || vectors.iter().any(|v| v.len() != dim) {
            return false;
        }
        for (i, v) in vectors.iter().enumerate() {
            for (j, x) in v.iter().enumerate() {
                let at = (i * dim + j) * 4;
                self.data[at..at + 4].copy_from_slice(&x.to_ne_bytes());
            }
        }
        self.dimension = dim as u32;
        true
    }

    pub fn vectors(&self) -> Vec<Vec<f32>> {
        let dim = self.dimension as usize;
        let n = (self.n_texts as usize).min(TEXTS);
        (0..n)
            .map(|i| {
                (0..dim)
                    .map(|j| {
                        let at = (i * dim + j) * 4;
                        f32::from_ne_bytes(self.data[at..at + 4].try_into().unwrap_or([0; 4]))
                    })
                    .collect()
            })
            .collect()
    }

    pub fn put_error(&mut self, kind: u32, message: &str) {
        let bytes = &message.as_bytes()[..message.len().min(4096)];
        self.data[..bytes.len()].copy_from_slice(bytes);
        self.message_len = bytes.len() as u32;
        self.error = kind;
    }

    pub fn message(&self) -> String {
        String::from_utf8_lossy(&self.data[..(self.message_len as usize).min(4096)]).into_owned()
    }
}

/// Whether a path and prefix fit a request at all.
pub fn fits_header(path: &str, prefix: &str) -> bool {
    path.len() <= PATH_BYTES && prefix.len() <= PREFIX_BYTES
}

/// Texts per request for vectors of `dimension` floats.
pub fn texts_per_request(dimension: usize) -> usize {
    (DATA_BYTES / (dimension.max(1) * 4)).clamp(1, TEXTS)
}
