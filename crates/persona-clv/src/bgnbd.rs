//! The BG/NBD model ("beta-geometric / negative binomial distribution").
//!
//! A customer buys at a Poisson rate λ ~ Gamma(r, α) while alive, and after
//! each purchase drops out with probability p ~ Beta(a, b). From one row per
//! customer — x repeat purchases, the last at t_x, observed for T — the
//! likelihood has a closed form (Fader, Hardie & Lee 2005, eq. 6).

use crate::special::{hyp2f1, ln_gamma, log_add_exp};
use crate::{minimize_with_restarts, out_of_bounds, ClvError};

/// One customer's summary: repeat purchases, time of the last, time observed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Customer {
    pub x: f64,
    pub t_x: f64,
    pub t: f64,
}

/// Fitted BG/NBD parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    /// Total log-likelihood at the fit.
    pub log_likelihood: f64,
    /// Customers used.
    pub n: usize,
}

fn check(customers: &[Customer]) -> Result<(), ClvError> {
    if customers.is_empty() {
        return Err(ClvError::NoData);
    }
    for (row, c) in customers.iter().enumerate() {
        let bad = |reason: &str| Err(ClvError::BadRow { row, reason: reason.to_owned() });
        if !(c.x.is_finite() && c.t_x.is_finite() && c.t.is_finite()) {
            return bad("frequency, recency and T must be finite");
        }
        if c.x < 0.0 || c.t_x < 0.0 || c.t_x > c.t || c.t <= 0.0 {
            return bad("need frequency >= 0 and 0 <= recency <= T, T > 0");
        }
        if c.x == 0.0 && c.t_x != 0.0 {
            return bad("a customer with frequency 0 must have recency 0");
        }
    }
    Ok(())
}

/// Log-likelihood of one customer.
fn ll_one(r: f64, alpha: f64, a: f64, b: f64, c: &Customer) -> f64 {
    let Customer { x, t_x, t } = *c;
    let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
    let a2 = ln_gamma(a + b) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x);
    let a3 = -(r + x) * (alpha + t).ln();
    let rest = if x > 0.0 { log_add_exp(a3, a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + t_x).ln()) } else { a3 };
    a1 + a2 + rest
}

/// Sum of log-likelihoods.
pub fn log_likelihood(r: f64, alpha: f64, a: f64, b: f64, customers: &[Customer]) -> f64 {
    customers.iter().map(|c| ll_one(r, alpha, a, b, c)).sum()
}

impl BgNbd {
    /// Maximum-likelihood fit. Deterministic: the same rows give the same parameters.
    pub fn fit(customers: &[Customer]) -> Result<Self, ClvError> {
        Self::fit_with(customers, &|| {})
    }

    /// As [`BgNbd::fit`], calling `between` before each pass over the rows
    /// (one likelihood evaluation), where a caller can check for cancellation.
    pub fn fit_with(customers: &[Customer], between: &dyn Fn()) -> Result<Self, ClvError> {
        check(customers)?;
        let nll = |p: &[f64]| {
            between();
            if out_of_bounds(p) {
                return f64::INFINITY;
            }
            -log_likelihood(p[0].exp(), p[1].exp(), p[2].exp(), p[3].exp(), customers)
        };
        let best = minimize_with_restarts(nll, &[0.0; 4]);
        if !best.value.is_finite() {
            return Err(ClvError::NoConvergence);
        }
        let p: Vec<f64> = best.x.iter().map(|v| v.exp()).collect();
        Ok(Self { r: p[0], alpha: p[1], a: p[2], b: p[3], log_likelihood: -best.value, n: customers.len() })
    }

    /// ln of the odds of having dropped out, (a / (b+x-1)) ((α+T)/(α+t_x))^(r+x),
    /// for x > 0; None when b + x - 1 <= 0 (a fractional frequency below 1 - b).
    /// In logs because the power overflows for large frequencies while the
    /// odds it scales stay meaningful.
    fn log_dropout_odds(&self, c: &Customer) -> Option<f64> {
        let Self { r, alpha, a, b, .. } = *self;
        let k = b + c.x - 1.0;
        (k > 0.0).then(|| a.ln() - k.ln() + (r + c.x) * ((alpha + c.t) / (alpha + c.t_x)).ln())
    }

    /// P(alive) given the customer's history.
    pub fn probability_alive(&self, c: &Customer) -> Result<f64, ClvError> {
        if c.x == 0.0 {
            return Ok(1.0);
        }
        let p = match self.log_dropout_odds(c) {
            Some(l) => 1.0 / (1.0 + l.exp()),
            None => {
                let Self { r, alpha, a, b, .. } = *self;
                1.0 / (1.0 + (a / (b + c.x - 1.0)) * ((alpha + c.t) / (alpha + c.t_x)).powf(r + c.x))
            }
        };
        finite(p, "the probability of being alive")
    }

    /// Expected purchases in the next `horizon` time units (eq. 10 of the paper).
    pub fn expected_purchases(&self, c: &Customer, horizon: f64) -> Result<f64, ClvError> {
        if horizon <= 0.0 {
            return Ok(0.0);
        }
        let Self { r, alpha, a, b, .. } = *self;
        let Customer { x, t_x, t } = *c;
        if a == 1.0 {
            return Err(ClvError::OutOfRange {
                what: "expected purchases are undefined for a = 1 (the formula divides by a - 1)".to_owned(),
            });
        }
        let z = horizon / (alpha + t + horizon);
        let head = (a + b + x - 1.0) / (a - 1.0);
        // The paper's 1 - ((α+T)/(α+T+h))^(r+x) 2F1(r+x, b+x; a+b+x-1; z).
        // Its series needs about (r+x)·z terms and overflows for large
        // frequencies; then Euler's transformation 2F1(A, B; C; z) =
        // (1-z)^(C-A-B) 2F1(C-A, C-B; C; z), with 1 - z = (α+T)/(α+T+h),
        // cancels the power and leaves (1-z)^(a-1) 2F1(a+b-1-r, a-1; C; z),
        // whose series shrinks as x grows (but needs about a·z terms, so it
        // is the fallback: fitted a can be large).
        let one_minus_z = (alpha + t) / (alpha + t + horizon);
        let c_param = a + b + x - 1.0;
        let product = match hyp2f1(r + x, b + x, c_param, z) {
            // In logs: a large sum times a tiny power.
            Some(s) if s > 0.0 => ((r + x) * one_minus_z.ln() + s.ln()).exp(),
            Some(s) => one_minus_z.powf(r + x) * s,
            None => {
                let series = hyp2f1(a + b - 1.0 - r, a - 1.0, c_param, z).ok_or_else(|| ClvError::OutOfRange {
                    what: format!(
                        "the expected number of purchases cannot be computed for horizon {} (too long against T + alpha: its series does not converge)",
                        short(horizon)
                    ),
                })?;
                one_minus_z.powf(a - 1.0) * series
            }
        };
        let body = 1.0 - product;
        let value = match (x > 0.0, self.log_dropout_odds(c)) {
            (false, _) => head * body,
            // head / (1 + e^l): when the odds are huge, in logs, so that a
            // huge head over a huge tail is their ratio, not ∞/∞.
            (true, Some(l)) if l > 0.0 => {
                let log_head = (a + b + x - 1.0).abs().ln() - (a - 1.0).abs().ln();
                head.signum() * body * (log_head - l).exp() / (1.0 + (-l).exp())
            }
            (true, Some(l)) => head * body / (1.0 + l.exp()),
            (true, None) => head * body / (1.0 + (a / (b + x - 1.0)) * ((alpha + t) / (alpha + t_x)).powf(r + x)),
        };
        finite(value, "the expected number of purchases")
    }
}

/// `v` for a message: 1e300, not three hundred digits.
pub(crate) fn short(v: f64) -> String {
    if v != 0.0 && !(1e-4..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// `Ok(v)` for a finite `v`; otherwise the error naming `what`.
pub(crate) fn finite(v: f64, what: &str) -> Result<f64, ClvError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ClvError::OutOfRange { what: format!("{what} is out of the float8 range for these inputs") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_likelihood_ridge_ends_at_the_bounds_quickly() {
        // Everyone buys regularly up to the end: no sign of dropping out, so
        // the likelihood rises as a, b -> infinity. The fit must stop at the
        // parameter bounds, not crawl along the ridge for the whole budget.
        let rows: Vec<Customer> = (0..300)
            .map(|i| {
                let t = 30.0 + (i % 150) as f64;
                Customer { x: (1 + i % 6) as f64, t_x: t, t }
            })
            .collect();
        let evaluations = std::cell::Cell::new(0usize);
        let m = BgNbd::fit_with(&rows, &|| evaluations.set(evaluations.get() + 1)).expect("fits");
        assert!(evaluations.get() < 20_000, "{} likelihood passes", evaluations.get());
        assert!(m.log_likelihood.is_finite() && m.b > 1e3, "{m:?}");
    }

    #[test]
    fn bad_rows_are_named() {
        assert_eq!(BgNbd::fit(&[]), Err(ClvError::NoData));
        let rows = [Customer { x: 1.0, t_x: 2.0, t: 5.0 }, Customer { x: 1.0, t_x: 6.0, t: 5.0 }];
        assert!(matches!(BgNbd::fit(&rows), Err(ClvError::BadRow { row: 1, .. })));
        let nan = [Customer { x: f64::NAN, t_x: 0.0, t: 5.0 }];
        assert!(matches!(BgNbd::fit(&nan), Err(ClvError::BadRow { row: 0, .. })));
    }

    #[test]
    fn published_cdnow_parameters_give_published_likelihood_terms() {
        // Fader, Hardie & Lee: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426.
        let m = BgNbd { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, log_likelihood: 0.0, n: 0 };
        let never = Customer { x: 0.0, t_x: 0.0, t: 38.86 };
        assert_eq!(m.probability_alive(&never), Ok(1.0));
        // A customer who bought often and recently is likely alive; one who stopped long ago is not.
        let recent = Customer { x: 10.0, t_x: 38.0, t: 38.86 };
        let gone = Customer { x: 10.0, t_x: 5.0, t: 38.86 };
        assert!(m.probability_alive(&recent).unwrap() > 0.9 && m.probability_alive(&gone).unwrap() < 0.01);
        assert!(m.expected_purchases(&recent, 39.0).unwrap() > m.expected_purchases(&gone, 39.0).unwrap());
        // Paper, section 4: a customer with x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in 39 weeks.
        let c = Customer { x: 2.0, t_x: 30.43, t: 38.86 };
        let e = m.expected_purchases(&c, 39.0).unwrap();
        assert!((e - 1.226).abs() < 0.002, "{e}");
    }

    /// Eq. 10 exactly as the paper writes it (the implementation before it
    /// went through Euler's transformation and logs).
    fn paper_expected_purchases(m: &BgNbd, c: &Customer, horizon: f64) -> f64 {
        let BgNbd { r, alpha, a, b, .. } = *m;
        let Customer { x, t_x, t } = *c;
        let z = horizon / (alpha + t + horizon);
        let head = (a + b + x - 1.0) / (a - 1.0);
        let body = 1.0
            - ((alpha + t) / (alpha + t + horizon)).powf(r + x) * hyp2f1(r + x, b + x, a + b + x - 1.0, z).unwrap();
        let tail = if x > 0.0 { 1.0 + (a / (b + x - 1.0)) * ((alpha + t) / (alpha + t_x)).powf(r + x) } else { 1.0 };
        head * body / tail
    }

    #[test]
    fn the_transformed_formula_equals_the_papers_on_ordinary_inputs() {
        let models = [
            BgNbd { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, log_likelihood: 0.0, n: 0 },
            BgNbd { r: 1.5, alpha: 20.0, a: 3.0, b: 8.0, log_likelihood: 0.0, n: 0 },
            BgNbd { r: 0.05, alpha: 0.5, a: 1.2, b: 0.3, log_likelihood: 0.0, n: 0 },
        ];
        for m in &models {
            for x in [0.0, 1.0, 2.0, 7.0, 30.0] {
                for (t_x, t) in [(0.0, 10.0), (5.0, 10.0), (38.0, 38.86), (52.0, 52.0)] {
                    let t_x = if x == 0.0 { 0.0 } else { t_x };
                    let c = Customer { x, t_x, t };
                    for h in [0.5, 13.0, 39.0, 104.0] {
                        let (got, want) = (m.expected_purchases(&c, h).unwrap(), paper_expected_purchases(m, &c, h));
                        assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "{m:?} {c:?} h {h}: {got} vs {want}");
                    }
                }
            }
        }
    }

    #[test]
    fn extreme_but_finite_inputs_give_numbers_or_a_clear_error() {
        let m = BgNbd { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, log_likelihood: 0.0, n: 0 };
        // A huge frequency, last purchase long ago: certainly gone, expects nothing.
        let gone = Customer { x: 1e38, t_x: 10.0, t: 38.86 };
        assert_eq!(m.probability_alive(&gone), Ok(0.0));
        let e = m.expected_purchases(&gone, 39.0).unwrap();
        assert!(e.abs() < 1e-300, "{e}");
        // Bought up to the end: expects a number of purchases of the order of
        // its rate (x / T) times the horizon, here about 1e38.
        let busy = Customer { x: 1e38, t_x: 38.86, t: 38.86 };
        let e = m.expected_purchases(&busy, 39.0).unwrap();
        assert!(e.is_finite() && e > 1e37 && e < 1e39, "{e}");
        assert!(m.probability_alive(&busy).unwrap() > 0.99);
        // Beyond f64: an error, never NaN or infinity.
        let beyond = Customer { x: 1e308, t_x: 38.86, t: 38.86 };
        assert!(matches!(m.expected_purchases(&beyond, 1e300), Err(ClvError::OutOfRange { .. })));
        let never = Customer { x: 0.0, t_x: 0.0, t: 1.0 };
        assert!(matches!(m.expected_purchases(&never, 1e300), Err(ClvError::OutOfRange { .. })));
        // Parameters at the fit's bounds (about e^15): the paper's series is
        // the one that converges there.
        let wall = BgNbd { r: 0.9, alpha: 12.0, a: 3.2e6, b: 3.2e6, log_likelihood: 0.0, n: 0 };
        for x in [0.0, 3.0, 40.0] {
            let c = Customer { x, t_x: if x == 0.0 { 0.0 } else { 50.0 }, t: 60.0 };
            let (got, want) = (wall.expected_purchases(&c, 90.0).unwrap(), paper_expected_purchases(&wall, &c, 90.0));
            assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "{c:?}: {got} vs {want}");
        }
        let a_one = BgNbd { a: 1.0, ..m };
        assert!(matches!(a_one.expected_purchases(&never, 1.0), Err(ClvError::OutOfRange { .. })));
    }
}
