//! From one user's raw events to [`UserSignals`], so that every caller (the
//! SQL side, the offline evaluation) counts the same way.

use crate::error::{bad_input, bad_parameter, RiskError};
use crate::UserSignals;

/// What an event type means for risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A look at an item.
    View,
    /// An item put in the cart.
    Cart,
    /// An item bought (one event per line).
    Purchase,
    /// A refund or a return of a purchase.
    Refund,
    /// Anything else (a search, a login): counted in `events` only.
    Other,
}

/// Which event type names are views, carts, purchases and refunds. The
/// defaults are the names persona's own tables use (`purchase_types`
/// defaults to `{purchase}` there) plus the usual names of returns.
#[derive(Debug, Clone, PartialEq)]
pub struct EventTypes {
    /// Names counted as views.
    pub views: Vec<String>,
    /// Names counted as carts.
    pub carts: Vec<String>,
    /// Names counted as purchases.
    pub purchases: Vec<String>,
    /// Names counted as refunds or returns.
    pub refunds: Vec<String>,
}

impl Default for EventTypes {
    fn default() -> Self {
        let v = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
        EventTypes {
            views: v(&["view"]),
            carts: v(&["cart"]),
            purchases: v(&["purchase"]),
            refunds: v(&["refund", "return"]),
        }
    }
}

impl EventTypes {
    /// The kind of an event type name (exact match; a name in two lists is
    /// rejected by [`EventTypes::check`]).
    pub fn classify(&self, event_type: &str) -> EventKind {
        let has = |list: &[String]| list.iter().any(|n| n == event_type);
        if has(&self.views) {
            EventKind::View
        } else if has(&self.carts) {
            EventKind::Cart
        } else if has(&self.purchases) {
            EventKind::Purchase
        } else if has(&self.refunds) {
            EventKind::Refund
        } else {
            EventKind::Other
        }
    }

    /// Rejects a name listed under two kinds, which would count one event twice
    /// in the caller's mind and once here.
    pub fn check(&self) -> Result<(), RiskError> {
        let lists = [("views", &self.views), ("carts", &self.carts), ("purchases", &self.purchases), ("refunds", &self.refunds)];
        for (i, (a, la)) in lists.iter().enumerate() {
            for (b, lb) in &lists[i + 1..] {
                if let Some(n) = la.iter().find(|n| lb.contains(n)) {
                    return Err(bad_parameter(format!("event type '{n}' is listed as both {a} and {b}")));
                }
            }
        }
        Ok(())
    }
}

/// One event of one user.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// Unix time in seconds.
    pub at: i64,
    /// The item the event is about.
    pub item: i64,
    /// What the event is.
    pub kind: EventKind,
    /// Amount paid, for purchases; ignored on other kinds.
    pub amount: Option<f64>,
}

/// Most events in any half-open window `[t, t + window_secs)`; `times` in any
/// order (sorted here).
pub fn peak_window_events(times: &[i64], window_secs: i64) -> i64 {
    let mut t = times.to_vec();
    t.sort_unstable();
    let mut best = 0usize;
    let mut lo = 0usize;
    for hi in 0..t.len() {
        while t[hi].saturating_sub(t[lo]) >= window_secs {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best as i64
}

/// The signals of one user from all of its events (any order) and its signup
/// time, if known (else the first event stands in for it). `ring` is left
/// `None`: rings come from clustering the users' signatures. `user` is the
/// position reported in an error.
pub fn signals_from_events(events: &[Event], signup_at: Option<i64>, window_secs: i64, user: usize) -> Result<UserSignals, RiskError> {
    if window_secs < 1 {
        return Err(bad_parameter(format!("window_secs must be at least 1 second, not {window_secs}")));
    }
    let mut s = UserSignals {
        events: events.len() as i64,
        ..UserSignals::default()
    };
    if events.is_empty() {
        return Ok(s);
    }
    let mut items: Vec<i64> = Vec::with_capacity(events.len());
    let mut times: Vec<i64> = Vec::with_capacity(events.len());
    let mut first_purchase: Option<i64> = None;
    let mut spend: Option<f64> = None;
    for e in events {
        items.push(e.item);
        times.push(e.at);
        match e.kind {
            EventKind::View => s.views += 1,
            EventKind::Cart => s.carts += 1,
            EventKind::Refund => s.refunds += 1,
            EventKind::Other => {}
            EventKind::Purchase => {
                s.purchases += 1;
                first_purchase = Some(first_purchase.map_or(e.at, |f| f.min(e.at)));
                if let Some(a) = e.amount {
                    if !a.is_finite() || a < 0.0 {
                        return Err(bad_input(user, format!("purchase amount must be finite and at least 0, not {a}")));
                    }
                    spend = Some(spend.unwrap_or(0.0) + a);
                }
            }
        }
    }
    items.sort_unstable();
    items.dedup();
    s.distinct_items = items.len() as i64;
    let first = *times.iter().min().unwrap_or(&0);
    let last = *times.iter().max().unwrap_or(&0);
    s.active_span_secs = last - first;
    s.peak_window_events = peak_window_events(&times, window_secs);
    if let Some(p) = first_purchase {
        let created = signup_at.map_or(first, |t| t.min(first));
        s.account_age_days_at_first_purchase = Some((p - created) as f64 / 86_400.0);
    }
    s.spend = spend;
    Ok(s)
}
