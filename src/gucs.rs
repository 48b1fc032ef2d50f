//! Every `persona.*` setting, in one place.
//!
//! Defaults are chosen for a small shared server: the default model ships
//! with the extension, and embedding uses as many threads as there are cores
//! unless a DBA says otherwise.

use std::ffi::CStr;

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};

/// Model used when a function's `model` argument is NULL.
pub static DEFAULT_MODEL: GucSetting<Option<std::ffi::CString>> =
    GucSetting::<Option<std::ffi::CString>>::new(Some(c"all-MiniLM-L6-v2"));

/// Threads per backend for model inference; 0 means one per CPU core, and
/// larger values are capped at the core count.
pub static THREADS: GucSetting<i32> = GucSetting::<i32>::new(0);

/// Texts per forward pass; also the granularity of cancellation.
pub static BATCH_SIZE: GucSetting<i32> = GucSetting::<i32>::new(32);

/// Memory K-Means training may use to hold the vectors, in kB.
pub static KMEANS_WORK_MEM: GucSetting<i32> = GucSetting::<i32>::new(1024 * 1024);

/// Whether this session's embedding goes to the embedder worker when one runs.
static USE_EMBEDDER: GucSetting<bool> = GucSetting::<bool>::new(true);

/// Segments smaller than this are hidden in persona.segments.
static K_ANONYMITY_FLOOR: GucSetting<i32> = GucSetting::<i32>::new(10);

pub const DEFAULT_MODEL_FALLBACK: &str = "all-MiniLM-L6-v2";

pub fn init() {
    GucRegistry::define_string_guc(
        c"persona.default_model",
        c"Model used by persona.embed() and friends when no model is named.",
        c"A name from persona.models.",
        &DEFAULT_MODEL,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"persona.threads",
        c"Threads each backend uses for model inference and model fitting (0 = one per CPU core; at most the number of cores).",
        c"Takes effect at the next call that uses the pool. A backend keeps one pool; a new size replaces it (the old threads end). Values above the core count use the core count.",
        &THREADS,
        0,
        256,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"persona.batch_size",
        c"Texts per model forward pass in batched embedding.",
        c"Larger batches are faster per text up to a point; cancellation is checked between batches.",
        &BATCH_SIZE,
        1,
        4096,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"persona.use_embedder",
        c"Embed through the shared embedder worker when it runs (persona in shared_preload_libraries).",
        c"Off: this session loads its own copy of each model and embeds in its own process, as without the worker. SELECT * FROM persona.embedder shows which mode is active.",
        &USE_EMBEDDER,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"persona.kmeans_work_mem",
        c"Memory persona.kmeans_train() may use to hold the training vectors.",
        c"Larger sources are trained with one pass over the source per iteration instead.",
        &KMEANS_WORK_MEM,
        64,
        i32::MAX,
        GucContext::Userset,
        GucFlags::UNIT_KB,
    );
    GucRegistry::define_int_guc(
        c"persona.k_anonymity_floor",
        c"Segments with fewer members are hidden in persona.segments and the report.",
        c"Protects small groups of users from being singled out. Only a superuser sets it (the readers it protects against must not lower it); a model's owner may raise it for one model with kmeans_train(k_anonymity_floor => n).",
        &K_ANONYMITY_FLOOR,
        1,
        i32::MAX,
        GucContext::Suset,
        GucFlags::default(),
    );
}

/// `persona.kmeans_work_mem` in bytes.
pub fn kmeans_work_mem_bytes() -> usize {
    (KMEANS_WORK_MEM.get().max(64) as usize).saturating_mul(1024)
}

/// The default model's name, as set now.
pub fn default_model() -> String {
    DEFAULT_MODEL
        .get()
        .as_deref()
        .map(CStr::to_string_lossy)
        .map(|s| s.into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_MODEL_FALLBACK.to_owned())
}

/// Inference threads: the setting, or the number of cores when it is 0,
/// never more than the cores. More threads than cores only adds contention,
/// and any user may SET this: uncapped, each backend could start 256.
pub fn threads() -> usize {
    let cores = cores();
    match THREADS.get() {
        n if n > 0 => (n as usize).min(cores),
        _ => cores,
    }
}

/// The cores this backend may run on (CPU affinity and cgroup quota
/// included), read once: it reads files under /proc and /sys.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// `persona.k_anonymity_floor`, as set by a superuser.
pub fn k_anonymity_floor() -> i32 {
    K_ANONYMITY_FLOOR.get().max(1)
}

pub fn use_embedder() -> bool {
    USE_EMBEDDER.get()
}

pub fn batch_size() -> usize {
    BATCH_SIZE.get().max(1) as usize
}

/// `persona._k_anonymity_floor()`: the floor for views. Reading the setting
/// through this function loads the library first, so that a value a
/// non-superuser set before it was loaded (a placeholder, which Postgres
/// drops when the real setting is defined) can never stand in for it.
#[pgrx::pg_extern(stable, parallel_safe, name = "_k_anonymity_floor")]
fn k_anonymity_floor_sql() -> i32 {
    k_anonymity_floor()
}
