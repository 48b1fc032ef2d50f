//! SVD of the small `l x l` core matrix by one-sided (Hestenes) Jacobi.
//!
//! Chosen over eigenvalues of `B Bᵀ` because it works on the matrix itself:
//! small singular values keep their relative accuracy instead of being
//! squared into the rounding noise of the large ones.

use crate::svd_params::SvdError;

/// Sweeps after which the rotations are accepted as they are; convergence is
/// quadratic, so this is only a guard against a pathological stall.
const MAX_SWEEPS: usize = 60;

/// The SVD `M = U diag(s) Vᵀ` of a square `l x l` matrix given column by
/// column (`cols[j * l..(j + 1) * l]` is column `j`). Returns `s` descending
/// and `U`, `V` also column by column; both are orthonormal even when `M` is
/// singular.
pub(crate) fn jacobi_svd(
    mut cols: Vec<f64>,
    l: usize,
    stop: &dyn Fn() -> bool,
) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>), SvdError> {
    if l == 0 || cols.len() != l * l {
        return Err(SvdError::BadInput(format!("core matrix of {} values is not {l} x {l}", cols.len())));
    }
    let mut v = vec![0.0; l * l];
    for j in 0..l {
        v[j * l + j] = 1.0;
    }
    // Scale-free test: columns count as orthogonal once their cosine is at rounding level.
    let tol = f64::EPSILON * l as f64;
    for _ in 0..MAX_SWEEPS {
        if stop() {
            return Err(SvdError::Cancelled);
        }
        let mut rotated = false;
        for i in 0..l {
            for j in i + 1..l {
                let (ci, cj) = (&cols[i * l..(i + 1) * l], &cols[j * l..(j + 1) * l]);
                let alpha = dot(ci, ci);
                let beta = dot(cj, cj);
                let gamma = dot(ci, cj);
                if gamma == 0.0 || gamma.abs() <= tol * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + zeta.hypot(1.0));
                let c = 1.0 / t.hypot(1.0);
                let s = c * t;
                rotate(&mut cols, l, i, j, c, s);
                rotate(&mut v, l, i, j, c, s);
            }
        }
        if !rotated {
            break;
        }
    }
    let norms: Vec<f64> = (0..l).map(|j| dot(&cols[j * l..(j + 1) * l], &cols[j * l..(j + 1) * l]).sqrt()).collect();
    let mut order: Vec<usize> = (0..l).collect();
    order.sort_by(|&a, &b| norms[b].total_cmp(&norms[a]));
    let mut s = Vec::with_capacity(l);
    let mut u = vec![0.0; l * l];
    let mut v_sorted = vec![0.0; l * l];
    let mut missing = Vec::new();
    for (dst, &src) in order.iter().enumerate() {
        let sigma = norms[src];
        s.push(sigma);
        v_sorted[dst * l..(dst + 1) * l].copy_from_slice(&v[src * l..(src + 1) * l]);
        // Below this a column may hold subnormals: its direction is not known.
        if sigma > f64::MIN_POSITIVE / f64::EPSILON {
            for (o, &x) in u[dst * l..(dst + 1) * l].iter_mut().zip(&cols[src * l..(src + 1) * l]) {
                *o = x / sigma;
            }
        } else {
            missing.push(dst);
        }
    }
    complete(&mut u, l, &missing);
    Ok((s, u, v_sorted))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Columns `i`, `j` of `m` become `c·ci - s·cj` and `s·ci + c·cj`.
fn rotate(m: &mut [f64], l: usize, i: usize, j: usize, c: f64, s: f64) {
    let (head, tail) = m.split_at_mut(j * l);
    let ci = &mut head[i * l..(i + 1) * l];
    let cj = &mut tail[..l];
    for (x, y) in ci.iter_mut().zip(cj.iter_mut()) {
        let (a, b) = (*x, *y);
        *x = c * a - s * b;
        *y = s * a + c * b;
    }
}

/// Fills the `missing` columns of `u` with unit vectors orthogonal to all
/// the others. Candidates are the axes in order; one is taken when its part
/// outside the current span is large enough, which a single pass over the
/// axes always satisfies (their squared residuals sum to the missing rank).
fn complete(u: &mut [f64], l: usize, missing: &[usize]) {
    if missing.is_empty() {
        return;
    }
    let mut known: Vec<usize> = (0..l).filter(|j| !missing.contains(j)).collect();
    let threshold = 0.5 / l as f64;
    let mut axis = 0;
    for &dst in missing {
        while axis < l {
            let mut e = vec![0.0; l];
            e[axis] = 1.0;
            axis += 1;
            // Twice, so that what remains is orthogonal to rounding.
            for _ in 0..2 {
                for &k in &known {
                    let col = &u[k * l..(k + 1) * l];
                    let d = dot(&e, col);
                    e.iter_mut().zip(col).for_each(|(x, &y)| *x -= d * y);
                }
            }
            let norm2 = dot(&e, &e);
            if norm2 > threshold {
                let norm = norm2.sqrt();
                for (o, x) in u[dst * l..(dst + 1) * l].iter_mut().zip(&e) {
                    *o = x / norm;
                }
                known.push(dst);
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(m: &[f64], l: usize) -> Vec<f64> {
        let (s, u, v) = jacobi_svd(m.to_vec(), l, &|| false).unwrap();
        for a in 0..l {
            for b in 0..l {
                let id = if a == b { 1.0 } else { 0.0 };
                assert!((dot(&u[a * l..(a + 1) * l], &u[b * l..(b + 1) * l]) - id).abs() < 1e-13);
                assert!((dot(&v[a * l..(a + 1) * l], &v[b * l..(b + 1) * l]) - id).abs() < 1e-13);
            }
        }
        // M = U S Vᵀ, element (r, c) = Σ_t u_t[r] s_t v_t[c]; M column c is m[c*l..].
        for r in 0..l {
            for c in 0..l {
                let x: f64 = (0..l).map(|t| u[t * l + r] * s[t] * v[t * l + c]).sum();
                assert!((x - m[c * l + r]).abs() < 1e-12, "({r}, {c}): {x} vs {}", m[c * l + r]);
            }
        }
        assert!(s.windows(2).all(|w| w[0] >= w[1]));
        s
    }

    #[test]
    fn diagonal_and_rotated_matrices() {
        let s = check(&[3.0, 0.0, 0.0, 0.0, -5.0, 0.0, 0.0, 0.0, 1.0], 3);
        assert_eq!(s, vec![5.0, 3.0, 1.0]);
        // [[1, 1], [0, 1]]: singular values are the golden ratio and its inverse.
        let s = check(&[1.0, 0.0, 1.0, 1.0], 2);
        let phi = (1.0 + 5f64.sqrt()) / 2.0;
        assert!((s[0] - phi).abs() < 1e-14 && (s[1] - 1.0 / phi).abs() < 1e-14);
    }

    #[test]
    fn singular_matrices_get_a_full_orthonormal_u() {
        assert_eq!(check(&[0.0; 16], 4), vec![0.0; 4]);
        // Rank 1 and a zero column in the middle.
        let s = check(&[1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 2.0, 4.0, 6.0], 3);
        assert!((s[0] - 70f64.sqrt()).abs() < 1e-13 && s[1] < 1e-15 && s[2] < 1e-15);
    }

    #[test]
    fn cancel_and_bad_shape() {
        assert_eq!(jacobi_svd(vec![1.0; 4], 2, &|| true), Err(SvdError::Cancelled));
        assert!(jacobi_svd(vec![1.0; 3], 2, &|| false).is_err());
    }
}
