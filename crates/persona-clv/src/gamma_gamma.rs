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
    pub fn expected_spend(&self, s: &SpendRecord) -> f64 {
        let Self { p, q, gamma, .. } = *self;
        if s.x <= 0.0 {
            return p * gamma / (q - 1.0);
        }
        (gamma + s.mean_spend * s.x) * p / (p * s.x + q - 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
