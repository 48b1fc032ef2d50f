//! The embedder worker: one process that owns the models and embeds for
//! every session.
//!
//! Each round it takes every queued request, groups them by model,
//! tokenizes their texts, sorts them by length into batches across sessions
//! (`persona_embed::plan_batches`, as one `embed_batch` would) and hands each
//! session its vectors as soon as the round is done. Between batches it
//! looks for SIGTERM; stopping mid-round fails the requests it holds (their
//! backends get an error) and exits with code 1, so the postmaster starts a
//! new worker, which serves whatever is still queued.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use persona_embed::{plan_batches, ModelError, SentenceEncoder, TokenizedText, WeightFormat, MAX_BATCH_TOKENS};
use pgrx::bgworkers::{BackgroundWorker, SignalWakeFlags};
use pgrx::prelude::*;

use super::queue::{self, Shared, ABANDONED, DONE, FAILED, FREE, QUEUED, TAKEN};
use crate::runtime::run_on_pool;

/// Set once SIGTERM arrived (pgrx's flag is cleared by reading it).
static STOPPING: AtomicBool = AtomicBool::new(false);

fn stopping() -> bool {
    if BackgroundWorker::sigterm_received() {
        STOPPING.store(true, Ordering::Relaxed);
    }
    STOPPING.load(Ordering::Relaxed)
}

/// Loaded models by (path, weight format, modification time of the path):
/// files replaced at the same path load afresh.
type Models = HashMap<(String, u32, Option<std::time::SystemTime>), Arc<SentenceEncoder>>;

#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn persona_embedder_main(_arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    // One malloc arena: with one per inference thread, buffers freed in a
    // thread's arena stay resident there between rounds, which malloc_trim
    // does not return (bench/embedder.sh shows the difference), and the
    // worker is the one process whose memory all sessions share.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters, before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
    let Some(shared) = queue::shared() else {
        log!("persona embedder: no shared memory (persona is not in shared_preload_libraries); exiting");
        return;
    };
    let generation = shared.generation.fetch_add(1, Ordering::AcqRel) + 1;
    recover(shared);
    shared.worker_procno.store(queue::my_procno(), Ordering::Release);
    // SAFETY: plain reads of this process's globals / a clock call.
    unsafe {
        shared.started_at.store(pg_sys::GetCurrentTimestamp(), Ordering::Release);
        shared.worker_pid.store(pg_sys::MyProcPid, Ordering::Release);
    }
    super::fresh::load_targets(shared);
    let mut models = Models::new();
    let mut worked = false;
    let mut last_work = Instant::now();
    let mut last_sweep = Instant::now();
    let mut last_round = 0;
    let mut start = 0;
    while !stopping() {
        // SAFETY: reads a flag the SIGHUP handler sets.
        if BackgroundWorker::sighup_received() {
            // SAFETY: reloading the configuration file in a worker, as Postgres' own do.
            unsafe { pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP) };
        }
        gather(shared, last_round);
        let taken = take(shared, generation, &mut start);
        if !taken.is_empty() {
            last_round = taken.len();
        }
        super::fresh::launch(shared);
        if last_sweep.elapsed() >= SWEEP {
            sweep(shared);
            last_sweep = Instant::now();
        }
        if taken.is_empty() {
            if worked && last_work.elapsed() >= IDLE_TRIM {
                worked = false;
                // Idle for a while: give the freed batch buffers back to the
                // system (the allocator keeps them for speed while work
                // arrives; trimming after every round slowed one-row calls).
                #[cfg(all(target_os = "linux", target_env = "gnu"))]
                // SAFETY: malloc_trim only releases free heap memory.
                unsafe {
                    libc::malloc_trim(0);
                }
            }
            if !BackgroundWorker::wait_latch(Some(Duration::from_secs(1))) {
                STOPPING.store(true, Ordering::Relaxed);
            }
            continue;
        }
        serve(shared, &taken, &mut models);
        worked = true;
        last_work = Instant::now();
    }
    shared.worker_pid.store(0, Ordering::Release);
    // Exit code 1: the postmaster starts a new worker after the restart
    // time (also after pg_terminate_backend); at shutdown it does not.
    // SAFETY: ends this process the way Postgres' own workers do.
    unsafe { pg_sys::proc_exit(1) };
}

/// Idle time after which the worker returns freed memory to the system.
const IDLE_TRIM: Duration = Duration::from_secs(1);

/// How long a round waits for the sessions of the last round to come back.
const GATHER: Duration = Duration::from_millis(3);

/// Waits briefly while fewer requests are queued than the last round took.
/// Sessions calling `embed()` once per row send their next row as soon as
/// they get their vector: without this pause the first of them to return
/// would start a round alone and batches would shrink to one text.
fn gather(shared: &Shared, last_round: usize) {
    let started = Instant::now();
    loop {
        let (queued, _) = shared.depth();
        if queued == 0 || queued >= last_round || started.elapsed() >= GATHER {
            return;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// How often the worker looks for slots of processes that ended.
const SWEEP: Duration = Duration::from_secs(1);

/// Frees slots whose backend is gone (it could not free them itself).
fn sweep(shared: &Shared) {
    for slot in &shared.slots {
        let state = slot.state.load(Ordering::Acquire);
        // Not CLAIMED: its owner pid is stored just after the claim, so a
        // fresh claim can still show the previous, ended owner.
        if matches!(state, QUEUED | DONE | FAILED) && !queue::alive(slot.owner_pid.load(Ordering::Acquire)) {
            let _ = slot.state.compare_exchange(state, FREE, Ordering::AcqRel, Ordering::Relaxed);
        }
    }
}

/// Slots a previous worker left: running requests failed, abandoned ones freed.
fn recover(shared: &Shared) {
    for slot in &shared.slots {
        match slot.state.load(Ordering::Acquire) {
            TAKEN => fail(slot, queue::ERROR_STOPPED, "the embedder worker restarted while embedding"),
            ABANDONED => slot.state.store(FREE, Ordering::Release),
            _ => {}
        }
    }
}

/// Takes queued requests for one round: at most about four batches of
/// texts, starting after where the last round stopped, so that a session
/// with a long `embed_batch` queued cannot keep a one-row `embed()` of
/// another session waiting for more than a round.
fn take(shared: &Shared, generation: u64, start: &mut usize) -> Vec<usize> {
    let budget = 4 * crate::gucs::batch_size();
    let mut texts = 0;
    let mut taken = Vec::new();
    for k in 0..queue::SLOTS {
        let i = (*start + k) % queue::SLOTS;
        let slot = &shared.slots[i];
        if slot.state.compare_exchange(QUEUED, TAKEN, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            continue;
        }
        slot.generation.store(generation, Ordering::Release);
        // SAFETY: the worker owns the slot it just took.
        texts += unsafe { slot.request() }.n_texts as usize;
        taken.push(i);
        if texts >= budget {
            *start = (i + 1) % queue::SLOTS;
            return taken;
        }
    }
    taken
}

/// True while the backend still waits for this slot.
fn wanted(slot: &queue::Slot) -> bool {
    slot.state.load(Ordering::Acquire) == TAKEN
}

/// Publishes a finished slot, or frees it if its backend gave up.
fn finish(slot: &queue::Slot, state: u32) {
    if slot.state.compare_exchange(TAKEN, state, Ordering::AcqRel, Ordering::Acquire).is_ok() {
        slot.wake_owner();
    } else {
        slot.state.store(FREE, Ordering::Release);
    }
}

fn fail(slot: &queue::Slot, kind: u32, message: &str) {
    // SAFETY: the worker owns a TAKEN slot.
    unsafe { slot.request().put_error(kind, message) };
    finish(slot, FAILED);
}

fn fail_error(slot: &queue::Slot, e: &ModelError) {
    let kind = match e {
        ModelError::NotFound { .. } => queue::ERROR_NOT_FOUND,
        ModelError::Corrupt { .. } => queue::ERROR_CORRUPT,
        ModelError::Inference(_) => queue::ERROR_INFERENCE,
    };
    fail(slot, kind, &e.to_string());
}

fn weight_format(n: u32) -> WeightFormat {
    match n {
        1 => WeightFormat::Int8,
        2 => WeightFormat::Q4,
        _ => WeightFormat::Fp32,
    }
}

fn serve(shared: &Shared, taken: &[usize], models: &mut Models) {
    let mut groups: HashMap<(String, u32, Option<std::time::SystemTime>), Vec<usize>> = HashMap::new();
    for &i in taken {
        // SAFETY: the worker owns TAKEN slots.
        let request = unsafe { shared.slots[i].request() };
        let path = request.path();
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        groups.entry((path, request.format, modified)).or_default().push(i);
    }
    for (key, slots) in groups {
        if stopping() {
            for &i in &slots {
                fail(&shared.slots[i], queue::ERROR_STOPPED, "the embedder worker was stopped");
            }
            continue;
        }
        let encoder = match models.get(&key) {
            Some(e) => e.clone(),
            None => {
                let (dir, format) = (PathBuf::from(&key.0), weight_format(key.1));
                match run_on_pool(move || SentenceEncoder::load_with(&dir, format)) {
                    Ok(e) => {
                        let e = Arc::new(e);
                        // An older copy of the same files is not needed again.
                        models.retain(|k, _| !(k.0 == key.0 && k.1 == key.1));
                        models.insert(key.clone(), e.clone());
                        e
                    }
                    Err(e) => {
                        slots.iter().for_each(|&i| fail_error(&shared.slots[i], &e));
                        continue;
                    }
                }
            }
        };
        // SAFETY: as above.
        shared.add_model_name(&unsafe { shared.slots[slots[0]].request() }.name());
        embed_group(shared, &encoder, &slots);
    }
}

/// Embeds every text of `slots` (one model) in length-sorted batches.
fn embed_group(shared: &Shared, encoder: &SentenceEncoder, slots: &[usize]) {
    // (slot, tokens) per text, in slot order.
    let mut owners: Vec<usize> = Vec::new();
    let mut tokens: Vec<TokenizedText> = Vec::new();
    let mut failed = vec![false; slots.len()];
    for (s, &i) in slots.iter().enumerate() {
        // SAFETY: the worker owns TAKEN slots.
        let request = unsafe { shared.slots[i].request() };
        let (prefix, texts) = (request.prefix(), request.texts());
        match run_on_pool(|| texts.iter().map(|t| encoder.tokenize_with(&prefix, t)).collect::<Result<Vec<_>, _>>()) {
            Ok(t) => {
                owners.extend(std::iter::repeat_n(s, t.len()));
                tokens.extend(t);
            }
            Err(e) => {
                fail_error(&shared.slots[i], &e);
                failed[s] = true;
            }
        }
    }
    let lengths: Vec<usize> = tokens.iter().map(TokenizedText::len).collect();
    let mut vectors: Vec<Option<Vec<f32>>> = vec![None; tokens.len()];
    for positions in plan_batches(&lengths, crate::gucs::batch_size(), MAX_BATCH_TOKENS) {
        if stopping() {
            for (s, &i) in slots.iter().enumerate() {
                if !failed[s] {
                    fail(&shared.slots[i], queue::ERROR_STOPPED, "the embedder worker was stopped");
                }
            }
            return;
        }
        // Texts of backends that gave up (cancelled) are not embedded.
        let positions: Vec<usize> = positions.into_iter().filter(|&p| wanted(&shared.slots[slots[owners[p]]])).collect();
        if positions.is_empty() {
            continue;
        }
        let batch: Vec<&TokenizedText> = positions.iter().map(|&p| &tokens[p]).collect();
        let started = Instant::now();
        match run_on_pool(|| encoder.encode_batch(&batch)) {
            Ok(done) => {
                for (&p, v) in positions.iter().zip(done) {
                    vectors[p] = Some(v);
                }
            }
            Err(e) => {
                for &p in &positions {
                    let s = owners[p];
                    if !failed[s] {
                        fail_error(&shared.slots[slots[s]], &e);
                        failed[s] = true;
                    }
                }
            }
        }
        shared.busy_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        shared.batches.fetch_add(1, Ordering::Relaxed);
        shared.texts.fetch_add(positions.len() as u64, Ordering::Relaxed);
    }
    // Texts are in slot order, so each slot's vectors are one run.
    let mut at = 0;
    for (s, &i) in slots.iter().enumerate() {
        let n = owners[at..].iter().take_while(|&&o| o == s).count();
        let mine: Vec<Vec<f32>> = vectors[at..at + n].iter_mut().filter_map(Option::take).collect();
        at += n;
        if failed[s] {
            continue;
        }
        let slot = &shared.slots[i];
        // SAFETY: the worker owns TAKEN slots.
        if mine.len() == n && unsafe { slot.request().put_vectors(&mine) } {
            finish(slot, DONE);
        } else {
            fail(slot, queue::ERROR_INFERENCE, "the vectors do not fit the request");
        }
    }
}
