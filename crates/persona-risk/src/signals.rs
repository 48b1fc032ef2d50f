//! What the scorer knows about one user: counts and times taken from the
//! user's events, plus the ring the user belongs to, if any.
//!
//! Counts are `i64` because that is what SQL hands over (`count(*)` is a
//! bigint); [`UserSignals::validate`] turns a negative or inconsistent one
//! into [`RiskError::BadInput`] rather than trusting the caller.

use crate::error::{bad_input, RiskError};

/// One user's behaviour over the scored period. [`crate::signals_from_events`]
/// computes all of it from the events; a SQL caller can compute the same with
/// aggregates and pass it in.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserSignals {
    /// All events of the user, of any type.
    pub events: i64,
    /// Events of a view type.
    pub views: i64,
    /// Events of a cart type.
    pub carts: i64,
    /// Events of a purchase type (one per purchased line, not per order).
    pub purchases: i64,
    /// Events of a refund or return type.
    pub refunds: i64,
    /// Distinct items over all events.
    pub distinct_items: i64,
    /// Most events inside any window of [`crate::RiskParams::window_secs`]
    /// seconds (events at `t` and later, before `t + window`).
    pub peak_window_events: i64,
    /// Seconds from the first event to the last.
    pub active_span_secs: i64,
    /// Days from the account's creation (its signup, else the first event) to
    /// its first purchase; `None` without a purchase.
    pub account_age_days_at_first_purchase: Option<f64>,
    /// Amount paid over all purchases; `None` when unknown or nothing was bought.
    pub spend: Option<f64>,
    /// `(ring id, accounts in the ring including this one)` when ring detection
    /// (DBSCAN over [`crate::sequence_signature`]) put the user in one.
    pub ring: Option<(i64, i64)>,
}

impl UserSignals {
    /// Checks that the numbers can describe real events; `user` is the
    /// position reported in the error.
    pub fn validate(&self, user: usize) -> Result<(), RiskError> {
        let counts = [
            ("events", self.events),
            ("views", self.views),
            ("carts", self.carts),
            ("purchases", self.purchases),
            ("refunds", self.refunds),
            ("distinct_items", self.distinct_items),
            ("peak_window_events", self.peak_window_events),
            ("active_span_secs", self.active_span_secs),
        ];
        for (name, v) in counts {
            if v < 0 {
                return Err(bad_input(user, format!("{name} is negative ({v})")));
            }
        }
        let typed = self.views as i128 + self.carts as i128 + self.purchases as i128 + self.refunds as i128;
        if typed > self.events as i128 {
            return Err(bad_input(
                user,
                format!("views, carts, purchases and refunds add up to {typed}, more than the {} events", self.events),
            ));
        }
        for (name, v) in [("distinct_items", self.distinct_items), ("peak_window_events", self.peak_window_events)] {
            if v > self.events {
                return Err(bad_input(user, format!("{name} ({v}) is more than the {} events", self.events)));
            }
        }
        if self.events > 0 && self.peak_window_events == 0 {
            return Err(bad_input(user, "peak_window_events is 0 although there are events"));
        }
        if let Some(age) = self.account_age_days_at_first_purchase {
            if !age.is_finite() || age < 0.0 {
                return Err(bad_input(
                    user,
                    format!("account_age_days_at_first_purchase must be a finite number of days, at least 0, not {age}"),
                ));
            }
        }
        if let Some(spend) = self.spend {
            if !spend.is_finite() || spend < 0.0 {
                return Err(bad_input(user, format!("spend must be finite and at least 0, not {spend}")));
            }
        }
        if let Some((_, size)) = self.ring {
            if size < 1 {
                return Err(bad_input(user, format!("ring size must count the user itself (at least 1), not {size}")));
            }
        }
        Ok(())
    }
}
