//! Shared memory areas, present only with persona in `shared_preload_libraries`.
//!
//! A module that needs cluster-wide state (the embedder's request slots, the
//! progress of running jobs) registers an [`Area`] from `_PG_init` while the
//! library is being preloaded. The postmaster then reserves the space
//! (`shmem_request_hook`) and maps it (`shmem_startup_hook`); backends are
//! forked afterwards and inherit the mapping and each area's pointer.
//!
//! A fresh area is zero-filled, so every area's layout must treat all-zero
//! bytes as its empty state: atomics and byte arrays, no pointers.
//! Without preloading nothing is registered and [`Area::get`] is None;
//! callers fall back to per-backend behaviour.

use std::ffi::CStr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

use pgrx::pg_sys;

/// One named block of shared memory of type `T` (all-zero = empty).
pub struct Area<T: 'static> {
    name: &'static CStr,
    base: AtomicPtr<T>,
}

impl<T: 'static> Area<T> {
    pub const fn new(name: &'static CStr) -> Self {
        Area { name, base: AtomicPtr::new(std::ptr::null_mut()) }
    }

    /// The mapped area, or None when persona was not preloaded.
    pub fn get(&'static self) -> Option<&'static T> {
        let p = self.base.load(Ordering::Acquire);
        // SAFETY: set once by the startup hook to a live, zero-initialised
        // mapping of size_of::<T>() that lasts as long as the process.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// Registers the area; call from `_PG_init` during preloading only.
    pub fn register(&'static self) {
        let mut areas = AREAS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        areas.push(Registered {
            name: self.name,
            size: std::mem::size_of::<T>(),
            attach: Box::new(move |p| self.base.store(p.cast(), Ordering::Release)),
        });
    }
}

struct Registered {
    name: &'static CStr,
    size: usize,
    attach: Box<dyn Fn(*mut u8) + Send>,
}

static AREAS: Mutex<Vec<Registered>> = Mutex::new(Vec::new());
static mut PREV_REQUEST: pg_sys::shmem_request_hook_type = None;
static mut PREV_STARTUP: pg_sys::shmem_startup_hook_type = None;

/// True while the library is loaded by `shared_preload_libraries`.
pub fn preloading() -> bool {
    // SAFETY: a plain read of a postmaster global.
    unsafe { pg_sys::process_shared_preload_libraries_in_progress }
}

/// Installs the hooks that create every registered area; call from
/// `_PG_init` after the areas are registered, during preloading only.
pub fn install_hooks() {
    // SAFETY: _PG_init runs once per process on the main thread; the hooks
    // chain to whatever was installed before.
    unsafe {
        PREV_REQUEST = pg_sys::shmem_request_hook;
        pg_sys::shmem_request_hook = Some(request);
        PREV_STARTUP = pg_sys::shmem_startup_hook;
        pg_sys::shmem_startup_hook = Some(startup);
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn request() {
    // SAFETY: called by the postmaster in its shmem request phase.
    unsafe {
        if let Some(prev) = PREV_REQUEST {
            prev();
        }
        let areas = AREAS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for area in areas.iter() {
            pg_sys::RequestAddinShmemSpace(area.size);
        }
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn startup() {
    // SAFETY: called in the postmaster after shared memory exists; the
    // AddinShmemInitLock serialises ShmemInitStruct as the docs require.
    unsafe {
        if let Some(prev) = PREV_STARTUP {
            prev();
        }
        // AddinShmemInitLock is a macro: &MainLWLockArray[21].lock (lwlocknames.h).
        let init_lock = &raw mut (*pg_sys::MainLWLockArray.add(21)).lock;
        pg_sys::LWLockAcquire(init_lock, pg_sys::LWLockMode::LW_EXCLUSIVE);
        let areas = AREAS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for area in areas.iter() {
            let mut found = false;
            let p = pg_sys::ShmemInitStruct(area.name.as_ptr(), area.size, &mut found).cast::<u8>();
            if !found {
                std::ptr::write_bytes(p, 0, area.size);
            }
            (area.attach)(p);
        }
        pg_sys::LWLockRelease(init_lock);
    }
}
