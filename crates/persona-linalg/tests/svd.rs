//! Accuracy of the randomized truncated SVD against dense references.

use persona_linalg::{truncated_svd, SparseRows, Svd, SvdParams};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    fn uniform(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Dense row-major matrix of a sparse one, in f64.
fn dense(a: &SparseRows) -> Vec<f64> {
    let n = a.n_cols();
    let mut d = vec![0.0; a.n_rows() * n];
    for r in 0..a.n_rows() {
        let (cols, vals) = a.row(r).unwrap();
        for (&c, &v) in cols.iter().zip(vals) {
            d[r * n + c as usize] = f64::from(v);
        }
    }
    d
}

/// Eigenvalues (descending) of a symmetric `n x n` matrix by cyclic Jacobi.
fn sym_eigenvalues(mut s: Vec<f64>, n: usize) -> Vec<f64> {
    for _ in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| s[i * n + j].powi(2))
            .sum();
        let diag: f64 = (0..n).map(|i| s[i * n + i].powi(2)).sum();
        if off <= 1e-30 * diag {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = s[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (s[q * n + q] - s[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + theta.hypot(1.0));
                let c = 1.0 / t.hypot(1.0);
                let sn = t * c;
                for k in 0..n {
                    let (akp, akq) = (s[k * n + p], s[k * n + q]);
                    s[k * n + p] = c * akp - sn * akq;
                    s[k * n + q] = sn * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (s[p * n + k], s[q * n + k]);
                    s[p * n + k] = c * apk - sn * aqk;
                    s[q * n + k] = sn * apk + c * aqk;
                }
            }
        }
    }
    let mut e: Vec<f64> = (0..n).map(|i| s[i * n + i]).collect();
    e.sort_by(|a, b| b.total_cmp(a));
    e
}

/// Singular values of `a` (descending, `n_cols` of them) from the eigenvalues of AᵀA.
fn reference_singular_values(a: &SparseRows) -> Vec<f64> {
    let (m, n) = (a.n_rows(), a.n_cols());
    let d = dense(a);
    let mut ata = vec![0.0; n * n];
    for r in 0..m {
        let row = &d[r * n..(r + 1) * n];
        for i in 0..n {
            if row[i] != 0.0 {
                for j in 0..n {
                    ata[i * n + j] += row[i] * row[j];
                }
            }
        }
    }
    sym_eigenvalues(ata, n).into_iter().map(|e| e.max(0.0).sqrt()).collect()
}

/// An exact rank-`rank` matrix with small-integer entries (exact in f32):
/// the product of two random integer factors, with some entries of the left
/// factor zero so that the matrix has zero rows too.
fn integer_low_rank(m: usize, n: usize, rank: usize, seed: u64) -> SparseRows {
    let mut g = Lcg(seed);
    let left: Vec<i64> = (0..m * rank).map(|_| g.below(7) as i64 - 3).collect();
    let right: Vec<i64> = (0..rank * n).map(|_| g.below(5) as i64 - 2).collect();
    let mut t = Vec::new();
    for r in 0..m {
        if r % 11 == 5 {
            continue; // an all-zero row
        }
        for c in 0..n {
            let x: i64 = (0..rank).map(|i| left[r * rank + i] * right[i * n + c]).sum();
            t.push((r as u32, c as u32, x as f32));
        }
    }
    SparseRows::from_triplets(m, n, &t).unwrap()
}

fn run(a: &SparseRows, params: SvdParams) -> Svd {
    let p = params.check(a.n_rows(), a.n_cols()).unwrap();
    truncated_svd(a, &p, &|| false).unwrap()
}

/// max |XᵀX - I| for an `rows x k` row-major f32 block.
fn orthonormality_error(x: &[f32], k: usize) -> f64 {
    let mut worst = 0.0f64;
    for a in 0..k {
        for b in 0..k {
            let d: f64 = x.chunks_exact(k).map(|r| f64::from(r[a]) * f64::from(r[b])).sum();
            worst = worst.max((d - if a == b { 1.0 } else { 0.0 }).abs());
        }
    }
    worst
}

fn max_rel_error(got: &[f64], want: &[f64]) -> f64 {
    got.iter().zip(want).map(|(g, w)| (g - w).abs() / w).fold(0.0, f64::max)
}

#[test]
fn exact_rank_k_matrix_is_recovered() {
    let (m, n, k) = (60, 40, 10);
    let a = integer_low_rank(m, n, k, 1);
    let want = reference_singular_values(&a);
    // Power passes do not matter for an exact rank: none, and the default.
    for power_iters in [0, 4] {
        let svd = run(&a, SvdParams { k, power_iters, ..SvdParams::default() });
        assert_eq!(svd.singular_values.len(), k);
        let err = max_rel_error(&svd.singular_values, &want[..k]);
        assert!(err < 1e-6, "power_iters {power_iters}: relative error {err}");
        assert!(svd.singular_values.windows(2).all(|w| w[0] >= w[1]));
        assert!((svd.explained_share() - 1.0).abs() < 1e-9, "{}", svd.explained_share());
        // U Σ Vᵀ gives A back (to f32 rounding of the factors).
        let d = dense(&a);
        let scale = svd.singular_values[0];
        for r in 0..m {
            for c in 0..n {
                let x: f64 = (0..k)
                    .map(|j| {
                        f64::from(svd.user_factors[r * k + j])
                            * svd.singular_values[j]
                            * f64::from(svd.item_factors[c * k + j])
                    })
                    .sum();
                assert!((x - d[r * n + c]).abs() < 1e-5 * scale, "({r}, {c}): {x} vs {}", d[r * n + c]);
            }
        }
    }
}

#[test]
fn noisy_low_rank_matrix_top_values_match() {
    // 60 x 40, rank 10 plus small noise on every entry.
    let (m, n, k) = (60, 40, 10);
    let exact = dense(&integer_low_rank(m, n, k, 2));
    let mut g = Lcg(3);
    let t: Vec<(u32, u32, f32)> =
        (0..m * n).map(|i| ((i / n) as u32, (i % n) as u32, (exact[i] + 0.05 * (g.uniform() - 0.5)) as f32)).collect();
    let a = SparseRows::from_triplets(m, n, &t).unwrap();
    let want = reference_singular_values(&a);
    let svd = run(&a, SvdParams { k, ..SvdParams::default() });
    let err = max_rel_error(&svd.singular_values, &want[..k]);
    assert!(err < 1e-9, "relative error {err}");
    // Without power passes the noise costs some accuracy, but not much.
    let rough = run(&a, SvdParams { k, power_iters: 0, ..SvdParams::default() });
    assert!(max_rel_error(&rough.singular_values, &want[..k]) < 1e-4);
    // Asking for more than the rank: the extra values are the noise level.
    let svd = run(&a, SvdParams { k: 15, oversample: 25, ..SvdParams::default() });
    assert!(max_rel_error(&svd.singular_values, &want[..15]) < 1e-6);
}

#[test]
fn factors_are_orthonormal_and_signs_fixed() {
    let a = integer_low_rank(80, 50, 12, 4);
    let svd = run(&a, SvdParams { k: 12, ..SvdParams::default() });
    assert!(orthonormality_error(&svd.user_factors, 12) < 1e-5);
    assert!(orthonormality_error(&svd.item_factors, 12) < 1e-5);
    for j in 0..12 {
        // The first element of (up to rounding) the largest magnitude is positive.
        let column: Vec<f32> = svd.item_factors.iter().skip(j).step_by(12).copied().collect();
        let biggest = column.iter().fold(0.0f32, |b, x| b.max(x.abs()));
        let lead = column.iter().find(|x| x.abs() >= biggest * (1.0 - 64.0 * f32::EPSILON)).unwrap();
        assert!(*lead > 0.0, "factor {j}: leading element {lead}");
    }
}

#[test]
fn fold_in_of_a_training_row_gives_its_user_factors() {
    let (m, k) = (60, 10);
    let a = integer_low_rank(m, 40, k, 5);
    let svd = run(&a, SvdParams { k, ..SvdParams::default() });
    for r in 0..m {
        let (cols, vals) = a.row(r).unwrap();
        let row: Vec<(u32, f32)> = cols.iter().copied().zip(vals.iter().copied()).collect();
        let u = svd.fold_in(&row).unwrap();
        let want = &svd.user_factors[r * k..(r + 1) * k];
        for (x, y) in u.iter().zip(want) {
            assert!((x - y).abs() < 1e-5, "row {r}: {u:?} vs {want:?}");
        }
        if row.is_empty() {
            assert!(want.iter().all(|x| x.abs() < 1e-6) && u.iter().all(|&x| x == 0.0));
        }
    }
    // The free function, from the stored arrays, agrees.
    let row = [(3u32, 1.5f32), (7, -2.0), (3, 0.5)];
    assert_eq!(
        svd.fold_in(&row).unwrap(),
        persona_linalg::fold_in(&svd.item_factors, &svd.singular_values, &row).unwrap()
    );
}

#[test]
fn rank_below_k_keeps_orthonormal_factors_and_zero_components() {
    // Rank 3 asked for 6 factors.
    let a = integer_low_rank(50, 30, 3, 6);
    let svd = run(&a, SvdParams { k: 6, ..SvdParams::default() });
    let s = &svd.singular_values;
    assert!(s[3] < 1e-10 * s[0], "{s:?}");
    assert!(orthonormality_error(&svd.user_factors, 6) < 1e-5);
    assert!(orthonormality_error(&svd.item_factors, 6) < 1e-5);
    let u = svd.fold_in(&[(0, 1.0), (5, 2.0)]).unwrap();
    assert!(u[..3].iter().any(|&x| x != 0.0) && u[3..].iter().all(|&x| x == 0.0), "{u:?}");
}

#[test]
fn zero_rows_and_columns_get_zero_factors() {
    // Column 7 and row 2 empty; a single-entry row.
    let mut t = Vec::new();
    let mut g = Lcg(7);
    for r in 0..30u32 {
        for c in 0..12u32 {
            if r != 2 && c != 7 && g.below(3) == 0 {
                t.push((r, c, (g.uniform() * 4.0) as f32 + 0.5));
            }
        }
    }
    let a = SparseRows::from_triplets(30, 12, &t).unwrap();
    let k = 5;
    let svd = run(&a, SvdParams { k, ..SvdParams::default() });
    assert!(svd.user_factors[2 * k..3 * k].iter().all(|x| x.abs() < 1e-6));
    assert!(svd.item_factors[7 * k..8 * k].iter().all(|x| x.abs() < 1e-6));
    assert!(svd.user_factors.iter().chain(&svd.item_factors).all(|x| x.is_finite()));
    let want = reference_singular_values(&a);
    assert!(max_rel_error(&svd.singular_values, &want[..k]) < 1e-6);
}

#[test]
fn same_seed_same_bits() {
    let a = integer_low_rank(70, 45, 8, 8);
    let p = SvdParams { k: 6, ..SvdParams::default() };
    let first = run(&a, p);
    assert_eq!(first, run(&a, p));
    let other = run(&a, SvdParams { seed: 7, ..p });
    // Another sketch: the same answer up to rounding, signs included.
    assert!(max_rel_error(&other.singular_values, &first.singular_values) < 1e-9);
    for (x, y) in other.item_factors.iter().zip(&first.item_factors) {
        assert!((x - y).abs() < 1e-4, "{x} vs {y}");
    }
}

#[test]
fn larger_sparse_matrix_through_the_blocked_qr() {
    // Tall enough that the orthonormalisation runs as a tree of blocks:
    // 6000 users in 6 taste groups over 200 items, ~8% filled.
    let (m, n, k) = (6000, 200, 8);
    let mut g = Lcg(9);
    let mut t = Vec::new();
    for r in 0..m as u32 {
        let group = u64::from(r % 6);
        for c in 0..n as u32 {
            let liked = u64::from(c) % 6 == group;
            if g.uniform() < if liked { 0.3 } else { 0.03 } {
                t.push((r, c, 1.0 + g.below(3) as f32));
            }
        }
    }
    let a = SparseRows::from_triplets(m, n, &t).unwrap();
    let want = reference_singular_values(&a);
    let svd = run(&a, SvdParams { k, oversample: 20, power_iters: 6, ..SvdParams::default() });
    // The six group directions stand far above the noise and are exact; the
    // two noise-level values beyond them are close.
    assert!(max_rel_error(&svd.singular_values[..6], &want[..6]) < 1e-8, "{:?} {:?}", svd.singular_values, &want[..k]);
    assert!(max_rel_error(&svd.singular_values, &want[..k]) < 5e-2);
    assert!(orthonormality_error(&svd.user_factors, k) < 1e-5);
    assert!(orthonormality_error(&svd.item_factors, k) < 1e-5);
    assert!(svd.explained_share() > 0.0 && svd.explained_share() < 1.0);
}
