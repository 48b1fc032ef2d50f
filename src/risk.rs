//! `persona._score_risks()`: risk scores with reasons for the users of one
//! profile definition, from that definition's events (read as its owner).
//!
//! This file only reads events, hands them to the maths and writes rows:
//! the signals and the score are `persona_risk`'s, the rings (DBSCAN over
//! the users' item-sequence signatures) `persona_cluster::rings`. Results go
//! to `persona.risk_scores` and `persona.risk_rings`, replacing the
//! definition's earlier ones in the caller's transaction.

use std::time::Instant;

use persona_cluster::{rings, Metric, RingParams, SliceRows};
use persona_risk::{score, sequence_signature, signals_from_events, Event, EventTypes, RiskError, RiskParams, UserSignals};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::access::{self, as_owner, Kind};
use crate::errors::{raise, raise_cluster_error, raise_spi_error as spi_err, required};
use crate::runtime::run_on_pool;
use crate::sql_text::{quote_ident, quote_literal as literal};

/// Dimension of the item-sequence signatures the rings are found on.
const SIGNATURE_DIM: usize = 256;
/// Members listed per ring in `persona.risk_rings` (its size counts them all).
const RING_MEMBERS_SHOWN: usize = 1000;

fn raise_risk_error(e: RiskError) -> ! {
    match e {
        RiskError::Cancelled => raise(
            PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
            "canceling statement due to an interrupt".to_owned(),
            None,
            None,
        ),
        RiskError::BadInput { .. } => raise(PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, e.to_string(), None, None),
        other => raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, other.to_string(), None, None),
    }
}

/// One user's events, as read.
struct UserEvents {
    user: i64,
    events: Vec<Event>,
    /// Item ids in time order, for the signature.
    items: Vec<i64>,
}

/// The event type names of an array argument; 22004 for a NULL element.
fn no_nulls(v: Vec<Option<String>>, name: &str) -> Vec<String> {
    v.into_iter()
        .map(|x| x.unwrap_or_else(|| raise(PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED, format!("{name} must not contain NULL"), None, None)))
        .collect()
}

fn text_list(v: &serde_json::Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe, name = "_score_risks")]
fn score_risks(
    profiles: Option<&str>,
    window_secs: Option<i64>,
    view_types: Option<Vec<Option<String>>>,
    cart_types: Option<Vec<Option<String>>>,
    refund_types: Option<Vec<Option<String>>>,
    ring_distance: Option<f64>,
    ring_min_accounts: Option<i32>,
    threshold: Option<f64>,
    signup_col: Option<String>,
) -> TableIterator<'static, (name!(users, i64), name!(risky, i64), name!(rings, i64), name!(seconds, f64))> {
    required!(profiles, window_secs, view_types, cart_types, refund_types, ring_distance, ring_min_accounts, threshold);
    let (view_types, cart_types, refund_types) =
        (no_nulls(view_types, "view_types"), no_nulls(cart_types, "cart_types"), no_nulls(refund_types, "refund_types"));
    let started = Instant::now();
    let owner = access::require_use(Kind::Profiles, profiles, "score their risks");
    // No row comes back as an Err from get_two: both mean no definition.
    let definition = Spi::get_two_with_args::<crate::jsonb::JsonbText, String>(
        "SELECT options, as_of::text FROM persona.profile_definitions WHERE name = $1",
        &[profiles.into()],
    );
    let Ok((Some(options), as_of)) = definition else {
        raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("profiles \"{profiles}\" do not exist"),
            None,
            Some("Build them first with persona.build_profiles()."),
        )
    };
    let o = options.parse("the stored options of the profiles");
    let col = |k: &str| o.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let types = EventTypes {
        views: view_types,
        carts: cart_types,
        purchases: text_list(o.get("purchase_types").unwrap_or(&serde_json::Value::Null)),
        refunds: refund_types,
    };
    types.check().unwrap_or_else(|e| raise_risk_error(e));
    let params = RiskParams { window_secs, threshold, ..RiskParams::default() };
    params.check().unwrap_or_else(|e| raise_risk_error(e));
    let ring_params = RingParams { eps: ring_distance, min_points: ring_min_accounts.into(), metric: "cosine" }
        .check()
        .unwrap_or_else(|e| raise_cluster_error(e));

    let Some(events_source) = col("events") else {
        raise(PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT, format!("profiles \"{profiles}\" have no events source"), None, None)
    };
    let from = crate::source::from_item(&events_source, "events");
    let expr = |k: &str| col(k).map_or_else(|| "NULL".to_owned(), |c| format!("s.{}", quote_ident(&c)));
    let (u, i, t, ty) = (expr("user_col"), expr("item_col"), expr("time_col"), expr("type_col"));
    let amount = match (col("price_col"), col("quantity_col")) {
        (Some(p), Some(q)) => format!("(s.{})::float8 * coalesce((s.{})::float8, 1)", quote_ident(&p), quote_ident(&q)),
        (Some(p), None) => format!("(s.{})::float8", quote_ident(&p)),
        _ => "NULL::float8".to_owned(),
    };
    let until = as_of.map_or_else(|| "true".to_owned(), |a| format!("({t})::timestamptz <= {}::timestamptz", literal(&a)));
    let query = format!(
        "SELECT ({u})::bigint, ({i})::bigint, ({ty})::text, floor(extract(epoch FROM ({t})::timestamptz))::bigint, {amount}
         FROM {from} s WHERE {u} IS NOT NULL AND {ty} IS NOT NULL AND {t} IS NOT NULL AND {until} ORDER BY 1, 4"
    );
    // Account creation times, from the definition's users source.
    let signup_query = signup_col.as_deref().map(|c| {
        let Some(users_source) = col("users") else {
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("profiles \"{profiles}\" have no users source to read signup_col from"),
                None,
                Some("Give build_profiles() a users table, or leave signup_col NULL."),
            )
        };
        let key = col("users_key_col").unwrap_or_else(|| "user_id".to_owned());
        format!(
            "SELECT (s.{})::bigint, floor(extract(epoch FROM (s.{})::timestamptz))::bigint FROM {} s WHERE s.{} IS NOT NULL AND s.{} IS NOT NULL",
            quote_ident(&key),
            quote_ident(c),
            crate::source::from_item(&users_source, "users"),
            quote_ident(&key),
            quote_ident(c)
        )
    });
    let mut signups: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    let mut users: Vec<UserEvents> = Vec::new();
    let job = crate::progress::Job::start("score_risks", "reading signup times", "rows", None);
    as_owner(owner, || {
        Spi::connect(|client| {
            if let Some(q) = &signup_query {
                let mut cursor = client.open_cursor(q, &[]);
                loop {
                    check_for_interrupts!();
                    let batch = cursor.fetch(10_000).unwrap_or_else(|e| spi_err("read the signup times", e));
                    if batch.is_empty() {
                        break;
                    }
                    job.add(batch.len() as i64);
                    for row in batch {
                        if let (Ok(Some(u)), Ok(Some(at))) = (row.get::<i64>(1), row.get::<i64>(2)) {
                            signups.insert(u, at);
                        }
                    }
                }
            }
            job.phase("reading events", "rows", None);
            let mut cursor = client.open_cursor(&query, &[]);
            loop {
                check_for_interrupts!();
                let batch = cursor.fetch(10_000).unwrap_or_else(|e| spi_err("read the events", e));
                if batch.is_empty() {
                    break;
                }
                job.add(batch.len() as i64);
                for row in batch {
                    let (Ok(Some(user)), Ok(Some(kind)), Ok(Some(at))) = (row.get::<i64>(1), row.get::<String>(3), row.get::<i64>(4)) else {
                        continue;
                    };
                    let item = row.get::<i64>(2).ok().flatten();
                    if users.last().map(|x| x.user) != Some(user) {
                        users.push(UserEvents { user, events: Vec::new(), items: Vec::new() });
                    }
                    let last = users.last_mut().expect("pushed above");
                    let amount = row.get::<f64>(5).ok().flatten().filter(|a| a.is_finite() && *a >= 0.0);
                    last.events.push(Event { at, item: item.unwrap_or(-1), kind: types.classify(&kind), amount });
                    if let Some(item) = item {
                        last.items.push(item);
                    }
                }
            }
        })
    });
    if users.is_empty() {
        pgrx::notice!("profiles \"{profiles}\": no events to score");
    }

    // The maths on the pool; interrupts are checked on this thread between steps.
    job.phase("signals and signatures", "steps", None);
    let mut signals: Vec<UserSignals> = users
        .iter()
        .enumerate()
        .map(|(n, x)| signals_from_events(&x.events, signups.get(&x.user).copied(), window_secs, n).unwrap_or_else(|e| raise_risk_error(e)))
        .collect();
    check_for_interrupts!();
    let signatures: Vec<f32> = run_on_pool(|| {
        let mut all = Vec::with_capacity(users.len() * SIGNATURE_DIM);
        for x in &users {
            match sequence_signature(&x.items, SIGNATURE_DIM) {
                Ok(v) => all.extend(v),
                Err(_) => all.extend(std::iter::repeat(0.0).take(SIGNATURE_DIM)),
            }
        }
        all
    });
    check_for_interrupts!();
    job.phase("finding rings of near-identical accounts", "steps", None);
    // Users without items have an all-zero signature and never form a ring.
    let with_items: Vec<usize> = (0..users.len()).filter(|&n| !users[n].items.is_empty()).collect();
    let mut ring_rows = Vec::with_capacity(with_items.len() * SIGNATURE_DIM);
    for &n in &with_items {
        ring_rows.extend_from_slice(&signatures[n * SIGNATURE_DIM..(n + 1) * SIGNATURE_DIM]);
    }
    let mut ring_of: Vec<Option<u32>> = vec![None; users.len()];
    let mut ring_sizes: Vec<usize> = Vec::new();
    if !with_items.is_empty() {
        let source = SliceRows::new(&ring_rows, SIGNATURE_DIM, Metric::Cosine, 5_000, 1).unwrap_or_else(|e| raise_cluster_error(e));
        let stop = || {
            check_for_interrupts!();
            job.add(1);
            false
        };
        let progress = |_p| {};
        let parallel = |work: &mut (dyn FnMut() + Send)| run_on_pool(work);
        let hooks = persona_cluster::Hooks { stop: &stop, progress: &progress, parallel: &parallel };
        let found = rings(&source, &ring_params, &hooks).unwrap_or_else(|e| raise_cluster_error(e));
        for (k, &n) in with_items.iter().enumerate() {
            ring_of[n] = found.label[k];
        }
        ring_sizes = found.sizes;
    }
    for (s, r) in signals.iter_mut().zip(&ring_of) {
        s.ring = r.map(|r| (i64::from(r), ring_sizes[r as usize] as i64));
    }
    job.phase("scoring", "steps", None);
    let risks = {
        let stop = || false;
        run_on_pool(|| score(&signals, &params, &stop)).unwrap_or_else(|e| raise_risk_error(e))
    };
    check_for_interrupts!();

    // Write: replace the definition's scores and rings.
    job.phase("writing scores", "users", Some(users.len() as i64));
    Spi::run_with_args("DELETE FROM persona.risk_scores WHERE name = $1", &[profiles.into()]).unwrap_or_else(|e| spi_err("write persona.risk_scores", e));
    Spi::run_with_args("DELETE FROM persona.risk_rings WHERE name = $1", &[profiles.into()]).unwrap_or_else(|e| spi_err("write persona.risk_rings", e));
    let mut risky = 0i64;
    for chunk in (0..users.len()).collect::<Vec<_>>().chunks(50_000) {
        check_for_interrupts!();
        let ids: Vec<i64> = chunk.iter().map(|&n| users[n].user).collect();
        let scores: Vec<f64> = chunk.iter().map(|&n| risks[n].score).collect();
        let rings_col: Vec<Option<i32>> = chunk.iter().map(|&n| ring_of[n].map(|r| r as i32)).collect();
        let reasons: Vec<String> = chunk
            .iter()
            .map(|&n| {
                serde_json::Value::Array(
                    risks[n]
                        .reasons
                        .iter()
                        .map(|r| {
                            serde_json::json!({"reason": r.kind.code(), "value": r.value, "typical": r.typical,
                                               "contribution": r.contribution, "text": r.text, "text_zh": r.text_zh})
                        })
                        .collect(),
                )
                .to_string()
            })
            .collect();
        risky += scores.iter().filter(|&&s| s > 0.0).count() as i64;
        Spi::run_with_args(
            "INSERT INTO persona.risk_scores (name, user_id, score, ring, reasons)
             SELECT $1, u, s, r, x::jsonb FROM unnest($2::bigint[], $3::float8[], $4::int[], $5::text[]) AS t(u, s, r, x)",
            &[profiles.into(), ids.into(), scores.into(), rings_col.into(), reasons.into()],
        )
        .unwrap_or_else(|e| spi_err("write persona.risk_scores", e));
        job.add(chunk.len() as i64);
    }
    // Members of every ring in one pass over the users.
    let mut members: Vec<Vec<i64>> = vec![Vec::new(); ring_sizes.len()];
    for (n, r) in ring_of.iter().enumerate() {
        if let Some(list) = r.and_then(|r| members.get_mut(r as usize)).filter(|l| l.len() < RING_MEMBERS_SHOWN) {
            list.push(users[n].user);
        }
    }
    for (r, (&size, list)) in ring_sizes.iter().zip(members).enumerate() {
        Spi::run_with_args(
            "INSERT INTO persona.risk_rings (name, ring, size, members) VALUES ($1, $2, $3, $4)",
            &[profiles.into(), (r as i32).into(), (size as i64).into(), list.into()],
        )
        .unwrap_or_else(|e| spi_err("write persona.risk_rings", e));
    }
    let seconds = started.elapsed().as_secs_f64();
    pgrx::notice!(
        "profiles \"{profiles}\": scored {} users: {risky} with a risk reason, {} of near-identical item sequences",
        users.len(),
        match ring_sizes.len() {
            1 => "1 ring".to_owned(),
            n => format!("{n} rings"),
        }
    );
    TableIterator::once((users.len() as i64, risky, ring_sizes.len() as i64, seconds))
}
