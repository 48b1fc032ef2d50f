//! The backend side: texts to the embedder worker and vectors back.
//!
//! Texts go in requests of at most [`queue::TEXTS`] texts, up to
//! [`IN_FLIGHT`] requests at a time, so that a long `embed_batch` keeps the
//! worker busy while a one-row `embed()` costs one round trip. The backend
//! sleeps on its latch and checks for interrupts every [`POLL`]; a cancel
//! raises the usual 57014 and the guard takes back whatever is still queued.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use super::queue::{self, Shared, ABANDONED, CLAIMED, DONE, FAILED, FREE, QUEUED, SLOTS, TAKEN};
use crate::errors::raise;
use crate::models::Registration;

/// Requests one backend has waiting or running at once.
const IN_FLIGHT: usize = 8;
const POLL: Duration = Duration::from_millis(100);
/// How long queued requests wait for a worker that is not running before
/// the backend embeds them itself.
const NO_WORKER_GRACE: Duration = Duration::from_secs(5);

/// The wire number of a weight format (the worker maps it back).
pub fn format_number(format: persona_embed::WeightFormat) -> u32 {
    match format {
        persona_embed::WeightFormat::Fp32 => 0,
        persona_embed::WeightFormat::Int8 => 1,
        persona_embed::WeightFormat::Q4 => 2,
    }
}

/// Whether embedding in this session goes to the worker.
pub fn available() -> Option<&'static Shared> {
    if !crate::gucs::use_embedder() {
        return None;
    }
    let shared = queue::shared()?;
    shared.worker().map(|_| shared)
}

/// Requests this backend has handed over; dropping the guard (also when an
/// ERROR unwinds through it) takes them back.
struct InFlight {
    shared: &'static Shared,
    /// (slot, chunk) pairs.
    slots: Vec<(usize, usize)>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        for &(i, _) in &self.slots {
            release(&self.shared.slots[i]);
        }
    }
}

/// Gives a slot back whatever its state: withdrawn if still queued, left for
/// the worker to free if it is running, freed if finished.
fn release(slot: &queue::Slot) {
    let withdrawn = slot.state.compare_exchange(QUEUED, FREE, Ordering::AcqRel, Ordering::Acquire);
    if let Err(state) = withdrawn {
        match state {
            // Running: marked ABANDONED for the worker to free, unless it
            // finished meanwhile, when it is freed here.
            TAKEN if slot.state.compare_exchange(TAKEN, ABANDONED, Ordering::AcqRel, Ordering::Acquire).is_err() => {
                slot.state.store(FREE, Ordering::Release)
            }
            // Not CLAIMED: a slot is never in flight while its owner fills
            // it, and another backend's fresh claim may still show this
            // process as the owner (the pid is stored after the CAS).
            DONE | FAILED => slot.state.store(FREE, Ordering::Release),
            _ => {}
        }
    }
}

/// Frees this process's slots when it exits: a FATAL (terminate, lost
/// client, a parallel worker stopped by its leader) ends the process
/// without unwinding, so the guard's Drop never runs.
#[pg_guard]
unsafe extern "C-unwind" fn release_at_exit(_code: i32, _arg: pg_sys::Datum) {
    let Some(shared) = queue::shared() else { return };
    // SAFETY: MyProcPid is this process's pid.
    let me = unsafe { pg_sys::MyProcPid };
    for slot in &shared.slots {
        if slot.owner_pid.load(Ordering::Acquire) == me {
            release(slot);
        }
    }
}

fn claim(shared: &'static Shared) -> Option<usize> {
    static EXIT_CALLBACK: std::sync::Once = std::sync::Once::new();
    // SAFETY: registers a callback that only touches shared atomics.
    EXIT_CALLBACK.call_once(|| unsafe { pg_sys::before_shmem_exit(Some(release_at_exit), pg_sys::Datum::from(0)) });
    let me = queue::my_procno();
    let start = me.unsigned_abs() as usize % SLOTS;
    (0..SLOTS).map(|k| (start + k) % SLOTS).find(|&i| {
        let slot = &shared.slots[i];
        let ok = slot.state.compare_exchange(FREE, CLAIMED, Ordering::AcqRel, Ordering::Relaxed).is_ok();
        if ok {
            // 0: no worker has taken it yet (see the TAKEN check in embed).
            slot.generation.store(0, Ordering::Release);
            slot.owner_procno.store(me, Ordering::Release);
            // SAFETY: MyProcPid is this process's pid.
            slot.owner_pid.store(unsafe { pg_sys::MyProcPid }, Ordering::Release);
        }
        ok
    })
}

fn wait() {
    // SAFETY: the standard latch wait of a backend on its own latch.
    unsafe {
        let events = (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32;
        pg_sys::WaitLatch(pg_sys::MyLatch, events, POLL.as_millis() as libc::c_long, pg_sys::PG_WAIT_EXTENSION);
        pg_sys::ResetLatch(pg_sys::MyLatch);
    }
    check_for_interrupts!();
}

/// Splits texts (positions into `texts`) into requests by count and bytes.
fn chunks(texts: &[(usize, &str)], per_request: usize) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut bytes = 0;
    for (k, (_, t)) in texts.iter().enumerate() {
        let full = out.last().is_none_or(|c| c.len() >= per_request || bytes + t.len() > queue::DATA_BYTES);
        if full {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += t.len();
        out.last_mut().expect("pushed above").push(k);
    }
    out
}

/// Embeds `texts` ((position, text) pairs) through the worker into `out`.
/// Returns the indices into `texts` it did not embed (all of them when no
/// worker serves this session), which the caller embeds in-process.
pub fn embed(model: &Registration, texts: &[(usize, &str)], out: &mut [Option<Vec<f32>>]) -> Vec<usize> {
    let everything = || (0..texts.len()).collect();
    let Some(shared) = available() else { return everything() };
    let Some(path) = model.dir.to_str() else { return everything() };
    if !queue::fits_header(path, &model.prefix) || texts.iter().any(|(_, t)| t.len() > queue::DATA_BYTES) {
        return everything();
    }
    let format = format_number(model.format);
    let chunks = chunks(texts, queue::texts_per_request(model.dimension));
    let mut flight = InFlight { shared, slots: Vec::new() };
    let mut next = 0;
    let mut no_worker_since: Option<Instant> = None;
    let mut no_slot_since: Option<Instant> = None;
    // Chunks taken back from the queue, to embed in-process.
    let mut left: Vec<usize> = Vec::new();
    loop {
        let mut submitted = false;
        while next < chunks.len() && flight.slots.len() < IN_FLIGHT {
            let Some(i) = claim(shared) else { break };
            let slot = &shared.slots[i];
            let batch: Vec<&str> = chunks[next].iter().map(|&k| texts[k].1).collect();
            // SAFETY: this backend owns the slot while it is CLAIMED.
            unsafe { slot.request().fill(&model.name, path, format, &model.prefix, &batch) };
            slot.state.store(QUEUED, Ordering::Release);
            flight.slots.push((i, next));
            next += 1;
            submitted = true;
        }
        if submitted {
            shared.wake_worker();
        }
        if flight.slots.is_empty() {
            if next == chunks.len() {
                return left;
            }
            // Every slot taken by other sessions for a while: embed here.
            let since = *no_slot_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= NO_WORKER_GRACE {
                left.extend(chunks[next..].iter().flatten().copied());
                return left;
            }
        } else {
            no_slot_since = None;
        }
        wait();
        let worker = shared.worker();
        let mut k = 0;
        while k < flight.slots.len() {
            let (i, c) = flight.slots[k];
            let slot = &shared.slots[i];
            // The slot's generation first: a worker that took it later than
            // this read of the shared one cannot look older than it is.
            let taken_by = slot.generation.load(Ordering::Acquire);
            let generation = shared.generation.load(Ordering::Acquire);
            match slot.state.load(Ordering::Acquire) {
                DONE => {
                    // SAFETY: DONE hands the slot back to this backend.
                    let vectors = unsafe { slot.request().vectors() };
                    if vectors.iter().any(|v| v.len() != model.dimension) {
                        flight.slots.swap_remove(k);
                        slot.state.store(FREE, Ordering::Release);
                        drop(flight);
                        let got = vectors.first().map_or(0, Vec::len);
                        raise_failure(
                            &model.name,
                            queue::ERROR_INFERENCE,
                            format!("the worker's model gave {got} dimensions, the registry says {}", model.dimension),
                        );
                    }
                    for (&t, v) in chunks[c].iter().zip(vectors) {
                        out[texts[t].0] = Some(v);
                    }
                    flight.slots.swap_remove(k);
                    slot.state.store(FREE, Ordering::Release);
                    continue;
                }
                FAILED => {
                    // SAFETY: FAILED hands the slot back to this backend.
                    let (kind, message) = unsafe { (slot.request().error, slot.request().message()) };
                    flight.slots.swap_remove(k);
                    slot.state.store(FREE, Ordering::Release);
                    drop(flight);
                    raise_failure(&model.name, kind, message);
                }
                TAKEN if worker.is_none() || (taken_by != 0 && taken_by < generation) => {
                    drop(flight);
                    raise_failure(&model.name, queue::ERROR_STOPPED, "the embedder worker stopped while embedding".into());
                }
                _ => {}
            }
            k += 1;
        }
        // Queued work with no worker to take it: after a grace period (the
        // postmaster restarts a worker within seconds), embed it here.
        if worker.is_none() {
            let since = *no_worker_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= NO_WORKER_GRACE {
                left.extend(chunks[next..].iter().flatten().copied());
                next = chunks.len();
                let mut k = 0;
                while k < flight.slots.len() {
                    let (i, c) = flight.slots[k];
                    let slot = &shared.slots[i];
                    if slot.state.compare_exchange(QUEUED, FREE, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                        left.extend(&chunks[c]);
                        flight.slots.swap_remove(k);
                        continue;
                    }
                    k += 1;
                }
                if flight.slots.is_empty() {
                    return left;
                }
            }
        } else {
            no_worker_since = None;
        }
    }
}

fn raise_failure(model: &str, kind: u32, message: String) -> ! {
    let (code, hint) = match kind {
        queue::ERROR_NOT_FOUND => (
            PgSqlErrorCode::ERRCODE_UNDEFINED_FILE,
            "Install the shipped models with the README's set-up command, or register the path again with persona.register_model().",
        ),
        queue::ERROR_CORRUPT => (PgSqlErrorCode::ERRCODE_CONFIG_FILE_ERROR, "The embedder worker could not read the model's files."),
        queue::ERROR_STOPPED => (
            PgSqlErrorCode::ERRCODE_SYSTEM_ERROR,
            "The postmaster restarts the embedder worker by itself; run the statement again.",
        ),
        _ => (PgSqlErrorCode::ERRCODE_EXTERNAL_ROUTINE_EXCEPTION, "See the server log of the embedder worker."),
    };
    let what = if kind == queue::ERROR_STOPPED { "was interrupted" } else { "failed" };
    raise(code, format!("embedding with model \"{model}\" {what}"), Some(message), Some(hint))
}
