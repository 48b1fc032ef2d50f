//! Nelder-Mead simplex minimisation: derivative-free, deterministic, and
//! enough for the 3-4 parameter likelihoods here.

#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
    pub converged: bool,
}

/// Minimises `f` from `start`. Non-finite values of `f` count as +infinity,
/// so the simplex steps back from regions where a likelihood breaks down.
pub fn minimize(f: impl Fn(&[f64]) -> f64, start: &[f64], step: f64, tolerance: f64, max_iter: usize) -> Minimum {
    let n = start.len();
    let eval = |x: &[f64]| {
        let v = f(x);
        if v.is_finite() { v } else { f64::INFINITY }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = (0..=n)
        .map(|i| {
            let mut x = start.to_vec();
            if i > 0 {
                x[i - 1] += step;
            }
            let v = eval(&x);
            (x, v)
        })
        .collect();
    let (alpha, gamma, rho, sigma) = (1.0, 2.0, 0.5, 0.5);
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iter {
        iterations += 1;
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[n].1);
        // Converged when the values agree, or when the simplex has shrunk to
        // a point (as it does against the infeasible wall of a bounded ridge,
        // where the values can keep differing by the wall's +infinity).
        let diameter = simplex[1..]
            .iter()
            .flat_map(|(x, _)| x.iter().zip(&simplex[0].0).map(|(a, b)| (a - b).abs()))
            .fold(0.0f64, f64::max);
        if (worst - best).abs() <= tolerance * (1.0 + best.abs()) || diameter < 1e-10 {
            converged = true;
            break;
        }
        let centroid: Vec<f64> =
            (0..n).map(|j| simplex[..n].iter().map(|(x, _)| x[j]).sum::<f64>() / n as f64).collect();
        let towards = |coef: f64| -> Vec<f64> {
            centroid.iter().zip(&simplex[n].0).map(|(c, w)| c + coef * (c - w)).collect()
        };
        let reflected = towards(alpha);
        let fr = eval(&reflected);
        if fr < simplex[0].1 {
            let expanded = towards(gamma);
            let fe = eval(&expanded);
            simplex[n] = if fe < fr { (expanded, fe) } else { (reflected, fr) };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let contracted = towards(if fr < worst { rho } else { -rho });
            let fc = eval(&contracted);
            if fc < worst.min(fr) {
                simplex[n] = (contracted, fc);
            } else {
                let best_x = simplex[0].0.clone();
                for (x, v) in simplex.iter_mut().skip(1) {
                    for (xi, bi) in x.iter_mut().zip(&best_x) {
                        *xi = bi + sigma * (*xi - bi);
                    }
                    *v = eval(x);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, value) = simplex.swap_remove(0);
    Minimum { x, value, iterations, converged }
}

/// Minimises `f` from `start`, then restarts from the optimum with a smaller
/// simplex until a restart no longer improves (at most three): a single
/// Nelder-Mead run can stall on the flat ridges of likelihood surfaces.
pub fn minimize_with_restarts(f: impl Fn(&[f64]) -> f64, start: &[f64]) -> Minimum {
    let mut best = minimize(&f, start, 1.0, 1e-12, 5_000);
    for _ in 0..3 {
        let again = minimize(&f, &best.x, 0.2, 1e-12, 5_000);
        let improved = again.value < best.value - 1e-9;
        if again.value <= best.value {
            best = again;
        }
        if !improved {
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::minimize;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let rosen = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = minimize(rosen, &[-1.2, 1.0], 0.5, 1e-14, 10_000);
        assert!(m.converged);
        assert!((m.x[0] - 1.0).abs() < 1e-4 && (m.x[1] - 1.0).abs() < 1e-4, "{:?}", m.x);
    }

    #[test]
    fn steps_back_from_non_finite_regions() {
        // log barrier: undefined for x <= 0, minimum at x = 1.
        let f = |x: &[f64]| x[0] - x[0].ln();
        let m = minimize(f, &[3.0], 1.0, 1e-14, 10_000);
        assert!((m.x[0] - 1.0).abs() < 1e-5, "{:?}", m.x);
    }
}
