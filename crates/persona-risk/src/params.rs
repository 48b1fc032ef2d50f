//! The settings of [`score`](crate::score), checked in one place. The
//! messages are meant for the person who typed the settings.

use crate::error::{bad_parameter, RiskError};

/// Longest velocity window: a day; beyond it "velocity" is just volume.
pub const MAX_WINDOW_SECS: i64 = 86_400;

/// How risk is scored. Every signal is compared with the same shop's users,
/// so none of these is a limit on a count; they say how much surprise counts
/// as evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskParams {
    /// Length of the sliding window of `peak_window_events`, in seconds. The
    /// caller computes the peak with it; the scorer only names it in the text.
    pub window_secs: i64,
    /// Robust standard deviations above the shop's typical value a signal must
    /// reach before it adds to the score. Each signal adds what it has beyond
    /// this, so a user with no signal past it scores exactly 0.
    pub threshold: f64,
    /// Smallest robust scale of a signal, in natural-log units, for signals the
    /// shop's users barely vary on (most accounts are in no ring): without it the
    /// first step away from "everyone" would be an unbounded surprise. `ln 2`
    /// means doubling such a signal is one standard deviation at most.
    pub min_log_scale: f64,
    /// An account that makes its first purchase within this many days of its
    /// creation is a new account for the spend signal.
    pub new_account_days: f64,
    /// Fewest new-account buyers needed to compare a new account's spend with
    /// theirs; with fewer, it is compared with all buyers' spend.
    pub min_reference: i64,
    /// Fewest distinct items a user's sequence must have for its ring to count:
    /// two shoppers who looked at the same one or two items share a signature by
    /// chance, a crawl of many items does not.
    pub ring_min_items: i64,
}

impl Default for RiskParams {
    fn default() -> Self {
        RiskParams {
            window_secs: 600,
            threshold: 3.0,
            min_log_scale: std::f64::consts::LN_2,
            new_account_days: 1.0,
            min_reference: 20,
            ring_min_items: 5,
        }
    }
}

impl RiskParams {
    /// Every setting inside its domain, or the first one that is not.
    pub fn check(&self) -> Result<(), RiskError> {
        if !(1..=MAX_WINDOW_SECS).contains(&self.window_secs) {
            return Err(bad_parameter(format!(
                "window_secs must be between 1 and {MAX_WINDOW_SECS}, not {}",
                self.window_secs
            )));
        }
        if !self.threshold.is_finite() || !(0.0..=20.0).contains(&self.threshold) {
            return Err(bad_parameter(format!(
                "threshold must be between 0 and 20 standard deviations, not {}",
                self.threshold
            )));
        }
        if !self.min_log_scale.is_finite() || self.min_log_scale <= 0.0 || self.min_log_scale > 10.0 {
            return Err(bad_parameter(format!(
                "min_log_scale must be above 0 and at most 10, not {}",
                self.min_log_scale
            )));
        }
        if !self.new_account_days.is_finite() || self.new_account_days <= 0.0 || self.new_account_days > 3650.0 {
            return Err(bad_parameter(format!(
                "new_account_days must be above 0 and at most 3650, not {}",
                self.new_account_days
            )));
        }
        if self.min_reference < 1 {
            return Err(bad_parameter(format!("min_reference must be at least 1, not {}", self.min_reference)));
        }
        if self.ring_min_items < 1 {
            return Err(bad_parameter(format!("ring_min_items must be at least 1, not {}", self.ring_min_items)));
        }
        Ok(())
    }
}
