//! Why a user is risky, in numbers and in words.

/// The signals a risk is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReasonKind {
    /// Many events in a short window.
    Velocity,
    /// Many views for each cart or purchase (or none at all).
    ViewsWithoutPurchase,
    /// The same item sequence as other accounts.
    Ring,
    /// A new account spending much more than new accounts do.
    NewAccountHighSpend,
    /// More refunds or returns than the shop's rate explains.
    Refunds,
}

impl ReasonKind {
    /// Every kind, in a fixed order.
    pub const ALL: [ReasonKind; 5] = [
        ReasonKind::Velocity,
        ReasonKind::ViewsWithoutPurchase,
        ReasonKind::Ring,
        ReasonKind::NewAccountHighSpend,
        ReasonKind::Refunds,
    ];

    /// A stable snake_case name for storing, translating and reporting.
    pub fn code(self) -> &'static str {
        match self {
            ReasonKind::Velocity => "velocity",
            ReasonKind::ViewsWithoutPurchase => "views_without_purchase",
            ReasonKind::Ring => "ring",
            ReasonKind::NewAccountHighSpend => "new_account_high_spend",
            ReasonKind::Refunds => "refunds",
        }
    }

    /// The kind of a [`code`](ReasonKind::code).
    pub fn from_code(code: &str) -> Option<ReasonKind> {
        ReasonKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// One signal that made a user risky.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// The signal.
    pub kind: ReasonKind,
    /// The user's value: peak events in the window, views per cart or
    /// purchase, other accounts in the ring, spend, refunds.
    pub value: f64,
    /// The shop's typical value of the same: its median (for refunds, the
    /// shop's refund rate).
    pub typical: f64,
    /// What the signal adds to the score: its robust z beyond the threshold.
    pub contribution: f64,
    /// The reason in English, with the numbers.
    pub text: String,
    /// The same reason in Chinese (simplified), for Chinese shops' reports.
    pub text_zh: String,
}

/// The risk of one user.
#[derive(Debug, Clone, PartialEq)]
pub struct Risk {
    /// Sum of the reasons' contributions: 0 when nothing is unusual, higher the
    /// more signals and the further they are from the shop's usual.
    pub score: f64,
    /// The signals past the threshold, largest contribution first.
    pub reasons: Vec<Reason>,
}

impl Risk {
    /// The reasons' texts joined with "; " (empty when there are none).
    pub fn summary(&self) -> String {
        self.reasons.iter().map(|r| r.text.as_str()).collect::<Vec<_>>().join("; ")
    }
}

/// An integer with thousands separators.
pub(crate) fn count(v: f64) -> String {
    let n = v.round().max(0.0) as u64;
    group(&n.to_string())
}

/// A typical value: whole when it is, else one decimal.
pub(crate) fn typical(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        count(v)
    } else {
        format!("{:.1}", v)
    }
}

/// Money with two decimals and thousands separators.
pub(crate) fn money(v: f64) -> String {
    let cents = (v * 100.0).round().max(0.0) as u64;
    format!("{}.{:02}", group(&(cents / 100).to_string()), cents % 100)
}

/// A share as a percentage, with more digits when it is small.
pub(crate) fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p >= 10.0 || p == 0.0 {
        format!("{p:.0}%")
    } else if p >= 1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.2}%")
    }
}

/// A window length in the largest whole unit.
pub(crate) fn duration(secs: i64) -> String {
    let unit = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    if secs % 3600 == 0 {
        unit(secs / 3600, "hour", "hours")
    } else if secs % 60 == 0 {
        unit(secs / 60, "minute", "minutes")
    } else {
        unit(secs, "second", "seconds")
    }
}

/// A window length in the largest whole unit, in Chinese ("10 分钟").
pub(crate) fn duration_zh(secs: i64) -> String {
    if secs % 3600 == 0 {
        format!("{} 小时", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{} 分钟", secs / 60)
    } else {
        format!("{secs} 秒")
    }
}

/// "n thing" or "n things".
pub(crate) fn plural(n: f64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n.round() == 1.0 { one } else { many })
}

fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_written_by_hand() {
        assert_eq!(count(1234567.0), "1,234,567");
        assert_eq!(count(12.0), "12");
        assert_eq!(money(2400.0), "2,400.00");
        assert_eq!(money(85.5), "85.50");
        assert_eq!(typical(2.0), "2");
        assert_eq!(typical(2.5), "2.5");
        assert_eq!(percent(0.0042), "0.42%");
        assert_eq!(percent(0.25), "25%");
        assert_eq!(duration(600), "10 minutes");
        assert_eq!(duration(3600), "1 hour");
        assert_eq!(duration(90), "90 seconds");
        assert_eq!(duration_zh(600), "10 分钟");
        assert_eq!(duration_zh(7200), "2 小时");
        assert_eq!(duration_zh(45), "45 秒");
        assert_eq!(plural(1.0, "refund", "refunds"), "1 refund");
    }

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for k in ReasonKind::ALL {
            assert_eq!(ReasonKind::from_code(k.code()), Some(k));
        }
        assert_eq!(ReasonKind::from_code("nope"), None);
    }
}
