//! Randomized truncated SVD of a sparse matrix (Halko, Martinsson & Tropp,
//! "Finding structure with randomness", algorithm 4.4).
//!
//! Used for user profiles: the top singular vectors of the user x item
//! matrix are factors on which a small linear model does as well as on the
//! raw rows. A random sketch `A Ω` captures the range of `A`; power passes
//! through `A Aᵀ` sharpen it, with a fresh orthonormal basis after every
//! product so that the small singular directions are not lost to rounding.
//! Then `A ≈ Q Qᵀ A`, and the SVD of the small projected matrix gives the
//! factors. Everything is f64 inside; only the stored factors are f32.
//!
//! Deterministic: the sketch comes from a seeded generator, every loop runs
//! in a fixed order, and each singular pair gets a fixed sign.

use crate::jacobi::jacobi_svd;
use crate::qr::orthonormalize;
use crate::sparse::{try_zeroed, SparseRows};
use crate::svd_params::{SvdError, ValidSvdParams};

/// The top `k` singular triplets of an `n_rows x n_cols` matrix, `A ≈ U Σ Vᵀ`.
#[derive(Debug, Clone, PartialEq)]
pub struct Svd {
    pub k: usize,
    pub n_rows: usize,
    pub n_cols: usize,
    /// Σ, descending, `k` long.
    pub singular_values: Vec<f64>,
    /// V, `n_cols x k` row-major: one factor vector per item (column of A).
    pub item_factors: Vec<f32>,
    /// U, `n_rows x k` row-major: one factor vector per user (row of A).
    pub user_factors: Vec<f32>,
    /// Squared Frobenius norm of A, the total the squared singular values share.
    pub frobenius_sq: f64,
}

impl Svd {
    /// Factor vector of a (new or training) row `x`: `x V Σ⁻¹`, see [`fold_in`].
    pub fn fold_in(&self, row: &[(u32, f32)]) -> Result<Vec<f32>, SvdError> {
        fold_in(&self.item_factors, &self.singular_values, row)
    }

    /// Share of ‖A‖²_F that the `k` factors explain (0 for a zero matrix).
    pub fn explained_share(&self) -> f64 {
        if self.frobenius_sq > 0.0 {
            let kept: f64 = self.singular_values.iter().map(|s| s * s).sum();
            (kept / self.frobenius_sq).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// `x V Σ⁻¹` for a sparse row `x` given as `(column, value)` pairs (repeated
/// columns add up), from stored item factors (`n_cols x k`) and singular
/// values (`k`). Free-standing so that the SQL layer can fold in users from
/// what it stored, without the full [`Svd`].
///
/// A component whose singular value is below f32 resolution relative to the
/// largest is 0: the f32 item factors cannot separate it from rounding, and
/// dividing would only amplify that rounding.
pub fn fold_in(item_factors: &[f32], singular_values: &[f64], row: &[(u32, f32)]) -> Result<Vec<f32>, SvdError> {
    let k = singular_values.len();
    if k == 0 || item_factors.len() % k != 0 {
        return Err(SvdError::BadInput(format!("{} item factors do not split into rows of {k}", item_factors.len())));
    }
    if let Some(s) = singular_values.iter().find(|s| !s.is_finite() || **s < 0.0) {
        return Err(SvdError::BadInput(format!("singular value {s}")));
    }
    let n_cols = item_factors.len() / k;
    let mut acc = vec![0.0f64; k];
    for &(c, v) in row {
        if c as usize >= n_cols {
            return Err(SvdError::BadInput(format!("column {c} outside the {n_cols} items")));
        }
        if !v.is_finite() {
            return Err(SvdError::BadInput(format!("value {v} at column {c}")));
        }
        let factors = &item_factors[c as usize * k..(c as usize + 1) * k];
        for (a, &f) in acc.iter_mut().zip(factors) {
            *a += f64::from(v) * f64::from(f);
        }
    }
    let cutoff = singular_values.iter().fold(0.0f64, |m, &s| m.max(s)) * f64::from(f32::EPSILON);
    Ok(acc.iter().zip(singular_values).map(|(&a, &s)| if s > cutoff { (a / s) as f32 } else { 0.0 }).collect())
}

/// SplitMix64: tiny, seedable, and good enough for a Gaussian sketch.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: never 0, so its logarithm is finite.
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Fills `out` with standard normal values (Box–Muller, both outputs used).
    fn fill_gaussian(&mut self, out: &mut [f64]) {
        for pair in out.chunks_mut(2) {
            let r = (-2.0 * self.unit().ln()).sqrt();
            let theta = std::f64::consts::TAU * self.unit();
            pair[0] = r * theta.cos();
            if let Some(second) = pair.get_mut(1) {
                *second = r * theta.sin();
            }
        }
    }
}

fn check_stop(stop: &dyn Fn() -> bool) -> Result<(), SvdError> {
    if stop() {
        Err(SvdError::Cancelled)
    } else {
        Ok(())
    }
}

/// The top `p.k()` singular triplets of `a`. `stop` is called between the
/// steps (each product with A or Aᵀ, each orthonormalisation, each Jacobi
/// sweep); when it returns true the work is abandoned with `Cancelled`.
///
/// Work memory is two dense blocks, `(n_rows + n_cols) x sketch_width` f64,
/// plus the f32 factors returned.
pub fn truncated_svd(a: &SparseRows, p: &ValidSvdParams, stop: &dyn Fn() -> bool) -> Result<Svd, SvdError> {
    let (m, n) = (a.n_rows(), a.n_cols());
    if p.shape() != (m, n) {
        let (pr, pc) = p.shape();
        return Err(SvdError::InvalidParameter {
            name: "params",
            reason: format!("checked for a {pr} x {pc} matrix, given {m} x {n}"),
        });
    }
    if a.nnz() == 0 {
        return Err(SvdError::BadInput("the matrix has no nonzero entries".into()));
    }
    let (k, l) = (p.k(), p.sketch_width());
    let too_big = || SvdError::BadInput(format!("a {m} x {n} matrix with sketch width {l} overflows memory sizes"));
    let m_l = m.checked_mul(l).ok_or_else(too_big)?;
    let n_l = n.checked_mul(l).ok_or_else(too_big)?;

    check_stop(stop)?;
    // `item_side` holds Ω, then each basis of the row space, finally Q_z.
    let mut item_side: Vec<f64> = try_zeroed(n_l, "item-side sketch")?;
    SplitMix(p.seed()).fill_gaussian(&mut item_side);
    // `user_side` holds each basis Q of the column space.
    let mut user_side: Vec<f64> = try_zeroed(m_l, "user-side sketch")?;
    check_stop(stop)?;
    a.mul_dense(&item_side, l, &mut user_side);
    check_stop(stop)?;
    orthonormalize(&mut user_side, m, l)?;
    for _ in 0..p.power_iters() {
        check_stop(stop)?;
        a.mul_transpose_dense(&user_side, l, &mut item_side);
        check_stop(stop)?;
        orthonormalize(&mut item_side, n, l)?;
        check_stop(stop)?;
        a.mul_dense(&item_side, l, &mut user_side);
        check_stop(stop)?;
        orthonormalize(&mut user_side, m, l)?;
    }
    // Bᵀ = Aᵀ Q = Q_z R, so A ≈ Q B = Q Rᵀ Q_zᵀ and the SVD of the small Rᵀ
    // (= U_r S V_rᵀ) gives U = Q U_r, V = Q_z V_r.
    check_stop(stop)?;
    a.mul_transpose_dense(&user_side, l, &mut item_side);
    check_stop(stop)?;
    let r = orthonormalize(&mut item_side, n, l)?;
    // Row j of R (row-major) is column j of Rᵀ: exactly the layout Jacobi wants.
    let (sigma, u_r, v_r) = jacobi_svd(r, l, stop)?;
    check_stop(stop)?;
    let mut item_factors = project(&item_side, n, l, &v_r, k)?;
    drop(item_side);
    let mut user_factors = project(&user_side, m, l, &u_r, k)?;
    let flip = leading_signs_negative(&item_factors, k);
    for factors in [&mut item_factors, &mut user_factors] {
        for row in factors.chunks_exact_mut(k) {
            row.iter_mut().zip(&flip).filter(|(_, &f)| f).for_each(|(x, _)| *x = -*x);
        }
    }
    Ok(Svd {
        k,
        n_rows: m,
        n_cols: n,
        singular_values: sigma[..k].to_vec(),
        item_factors,
        user_factors,
        frobenius_sq: a.frobenius_sq(),
    })
}

/// Sign convention: the largest-magnitude element of each item factor is
/// positive. Elements equal in magnitude up to rounding (frequent: items
/// with identical histories) count as ties, and the first of them decides,
/// so that rounding noise cannot flip a factor.
fn leading_signs_negative(factors: &[f32], k: usize) -> Vec<bool> {
    let mut biggest = vec![0.0f32; k];
    for row in factors.chunks_exact(k) {
        biggest.iter_mut().zip(row).for_each(|(b, x)| *b = b.max(x.abs()));
    }
    let tie: Vec<f32> = biggest.iter().map(|b| b * (1.0 - 64.0 * f32::EPSILON)).collect();
    let mut lead: Vec<Option<bool>> = vec![None; k];
    for row in factors.chunks_exact(k) {
        for ((l, &x), &t) in lead.iter_mut().zip(row).zip(&tie) {
            if l.is_none() && x.abs() >= t {
                *l = Some(x < 0.0);
            }
        }
    }
    lead.into_iter().map(|l| l.unwrap_or(false)).collect()
}

/// `basis (rows x l) · small[:, ..k]` as f32, `small` given column by column.
fn project(basis: &[f64], rows: usize, l: usize, small: &[f64], k: usize) -> Result<Vec<f32>, SvdError> {
    // Row-major `l x k` copy, so that the inner loop runs along a contiguous output row.
    let mut lk = vec![0.0f64; l * k];
    for j in 0..k {
        for t in 0..l {
            lk[t * k + j] = small[j * l + t];
        }
    }
    let mut out: Vec<f32> = try_zeroed(rows * k, "factors")?;
    let mut acc = vec![0.0f64; k];
    for (b_row, o_row) in basis.chunks_exact(l).zip(out.chunks_exact_mut(k)) {
        acc.iter_mut().for_each(|a| *a = 0.0);
        for (&b, lk_row) in b_row.iter().zip(lk.chunks_exact(k)) {
            for (a, &x) in acc.iter_mut().zip(lk_row) {
                *a += b * x;
            }
        }
        for (o, &x) in o_row.iter_mut().zip(&acc) {
            *o = x as f32;
        }
    }
    Ok(out)
}
