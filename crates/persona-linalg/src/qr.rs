//! Orthonormalisation of tall, skinny dense blocks (`n x l`, row-major, f64).
//!
//! Householder QR, because its Q is orthonormal to rounding even when the
//! block is rank-deficient (a power iteration on a low-rank matrix makes it
//! so), where Gram–Schmidt would divide noise by noise. Applied as a tree
//! (TSQR): each reflector pass then runs over a cache-sized block of rows
//! instead of the whole block, which is what makes a million-row sketch
//! affordable.

use crate::sparse::try_zeroed;
use crate::svd_params::SvdError;

/// Rows per leaf block: enough to stay in cache, and at least twice the width
/// so that the stacked R factors are at most half as tall as the input.
fn block_rows(l: usize) -> usize {
    (2 * l).max((1 << 16) / l.max(1))
}

/// Replaces `y` (`n x l`, `n >= l`) by a Q with orthonormal columns and
/// returns R (`l x l`, row-major, upper triangular) with `y = Q R`.
pub(crate) fn orthonormalize(y: &mut [f64], n: usize, l: usize) -> Result<Vec<f64>, SvdError> {
    if l == 0 || n < l || y.len() != n * l {
        return Err(SvdError::BadInput(format!("cannot orthonormalise a {n} x {l} block")));
    }
    let b = block_rows(l);
    let mut w = vec![0.0; l];
    if n <= 2 * b {
        let mut tau = vec![0.0; l];
        factor(y, n, l, &mut tau, &mut w);
        let r = upper(y, l);
        let mut q: Vec<f64> = try_zeroed(n * l, "QR work block")?;
        for j in 0..l {
            q[j * l + j] = 1.0;
        }
        apply(y, n, l, &tau, &mut q, &mut w);
        y.copy_from_slice(&q);
        return Ok(r);
    }
    let blocks = n / b;
    let span = |i: usize| (i * b, if i + 1 == blocks { n } else { (i + 1) * b });
    let mut stacked: Vec<f64> = try_zeroed(blocks * l * l, "stacked R factors")?;
    let mut taus = vec![0.0; blocks * l];
    for i in 0..blocks {
        let (start, end) = span(i);
        let blk = &mut y[start * l..end * l];
        factor(blk, end - start, l, &mut taus[i * l..(i + 1) * l], &mut w);
        stacked[i * l * l..(i + 1) * l * l].copy_from_slice(&upper(blk, l));
    }
    let r = orthonormalize(&mut stacked, blocks * l, l)?;
    // Q of block i is its own reflectors applied to its l x l slice of the
    // stacked Q (padded with zero rows).
    let mut tmp: Vec<f64> = try_zeroed((n - (blocks - 1) * b) * l, "QR work block")?;
    for i in 0..blocks {
        let (start, end) = span(i);
        let m = end - start;
        let out = &mut tmp[..m * l];
        out.iter_mut().for_each(|x| *x = 0.0);
        out[..l * l].copy_from_slice(&stacked[i * l * l..(i + 1) * l * l]);
        let blk = &mut y[start * l..end * l];
        apply(blk, m, l, &taus[i * l..(i + 1) * l], out, &mut w);
        blk.copy_from_slice(out);
    }
    Ok(r)
}

/// The upper triangle of the first `l` rows.
fn upper(a: &[f64], l: usize) -> Vec<f64> {
    let mut r = vec![0.0; l * l];
    for i in 0..l {
        r[i * l + i..(i + 1) * l].copy_from_slice(&a[i * l + i..(i + 1) * l]);
    }
    r
}

/// Householder QR of `a` (`m x l`) in place, LAPACK style: R on and above the
/// diagonal, reflector `j` below it (its leading 1 implicit), scale in `tau[j]`.
fn factor(a: &mut [f64], m: usize, l: usize, tau: &mut [f64], w: &mut [f64]) {
    for j in 0..l {
        let x0 = a[j * l + j];
        let tail: f64 = (j + 1..m).map(|i| a[i * l + j] * a[i * l + j]).sum();
        if tail == 0.0 {
            // Already zero below the diagonal: the reflector is the identity.
            tau[j] = 0.0;
            continue;
        }
        let beta = -(x0 * x0 + tail).sqrt().copysign(x0);
        tau[j] = (beta - x0) / beta;
        let scale = 1.0 / (x0 - beta);
        for i in j + 1..m {
            a[i * l + j] *= scale;
        }
        a[j * l + j] = beta;
        // w = vᵀ A[j.., j+1..], then A[j.., j+1..] -= tau v wᵀ.
        let rest = j + 1..l;
        let w = &mut w[rest.clone()];
        w.copy_from_slice(&a[j * l + j + 1..(j + 1) * l]);
        for i in j + 1..m {
            let v = a[i * l + j];
            for (wc, &x) in w.iter_mut().zip(&a[i * l + j + 1..(i + 1) * l]) {
                *wc += v * x;
            }
        }
        let t = tau[j];
        for (x, &wc) in a[j * l + j + 1..(j + 1) * l].iter_mut().zip(w.iter()) {
            *x -= t * wc;
        }
        for i in j + 1..m {
            let tv = t * a[i * l + j];
            for (x, &wc) in a[i * l + j + 1..(i + 1) * l].iter_mut().zip(w.iter()) {
                *x -= tv * wc;
            }
        }
    }
}

/// `out = H_0 H_1 … H_{l-1} out` with the reflectors that [`factor`] left in `a`.
fn apply(a: &[f64], m: usize, l: usize, tau: &[f64], out: &mut [f64], w: &mut [f64]) {
    for j in (0..l).rev() {
        let t = tau[j];
        if t == 0.0 {
            continue;
        }
        w.copy_from_slice(&out[j * l..(j + 1) * l]);
        for i in j + 1..m {
            let v = a[i * l + j];
            for (wc, &x) in w.iter_mut().zip(&out[i * l..(i + 1) * l]) {
                *wc += v * x;
            }
        }
        for (x, &wc) in out[j * l..(j + 1) * l].iter_mut().zip(w.iter()) {
            *x -= t * wc;
        }
        for i in j + 1..m {
            let tv = t * a[i * l + j];
            for (x, &wc) in out[i * l..(i + 1) * l].iter_mut().zip(w.iter()) {
                *x -= tv * wc;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
            })
            .collect()
    }

    /// max |QᵀQ - I| and max |QR - Y|.
    fn errors(y: &[f64], q: &[f64], r: &[f64], n: usize, l: usize) -> (f64, f64) {
        let (mut orth, mut rec) = (0.0f64, 0.0f64);
        for a in 0..l {
            for b in 0..l {
                let d: f64 = (0..n).map(|i| q[i * l + a] * q[i * l + b]).sum();
                orth = orth.max((d - if a == b { 1.0 } else { 0.0 }).abs());
            }
        }
        for i in 0..n {
            for c in 0..l {
                let qr: f64 = (0..=c).map(|t| q[i * l + t] * r[t * l + c]).sum();
                rec = rec.max((qr - y[i * l + c]).abs());
            }
        }
        (orth, rec)
    }

    #[test]
    fn q_is_orthonormal_and_reproduces_y_at_every_tree_depth() {
        // Small (one leaf), one level of blocks, and several levels.
        for &(n, l) in &[(7, 3), (5, 5), (10_000, 40), (5_000, 200)] {
            let y = pseudo_random(n * l, n as u64);
            let mut q = y.clone();
            let r = orthonormalize(&mut q, n, l).unwrap();
            let (orth, rec) = errors(&y, &q, &r, n, l);
            assert!(orth < 1e-12 && rec < 1e-12, "{n}x{l}: {orth} {rec}");
        }
    }

    #[test]
    fn rank_deficient_blocks_still_give_orthonormal_q() {
        let (n, l) = (3_000, 12);
        let base = pseudo_random(n * 2, 9);
        let mut y = vec![0.0; n * l];
        for i in 0..n {
            // Columns: two random, their sum, copies, and zero columns.
            let (a, b) = (base[2 * i], base[2 * i + 1]);
            let row = [a, b, a + b, a, 0.0, b, 0.0, 2.0 * a, 0.0, 0.0, -b, 0.0];
            y[i * l..(i + 1) * l].copy_from_slice(&row);
        }
        let mut q = y.clone();
        let r = orthonormalize(&mut q, n, l).unwrap();
        let (orth, rec) = errors(&y, &q, &r, n, l);
        assert!(orth < 1e-12 && rec < 1e-12, "{orth} {rec}");
        let mut zero = vec![0.0; 40 * 4];
        orthonormalize(&mut zero, 40, 4).unwrap();
        assert!(errors(&vec![0.0; 160], &zero, &[0.0; 16], 40, 4).0 < 1e-15);
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(orthonormalize(&mut [0.0; 6], 2, 3).is_err());
        assert!(orthonormalize(&mut [0.0; 5], 3, 2).is_err());
        assert!(orthonormalize(&mut [], 0, 0).is_err());
    }
}
