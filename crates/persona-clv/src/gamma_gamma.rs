//! The Gamma-Gamma model of spend per purchase (Fader & Hardie 2013).
//!
//! For a repeat customer with x purchases of mean value m, individual spends
//! are Gamma(p, ν) with ν ~ Gamma(q, γ). Fitted on customers with x > 0.

use crate::special::ln_gamma;
use crate::{minimize_with_restarts, out_of_bounds, ClvError};

/// One repeat customer: number of purchases and their mean value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpendRecord {
    pub x: f64,
    pub mean_spend: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
    pub log_likelihood: f64,
    pub n: usize,
}

fn ll_one(p: f64, q: f64, g: f64, s: &SpendRecord) -> f64 {
    let SpendRecord { x, mean_spend: m } = *s;
    ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q) + q * g.ln() + (p * x - 1.0) * m.ln() + (p * x) * x.ln()
        - (p * x + q) * (x * m + g).ln()
}

impl GammaGamma {
    /// Fits on the rows with x > 0 and mean spend > 0; others are ignored.
    pub fn fit(records: &[SpendRecord]) -> Result<Self, ClvError> {
        Self::fit_with(records, &|| {})
    }

    /// As [`GammaGamma::fit`], calling `between` before each pass over the rows.
    pub fn fit_with(records: &[SpendRecord], between: &dyn Fn()) -> Result<Self, ClvError> {
        for (row, s) in records.iter().enumerate() {
            if !(s.x.is_finite() && s.mean_spend.is_finite()) || s.x < 0.0 || s.mean_spend < 0.0 {
                return Err(ClvError::BadRow { row, reason: "frequency and mean spend must be finite and >= 0".into() });
            }
        }
        let used: Vec<SpendRecord> = records.iter().copied().filter(|s| s.x > 0.0 && s.mean_spend > 0.0).collect();
        if used.is_empty() {
            return Err(ClvError::NoData);
        }
        let nll = |v: &[f64]| {
            between();
            if out_of_bounds(v) {
                return f64::INFINITY;
            }
            -used.iter().map(|s| ll_one(v[0].exp(), v[1].exp(), v[2].exp(), s)).sum::<f64>()
        };
        let best = minimize_with_restarts(nll, &[0.0; 3]);
        if !best.value.is_finite() {
            return Err(ClvError::NoConvergence);
        }
        let v: Vec<f64> = best.x.iter().map(|x| x.exp()).collect();
        Ok(Self { p: v[0], q: v[1], gamma: v[2], log_likelihood: -best.value, n: used.len() })
    }

    /// Expected mean spend per future purchase; the population mean for x = 0.
    ///
    /// (γ + m·x)·p / (p·x + q - 1), written as the weighted average it is,
    /// p·γ / (p·x + q - 1) + m · p·x / (p·x + q - 1), so that a large spend
    /// or frequency does not overflow on the way to a finite answer. The
    /// expectation is infinite when p·x + q <= 1.
    pub fn expected_spend(&self, s: &SpendRecord) -> Result<f64, ClvError> {
        let Self { p, q, gamma, .. } = *self;
        let x = s.x.max(0.0);
        let px = p * x;
        let denominator = px + q - 1.0;
        if denominator.is_nan() || denominator <= 0.0 {
            return Err(ClvError::OutOfRange {
                what: format!(
                    "the expected spend is infinite for this model (p = {}, q = {}): p × frequency + q must exceed 1",
                    crate::bgnbd::short(p),
                    crate::bgnbd::short(q)
                ),
            });
        }
        let value = if x == 0.0 {
            p * gamma / (q - 1.0)
        } else {
            // px / denominator, also when px is infinite.
            let own = 1.0 / (1.0 + (q - 1.0) / px);
            p * gamma / denominator + s.mean_spend * own
        };
        crate::bgnbd::finite(value, "the expected spend")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_spend_is_the_formula_and_stays_finite() {
        let m = GammaGamma { p: 6.25, q: 3.74, gamma: 15.44, log_likelihood: 0.0, n: 0 };
        for (x, spend) in [(1.0, 20.0), (4.0, 50.0), (12.0, 7.5)] {
            let direct = (m.gamma + spend * x) * m.p / (m.p * x + m.q - 1.0);
            let got = m.expected_spend(&SpendRecord { x, mean_spend: spend }).unwrap();
            assert!((got - direct).abs() < 1e-12 * direct, "{got} vs {direct}");
        }
        assert!((m.expected_spend(&SpendRecord { x: 0.0, mean_spend: 0.0 }).unwrap() - m.p * m.gamma / (m.q - 1.0)).abs() < 1e-12);
        // A spend near the top of f64: (γ + m·x) overflowed to infinity; the
        // answer, a weighted average of the spend and the population mean, does not.
        let huge = m.expected_spend(&SpendRecord { x: 4.0, mean_spend: 1e308 }).unwrap();
        assert!(huge.is_finite() && huge > 9e307 && huge < 1e308, "{huge}");
        let many = m.expected_spend(&SpendRecord { x: 1e308, mean_spend: 30.0 }).unwrap();
        assert!((many - 30.0).abs() < 1e-9, "{many}");
        // q <= 1: the population mean is infinite.
        let heavy = GammaGamma { q: 0.5, ..m };
        assert!(matches!(heavy.expected_spend(&SpendRecord { x: 0.0, mean_spend: 0.0 }), Err(ClvError::OutOfRange { .. })));
        assert!(heavy.expected_spend(&SpendRecord { x: 2.0, mean_spend: 10.0 }).unwrap().is_finite());
    }

    #[test]
    fn a_likelihood_ridge_ends_quickly() {
        // Spends with little spread between customers: q and gamma grow
        // together without bound; the fit must stop, not crawl.
        let rows: Vec<SpendRecord> = (0..250)
            .map(|i| SpendRecord { x: (1 + i % 5) as f64, mean_spend: 40.0 + ((i * 37) % 50) as f64 })
            .collect();
        let evaluations = std::cell::Cell::new(0usize);
        let m = GammaGamma::fit_with(&rows, &|| evaluations.set(evaluations.get() + 1)).expect("fits");
        assert!(evaluations.get() < 30_000, "{} likelihood passes", evaluations.get());
        assert!(m.log_likelihood.is_finite(), "{m:?}");
    }
}
