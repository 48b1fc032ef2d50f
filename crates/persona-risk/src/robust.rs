//! How surprising a value is for this shop: robust location and scale of a
//! population, and tail probabilities turned into the same unit (standard
//! deviations of a normal, "z").

/// `1 / Φ⁻¹(3/4)`: makes the MAD estimate the standard deviation of normal data.
const MAD_TO_SIGMA: f64 = 1.4826;
/// `Φ⁻¹(0.9)`: the 90th percentile sits this many sigmas above the median of
/// normal data, which turns the upper decile into a scale when the MAD is 0.
const Z_AT_Q90: f64 = 1.281_551_565_5;

/// The centre and spread of one signal over the shop's users, on the scale the
/// signal is compared on (a log for counts and money).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Reference {
    /// Median of the transformed values.
    pub center: f64,
    /// Robust standard deviation of the transformed values, never below the
    /// floor it was built with.
    pub scale: f64,
    /// Values summarised.
    pub count: usize,
}

impl Reference {
    /// From transformed values (non-finite ones ignored). The scale is the MAD;
    /// when more than half the users share one value (most users are in no
    /// ring, refund nothing) the MAD is 0 and the upper decile's distance from
    /// the median stands in; `floor` keeps a population with no spread at all
    /// from turning the smallest step into an infinite surprise.
    pub fn new(values: &mut Vec<f64>, floor: f64) -> Reference {
        values.retain(|v| v.is_finite());
        if values.is_empty() {
            return Reference { center: 0.0, scale: floor, count: 0 };
        }
        values.sort_unstable_by(f64::total_cmp);
        let center = median_sorted(values);
        let mut dev: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
        dev.sort_unstable_by(f64::total_cmp);
        let mut scale = MAD_TO_SIGMA * median_sorted(&dev);
        if scale <= 0.0 {
            scale = (quantile_sorted(values, 0.9) - center) / Z_AT_Q90;
        }
        Reference { center, scale: scale.max(floor), count: values.len() }
    }

    /// Sigmas above the centre (negative below it).
    pub fn z(&self, value: f64) -> f64 {
        (value - self.center) / self.scale
    }
}

/// Median of sorted values (0 for none).
pub(crate) fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Linear-interpolation quantile of sorted values (type 7, as R's default).
pub(crate) fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Median of values in any order (0 for none).
pub(crate) fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    v.sort_unstable_by(f64::total_cmp);
    median_sorted(&v)
}

/// `ln P(X >= k)` for `X ~ Binomial(n, p)`, summed in log space so that tails
/// far below the smallest double stay ordered.
pub(crate) fn ln_binomial_upper_tail(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    if k > n || p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return 0.0;
    }
    let (lp, lq) = (p.ln(), (-p).ln_1p());
    let ln_pmf = |j: u64| ln_choose(n, j) + j as f64 * lp + (n - j) as f64 * lq;
    let terms: Vec<f64> = (k..=n).map(ln_pmf).collect();
    let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
}

fn ln_choose(n: u64, k: u64) -> f64 {
    ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k)
}

/// `ln n!`: exact sums for small n, Stirling's series beyond (error far below
/// what a ranking can notice).
fn ln_factorial(n: u64) -> f64 {
    if n < 64 {
        return (2..=n).map(|i| (i as f64).ln()).sum();
    }
    let x = n as f64;
    x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x) - 1.0 / (360.0 * x.powi(3))
}

/// The z of a normal whose upper tail has probability `exp(ln_p)`, so that a
/// tail probability adds up with robust z-scores.
pub(crate) fn z_from_ln_upper_tail(ln_p: f64) -> f64 {
    if ln_p >= 0.0 {
        // A certainty: as far below the centre as `probit` reaches.
        return -probit(1.0);
    }
    // probit clamps its argument at 1e-300 (ln = -690.8): below that, the
    // asymptotic series, so that the z keeps growing.
    if ln_p > -690.0 {
        return -probit(ln_p.exp());
    }
    // Beyond doubles: invert the leading terms of Mills' ratio,
    // ln p ≈ -z²/2 - ln z - ln √(2π), by fixed-point iteration.
    let a = -ln_p - 0.5 * (2.0 * std::f64::consts::PI).ln();
    let mut z = (2.0 * a).sqrt();
    for _ in 0..8 {
        z = (2.0 * (a - z.ln())).sqrt();
    }
    z
}

/// Φ⁻¹(p) for p in (0, 1) (Acklam's rational approximation with one Halley
/// step; relative error far below 1e-9).
pub(crate) fn probit(p: f64) -> f64 {
    const A: [f64; 6] = [-3.969_683_028_665_376e1, 2.209_460_984_245_205e2, -2.759_285_104_469_687e2, 1.383_577_518_672_69e2, -3.066_479_806_614_716e1, 2.506_628_277_459_239];
    const B: [f64; 5] = [-5.447_609_879_822_406e1, 1.615_858_368_580_409e2, -1.556_989_798_598_866e2, 6.680_131_188_771_972e1, -1.328_068_155_288_572e1];
    const C: [f64; 6] = [-7.784_894_002_430_293e-3, -3.223_964_580_411_365e-1, -2.400_758_277_161_838, -2.549_732_539_343_734, 4.374_664_141_464_968, 2.938_163_982_698_783];
    const D: [f64; 4] = [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let x = if p < 0.02425 {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - 0.02425 {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley step against the normal CDF.
    let e = 0.5 * erfc(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// Complementary error function (Numerical Recipes' Chebyshev fit, relative
/// error below 1.2e-7, refined by the Halley step above).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18 + t * (-0.186_288_06 + t * (0.278_868_07 + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probit_matches_known_quantiles() {
        assert!((probit(0.975) - 1.959_964).abs() < 1e-5);
        assert!((probit(0.5)).abs() < 1e-7);
        assert!((probit(1e-10) + 6.361_340).abs() < 1e-4);
    }

    #[test]
    fn tail_z_is_monotone_and_continues_past_doubles() {
        let a = z_from_ln_upper_tail((1e-3f64).ln());
        assert!((a - 3.090_232).abs() < 1e-4, "{a}");
        let near = z_from_ln_upper_tail(-699.0);
        let far = z_from_ln_upper_tail(-701.0);
        assert!(far > near && far - near < 0.1, "{near} {far}");
        assert!(z_from_ln_upper_tail(-5000.0) > far);
    }

    #[test]
    fn binomial_tail_is_exact_on_small_cases() {
        // P(X >= 2 | n = 3, p = 0.5) = 4/8.
        assert!((ln_binomial_upper_tail(2, 3, 0.5) - 0.5f64.ln()).abs() < 1e-12);
        assert_eq!(ln_binomial_upper_tail(0, 3, 0.1), 0.0);
        assert_eq!(ln_binomial_upper_tail(4, 3, 0.1), f64::NEG_INFINITY);
    }

    #[test]
    fn reference_falls_back_to_the_upper_decile_then_the_floor() {
        let mut v: Vec<f64> = (0..100).map(|i| if i < 80 { 0.0 } else { 1.0 }).collect();
        let r = Reference::new(&mut v, 0.01);
        assert_eq!(r.center, 0.0);
        assert!((r.scale - 1.0 / Z_AT_Q90).abs() < 1e-9);
        let mut flat = vec![2.0; 50];
        assert_eq!(Reference::new(&mut flat, 0.5).scale, 0.5);
    }
}
