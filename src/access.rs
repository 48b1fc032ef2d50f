//! Who owns a model, who may use it, and running what a role stored with
//! that role's rights only.
//!
//! Every model (profile definition, item2vec, K-Means, recommender) has one
//! row in `persona.model_owners`. Training claims the name for the caller;
//! only members of the owning role (superusers are members of every role)
//! may retrain, replace, drop or grant it, or run the functions that execute
//! its stored sources. Those sources are SQL the owner wrote: they run as the
//! owner, in a security-restricted operation (as Postgres runs a
//! materialized view's query on REFRESH), so that whoever calls
//! `refresh_profiles` or `recommend` never lends them their own privileges.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::errors::{check_model_name, raise, raise_spi_error};
use crate::jsonb::JsonbText;

/// The four kinds of model persona stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Profiles,
    Item2vec,
    Kmeans,
    Recommender,
}

impl Kind {
    pub fn parse(s: &str) -> Kind {
        match s {
            "profiles" => Kind::Profiles,
            "item2vec" => Kind::Item2vec,
            "kmeans" => Kind::Kmeans,
            "recommender" => Kind::Recommender,
            other => raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("unknown kind of model \"{other}\""),
                None,
                Some("The kinds are 'profiles', 'item2vec', 'kmeans' and 'recommender'."),
            ),
        }
    }

    /// The value of `persona.model_owners.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Profiles => "profiles",
            Kind::Item2vec => "item2vec",
            Kind::Kmeans => "kmeans",
            Kind::Recommender => "recommender",
        }
    }

    /// How messages name a model of this kind.
    pub fn label(self, name: &str) -> String {
        match self {
            Kind::Profiles => format!("profiles \"{name}\""),
            Kind::Item2vec => format!("item2vec model \"{name}\""),
            Kind::Kmeans => format!("k-means model \"{name}\""),
            Kind::Recommender => format!("recommender model \"{name}\""),
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Kind::Profiles => "Build them first with persona.build_profiles().",
            Kind::Item2vec => "Train it first with persona.train_item2vec().",
            Kind::Kmeans => "Train it first with persona.kmeans_train().",
            Kind::Recommender => "Train it first with persona.train_recommender().",
        }
    }
}

fn role_name(role: pg_sys::Oid) -> String {
    Spi::get_one_with_args::<String>("SELECT $1::regrole::text", &[role.into()])
        .unwrap_or_else(|e| raise_spi_error("read a role name", e))
        .unwrap_or_else(|| role.to_u32().to_string())
}

fn current_user() -> pg_sys::Oid {
    // SAFETY: reads a backend global.
    unsafe { pg_sys::GetUserId() }
}

/// Whether the current user may act as `role` (what SET ROLE allows).
pub fn acts_as(role: pg_sys::Oid) -> bool {
    // SAFETY: a catalog lookup on the backend thread.
    unsafe { pg_sys::is_member_of_role(current_user(), role) }
}

/// The owner of a model, if it exists.
pub fn find_owner(kind: Kind, name: &str) -> Option<pg_sys::Oid> {
    Spi::get_one_with_args::<pg_sys::Oid>(
        // One row always: pgrx reads no row as an error, not as NULL.
        "SELECT (SELECT owner::oid FROM persona.model_owners WHERE kind = $1 AND name = $2)",
        &[kind.as_str().into(), name.into()],
    )
    .unwrap_or_else(|e| raise_spi_error("read persona.model_owners", e))
}

/// The owner of a model; 42704 when there is no such model.
pub fn owner(kind: Kind, name: &str) -> pg_sys::Oid {
    find_owner(kind, name).unwrap_or_else(|| {
        let verb = if kind == Kind::Profiles { "do" } else { "does" };
        raise(PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT, format!("{} {verb} not exist", kind.label(name)), None, Some(kind.hint()))
    })
}

fn not_owner(kind: Kind, name: &str, owner: pg_sys::Oid, what: &str) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
        format!("must be owner of {} to {what}", kind.label(name)),
        Some(format!("{} belongs to role \"{}\".", kind.label(name), role_name(owner))),
        Some("Only the owning role, its members and superusers may do this; the owner can share results with persona.grant_model()."),
    )
}

/// Claims a model name for training: serialises trainings of the same model
/// (a transaction-level advisory lock, taken before any work), refuses with
/// 42501 a model another role owns, and registers the caller as the owner of
/// a new one. Returns the owner.
pub fn claim(kind: Kind, name: &str) -> pg_sys::Oid {
    check_model_name(name);
    Spi::run_with_args(
        "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('persona.model'), pg_catalog.hashtext($1 || '/' || $2))",
        &[kind.as_str().into(), name.into()],
    )
    .unwrap_or_else(|e| raise_spi_error("lock the model name", e));
    if let Some(owner) = find_owner(kind, name) {
        if !acts_as(owner) {
            not_owner(kind, name, owner, "train or replace it");
        }
        return owner;
    }
    let me = current_user();
    Spi::run_with_args(
        "INSERT INTO persona.model_owners (kind, name, owner) VALUES ($1, $2, $3::oid::regrole)",
        &[kind.as_str().into(), name.into(), me.into()],
    )
    .unwrap_or_else(|e| raise_spi_error("register the model's owner", e));
    me
}

/// For the functions that run a model's stored sources: the caller must be
/// able to act as the owner. Returns the owner; 42704 / 42501 otherwise.
pub fn require_use(kind: Kind, name: &str, what: &str) -> pg_sys::Oid {
    let owner = owner(kind, name);
    if !acts_as(owner) {
        not_owner(kind, name, owner, what);
    }
    owner
}

/// For training on another model's stored results (profiles, segments,
/// item vectors): the caller must own them or have been granted them.
/// 42704 / 42501 otherwise.
pub fn require_read(kind: Kind, name: &str, what: &str) {
    let owner = owner(kind, name);
    let readable = Spi::get_one_with_args::<bool>("SELECT $2 = ANY (persona._readable($1))", &[kind.as_str().into(), name.into()])
        .unwrap_or_else(|e| raise_spi_error("read persona.model_owners", e))
        .unwrap_or(false);
    if !readable {
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("permission denied to read {} to {what}", kind.label(name)),
            Some(format!("{} belongs to role \"{}\" and is not shared with you.", kind.label(name), role_name(owner))),
            Some("Its owner can share it with persona.grant_model()."),
        );
    }
}

/// Runs `f` as `owner`, in a security-restricted operation: the code it runs
/// (the owner's sources, views and functions) cannot change role, create
/// temporary objects or queue deferred triggers that would later run with the
/// caller's rights, and its setting changes are undone. An ERROR inside is
/// cleaned up by the (sub)transaction abort, which restores the user id and
/// the settings.
pub fn as_owner<R>(owner: pg_sys::Oid, f: impl FnOnce() -> R) -> R {
    if !acts_as(owner) {
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("cannot run as role \"{}\"", role_name(owner)),
            None,
            None,
        );
    }
    let mut saved_user = pg_sys::InvalidOid;
    let mut saved_context: i32 = 0;
    // SAFETY: backend globals, read and set on the backend thread; restored below.
    let nest = unsafe {
        pg_sys::GetUserIdAndSecContext(&mut saved_user, &mut saved_context);
        let restricted = (pg_sys::SECURITY_LOCAL_USERID_CHANGE | pg_sys::SECURITY_RESTRICTED_OPERATION) as i32;
        pg_sys::SetUserIdAndSecContext(owner, saved_context | restricted);
        pg_sys::NewGUCNestLevel()
    };
    let result = f();
    // SAFETY: as above; undoes exactly what was done before `f`.
    unsafe {
        pg_sys::AtEOXact_GUC(false, nest);
        pg_sys::SetUserIdAndSecContext(saved_user, saved_context);
    }
    result
}

/// Runs one statement as `owner` (see [`as_owner`]) and returns its first
/// column of its first row as jsonb, or, for a statement that returns no
/// rows, the number of rows it processed. Arguments are text (`$1::type` in
/// the statement). A role may only run as a role it can already SET ROLE to,
/// so this gives nobody more rights than they have; persona's PL/pgSQL
/// functions use it to read the sources a model's owner stored.
#[pg_extern(volatile, parallel_unsafe, name = "_as_owner")]
fn as_owner_sql(owner: pg_sys::Oid, query: &str, args: default!(Vec<Option<String>>, "'{}'")) -> Option<JsonbText> {
    as_owner(owner, || {
        Spi::connect_mut(|client| {
            let args: Vec<pgrx::datum::DatumWithOid> = args.iter().map(|a| a.clone().into()).collect();
            let table = client.update(query, None, &args).unwrap_or_else(|e| raise_spi_error("read the model's source", e));
            let processed = table.len();
            let has_columns = table.columns().map(|n| n > 0).unwrap_or(false);
            if has_columns {
                if processed == 0 {
                    return None;
                }
                // Passed on as jsonb text, never parsed: pgrx's JsonB
                // panicked (XX000) on a deeply nested value (src/jsonb.rs).
                table.first().get_one::<JsonbText>().unwrap_or_else(|e| raise_spi_error("read the model's source", e))
            } else {
                Some(JsonbText::from_value(&serde_json::json!(processed)))
            }
        })
    })
}

/// `persona._claim_model(kind, name)`: [`claim`] for the PL/pgSQL builders.
#[pg_extern(volatile, parallel_unsafe, name = "_claim_model")]
fn claim_sql(kind: Option<&str>, name: Option<&str>) -> pg_sys::Oid {
    crate::errors::required!(kind, name);
    claim(Kind::parse(kind), name)
}

/// `persona._use_model(kind, name, what)`: [`require_use`] for PL/pgSQL.
#[pg_extern(stable, parallel_unsafe, name = "_use_model")]
fn use_sql(kind: Option<&str>, name: Option<&str>, what: Option<&str>) -> pg_sys::Oid {
    crate::errors::required!(kind, name, what);
    require_use(Kind::parse(kind), name, what)
}
