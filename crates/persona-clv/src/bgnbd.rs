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

    /// P(alive) given the customer's history.
    pub fn probability_alive(&self, c: &Customer) -> f64 {
        if c.x == 0.0 {
            return 1.0;
        }
        let Self { r, alpha, a, b, .. } = *self;
        let ratio = (a / (b + c.x - 1.0)) * ((alpha + c.t) / (alpha + c.t_x)).powf(r + c.x);
        1.0 / (1.0 + ratio)
    }

    /// Expected purchases in the next `horizon` time units (eq. 10 of the paper).
    pub fn expected_purchases(&self, c: &Customer, horizon: f64) -> f64 {
        if horizon <= 0.0 {
            return 0.0;
        }
        let Self { r, alpha, a, b, .. } = *self;
        let Customer { x, t_x, t } = *c;
        let z = horizon / (alpha + t + horizon);
        let head = (a + b + x - 1.0) / (a - 1.0);
        let body = 1.0 - ((alpha + t) / (alpha + t + horizon)).powf(r + x) * hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        let tail = if x > 0.0 { 1.0 + (a / (b + x - 1.0)) * ((alpha + t) / (alpha + t_x)).powf(r + x) } else { 1.0 };
        head * body / tail
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
        assert_eq!(m.probability_alive(&never), 1.0);
        // A customer who bought often and recently is likely alive; one who stopped long ago is not.
        let recent = Customer { x: 10.0, t_x: 38.0, t: 38.86 };
        let gone = Customer { x: 10.0, t_x: 5.0, t: 38.86 };
        assert!(m.probability_alive(&recent) > 0.9 && m.probability_alive(&gone) < 0.01);
        assert!(m.expected_purchases(&recent, 39.0) > m.expected_purchases(&gone, 39.0));
        // Paper, section 4: a customer with x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in 39 weeks.
        let c = Customer { x: 2.0, t_x: 30.43, t: 38.86 };
        assert!((m.expected_purchases(&c, 39.0) - 1.226).abs() < 0.002, "{}", m.expected_purchases(&c, 39.0));
    }
}
