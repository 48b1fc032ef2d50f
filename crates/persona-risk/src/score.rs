//! The risk score: how far each abuse signal of a user is from what the
//! shop's own users do, in robust standard deviations, summed over the signals
//! past a threshold.
//!
//! Nothing here knows what a bot looks like. Each signal is put on a log scale
//! (counts and money are multiplicative: twice as many events is the same step
//! at 5 as at 500) and compared with the shop's median and MAD, so a shop whose
//! customers all browse a lot, or all buy fast, sets its own bar. Refunds are
//! the exception: most users have none, so a median says nothing, and they are
//! scored as the binomial surprise of the user's refunds at the shop's own
//! refund rate, turned into the same z unit. Only what a signal has beyond
//! `threshold` counts, so an ordinary user scores exactly 0, and a user scores
//! high only by being far out on one signal or out on several.

use crate::error::{bad_input, RiskError};
use crate::reason::{count, duration, duration_zh, money, percent, plural, typical, Reason, ReasonKind, Risk};
use crate::robust::{ln_binomial_upper_tail, median, z_from_ln_upper_tail, Reference};
use crate::{RiskParams, UserSignals};

/// Users between two looks at the stop check.
const STOP_EVERY: usize = 4096;

/// Weight of the tie-break on the amount of evidence (events), per unit of
/// `ln(1 + events)`: small enough never to reorder users whose contributions
/// differ by a visible amount, large enough to order users who tie on them.
const EVIDENCE_WEIGHT: f64 = 1e-6;

/// The shop's picture of every signal, built once per call.
struct Shop {
    velocity: Reference,
    velocity_typical: f64,
    browse: Reference,
    browse_typical: f64,
    ring: Reference,
    ring_typical: f64,
    spend: Reference,
    spend_typical: f64,
    refund_rate: f64,
}

fn browse_ratio(u: &UserSignals) -> f64 {
    u.views as f64 / (1 + u.carts + u.purchases) as f64
}

fn ring_others(u: &UserSignals, p: &RiskParams) -> f64 {
    match u.ring {
        Some((_, size)) if u.distinct_items >= p.ring_min_items => (size - 1) as f64,
        _ => 0.0,
    }
}

fn is_new_buyer(u: &UserSignals, p: &RiskParams) -> bool {
    matches!(u.account_age_days_at_first_purchase, Some(a) if a < p.new_account_days) && u.spend.is_some_and(|s| s > 0.0)
}

fn look(i: usize, stop: &dyn Fn() -> bool) -> Result<(), RiskError> {
    if i % STOP_EVERY == 0 && stop() {
        Err(RiskError::Cancelled)
    } else {
        Ok(())
    }
}

impl Shop {
    fn new(users: &[UserSignals], p: &RiskParams, stop: &dyn Fn() -> bool) -> Result<Shop, RiskError> {
        let active = || users.iter().filter(|u| u.events > 0);
        let floor = p.min_log_scale;
        let mut velocity: Vec<f64> = active().map(|u| (u.peak_window_events as f64).ln()).collect();
        let velocity_typical = median(active().map(|u| u.peak_window_events as f64));
        look(0, stop)?;
        let browsers = || users.iter().filter(|u| u.views > 0);
        let mut browse: Vec<f64> = browsers().map(|u| browse_ratio(u).ln_1p()).collect();
        let browse_typical = median(browsers().map(browse_ratio));
        look(0, stop)?;
        let mut ring: Vec<f64> = active().map(|u| ring_others(u, p).ln_1p()).collect();
        let ring_typical = median(active().map(|u| ring_others(u, p)));
        look(0, stop)?;
        // New accounts are compared with new accounts (a first order is small
        // everywhere), unless there are too few of them to have a median.
        let new_buyers = users.iter().filter(|u| is_new_buyer(u, p)).count();
        let reference = |u: &&UserSignals| {
            u.spend.is_some_and(|s| s > 0.0) && (new_buyers < p.min_reference as usize || is_new_buyer(u, p))
        };
        let mut spend: Vec<f64> = users.iter().filter(reference).filter_map(|u| u.spend).map(f64::ln_1p).collect();
        let spend_typical = median(users.iter().filter(reference).filter_map(|u| u.spend));
        look(0, stop)?;
        let (refunds, chances) = users.iter().fold((0.0, 0.0), |(r, n), u| {
            (r + u.refunds as f64, n + u.purchases.max(u.refunds) as f64)
        });
        Ok(Shop {
            velocity: Reference::new(&mut velocity, floor),
            velocity_typical,
            browse: Reference::new(&mut browse, floor),
            browse_typical,
            ring: Reference::new(&mut ring, floor),
            ring_typical,
            spend: Reference::new(&mut spend, floor),
            spend_typical,
            refund_rate: if chances > 0.0 { refunds / chances } else { 0.0 },
        })
    }

    fn reasons(&self, u: &UserSignals, p: &RiskParams) -> Vec<Reason> {
        let mut out = Vec::new();
        // The sentences are written only for signals that count; each comes in
        // English and in Chinese, from the same numbers.
        let mut push = |kind, z: f64, value, typical, text: &dyn Fn() -> (String, String)| {
            let contribution = z - p.threshold;
            if contribution > 0.0 && contribution.is_finite() {
                let (text, text_zh) = text();
                out.push(Reason { kind, value, typical, contribution, text, text_zh });
            }
        };
        if u.events == 0 {
            return out;
        }
        let peak = u.peak_window_events as f64;
        push(ReasonKind::Velocity, self.velocity.z(peak.ln()), peak, self.velocity_typical, &|| {
            let t = typical(self.velocity_typical);
            (
                format!("{} in {} (typical {t})", plural(peak, "event", "events"), duration(p.window_secs)),
                format!("{}内 {} 个事件（通常 {t} 个）", duration_zh(p.window_secs), count(peak)),
            )
        });
        if u.views > 0 {
            let ratio = browse_ratio(u);
            push(ReasonKind::ViewsWithoutPurchase, self.browse.z(ratio.ln_1p()), ratio, self.browse_typical, &|| {
                let views = plural(u.views as f64, "view", "views");
                let t = typical(self.browse_typical);
                let (v, c, b) = (count(u.views as f64), count(u.carts as f64), count(u.purchases as f64));
                let zh_typical = format!("（通常每次加购或购买对应 {t} 次浏览）");
                match (u.carts, u.purchases) {
                    (0, 0) => (
                        format!("{views}, no cart or purchase (typical {t} views per cart or purchase)"),
                        format!("浏览 {v} 次，未加购也未购买{zh_typical}"),
                    ),
                    (carts, 0) => (
                        format!("{views}, {}, no purchase (typical {t} views per cart or purchase)", plural(carts as f64, "cart", "carts")),
                        format!("浏览 {v} 次，加购 {c} 次，未购买{zh_typical}"),
                    ),
                    (carts, purchases) => (
                        format!(
                            "{views} for {} and {} (typical {t} views per cart or purchase)",
                            plural(carts as f64, "cart", "carts"),
                            plural(purchases as f64, "purchase", "purchases")
                        ),
                        format!("浏览 {v} 次，加购 {c} 次、购买 {b} 次{zh_typical}"),
                    ),
                }
            });
        }
        let others = ring_others(u, p);
        if others > 0.0 {
            push(ReasonKind::Ring, self.ring.z(others.ln_1p()), others, self.ring_typical, &|| {
                let en = format!("same sequence as {}", plural(others, "other account", "other accounts"));
                let zh = format!("与另外 {} 个账号的行为序列相同", count(others));
                if self.ring_typical > 0.0 {
                    let t = typical(self.ring_typical);
                    (format!("{en} (typical {t})"), format!("{zh}（通常 {t} 个）"))
                } else {
                    (en, zh)
                }
            });
        }
        if is_new_buyer(u, p) {
            let spent = u.spend.unwrap_or(0.0);
            let age = u.account_age_days_at_first_purchase.unwrap_or(0.0).floor();
            push(ReasonKind::NewAccountHighSpend, self.spend.z(spent.ln_1p()), spent, self.spend_typical, &|| {
                let (m, t) = (money(spent), money(self.spend_typical));
                (
                    format!("account {} old spent {m} (typical {t})", plural(age, "day", "days")),
                    format!("注册 {} 天的账号消费 {m}（通常 {t}）", count(age)),
                )
            });
        }
        if u.refunds > 0 {
            let n = u.purchases.max(u.refunds);
            let z = z_from_ln_upper_tail(ln_binomial_upper_tail(u.refunds as u64, n as u64, self.refund_rate));
            let rate = u.refunds as f64 / n as f64;
            push(ReasonKind::Refunds, z, rate, self.refund_rate, &|| {
                let r = percent(self.refund_rate);
                (
                    format!(
                        "{} of {} (shop rate {r})",
                        plural(u.refunds as f64, "refund", "refunds"),
                        plural(u.purchases as f64, "purchase", "purchases")
                    ),
                    format!("{} 次购买中退款 {} 次（本店退款率 {r}）", count(u.purchases as f64), count(u.refunds as f64)),
                )
            });
        }
        out.sort_by(|a, b| b.contribution.total_cmp(&a.contribution).then(a.kind.cmp(&b.kind)));
        out
    }
}

/// The risk of every user, in the order given. The users are the shop: every
/// signal is judged against all of them, so score a whole population (or a
/// large sample of it), not a handful of suspects. `stop` is polled between
/// batches of users; when it returns true the call ends with
/// [`RiskError::Cancelled`].
pub fn score(users: &[UserSignals], params: &RiskParams, stop: &dyn Fn() -> bool) -> Result<Vec<Risk>, RiskError> {
    params.check()?;
    for (i, u) in users.iter().enumerate() {
        look(i, stop)?;
        u.validate(i)?;
    }
    let shop = Shop::new(users, params, stop)?;
    let mut out = Vec::with_capacity(users.len());
    for (i, u) in users.iter().enumerate() {
        look(i, stop)?;
        let reasons = shop.reasons(u, params);
        let sum: f64 = reasons.iter().map(|r| r.contribution).sum();
        let score = if sum > 0.0 { sum + EVIDENCE_WEIGHT * (u.events as f64).ln_1p() } else { 0.0 };
        if !score.is_finite() {
            return Err(bad_input(i, "the signals give a score that is not a finite number"));
        }
        out.push(Risk { score, reasons });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_of_short_sequences_is_ignored() {
        let p = RiskParams::default();
        let u = UserSignals { distinct_items: 2, ring: Some((1, 50)), events: 3, ..Default::default() };
        assert_eq!(ring_others(&u, &p), 0.0);
        let v = UserSignals { distinct_items: 9, ..u };
        assert_eq!(ring_others(&v, &p), 49.0);
    }

    /// A shop of 100 ordinary users and one that is out on every signal: each
    /// reason comes with the same numbers in both languages.
    #[test]
    fn every_reason_is_written_in_english_and_chinese() {
        let ordinary = |i: i64| UserSignals {
            events: 20 + i % 5,
            views: 6 + i % 3,
            carts: 1,
            purchases: 2 + i % 2,
            refunds: i64::from(i % 50 == 0),
            distinct_items: 6,
            peak_window_events: 4 + i % 3,
            active_span_secs: 86_400,
            account_age_days_at_first_purchase: Some(30.0 + i as f64),
            spend: Some(50.0 + i as f64),
            ring: Some((i, 1)),
        };
        let mut users: Vec<UserSignals> = (0..100).map(ordinary).collect();
        for i in 0..20 {
            users[i as usize].account_age_days_at_first_purchase = Some(0.5);
            users[i as usize].spend = Some(40.0 + i as f64);
        }
        users.push(UserSignals {
            events: 900,
            views: 880,
            carts: 0,
            purchases: 4,
            refunds: 4,
            distinct_items: 40,
            peak_window_events: 480,
            active_span_secs: 3_600,
            account_age_days_at_first_purchase: Some(0.0),
            spend: Some(2_400.0),
            ring: Some((7, 98)),
        });
        let risks = score(&users, &RiskParams::default(), &|| false).unwrap();
        let bot = &risks[100];
        let texts: Vec<(&str, &str, &str)> = bot.reasons.iter().map(|r| (r.kind.code(), r.text.as_str(), r.text_zh.as_str())).collect();
        let find = |code: &str| texts.iter().find(|t| t.0 == code).unwrap_or_else(|| panic!("no {code} in {texts:?}"));
        assert!(find("velocity").1.starts_with("480 events in 10 minutes (typical "), "{texts:?}");
        assert!(find("velocity").2.starts_with("10 分钟内 480 个事件（通常 "), "{texts:?}");
        assert!(find("views_without_purchase").1.starts_with("880 views for 0 carts and 4 purchases"), "{texts:?}");
        assert!(find("views_without_purchase").2.starts_with("浏览 880 次，加购 0 次、购买 4 次（通常每次加购或购买对应 "), "{texts:?}");
        assert_eq!(find("ring").1, "same sequence as 97 other accounts");
        assert_eq!(find("ring").2, "与另外 97 个账号的行为序列相同");
        assert!(find("new_account_high_spend").1.starts_with("account 0 days old spent 2,400.00 (typical "), "{texts:?}");
        assert!(find("new_account_high_spend").2.starts_with("注册 0 天的账号消费 2,400.00（通常 "), "{texts:?}");
        assert!(find("refunds").1.starts_with("4 refunds of 4 purchases (shop rate "), "{texts:?}");
        assert!(find("refunds").2.starts_with("4 次购买中退款 4 次（本店退款率 "), "{texts:?}");
        assert!(risks[..100].iter().all(|r| r.reasons.iter().all(|x| !x.text_zh.is_empty())));
    }
}
