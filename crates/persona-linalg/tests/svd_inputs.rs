//! Bad inputs, cancellation and edge cases of the truncated SVD: every one is
//! an error value, never a panic.

use std::cell::Cell;

use persona_linalg::{fold_in, truncated_svd, SparseRows, SvdError, SvdParams};

fn small() -> SparseRows {
    let t: Vec<(u32, u32, f32)> =
        (0..20u32).flat_map(|r| (0..8u32).map(move |c| (r, c, ((r * 7 + c * 3) % 5) as f32))).collect();
    SparseRows::from_triplets(20, 8, &t).unwrap()
}

fn param_name(p: SvdParams, rows: usize, cols: usize) -> &'static str {
    match p.check(rows, cols) {
        Err(SvdError::InvalidParameter { name, .. }) => name,
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

#[test]
fn bad_parameters_are_refused() {
    let d = SvdParams::default();
    assert_eq!(param_name(SvdParams { k: 0, ..d }, 20, 8), "k");
    assert_eq!(param_name(SvdParams { k: 9, ..d }, 20, 8), "k");
    assert_eq!(param_name(d, 20, 8), "k"); // the default 64 is too many here
    assert_eq!(param_name(SvdParams { k: 2, oversample: 1000, ..d }, 20, 8), "oversample");
    assert_eq!(param_name(SvdParams { k: 2, power_iters: 100, ..d }, 20, 8), "power_iters");
    let e = SvdParams { k: 0, ..d }.check(20, 8).unwrap_err();
    assert!(e.to_string().contains('k'), "{e}");
    let _: &dyn std::error::Error = &e;
}

#[test]
fn params_checked_for_another_shape_are_refused() {
    let p = SvdParams { k: 2, ..SvdParams::default() }.check(8, 20).unwrap();
    match truncated_svd(&small(), &p, &|| false) {
        Err(SvdError::InvalidParameter { name: "params", .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_matrices_are_refused() {
    let bad = |r, c, t: &[(u32, u32, f32)]| matches!(SparseRows::from_triplets(r, c, t), Err(SvdError::BadInput(_)));
    assert!(bad(0, 0, &[]));
    assert!(bad(0, 5, &[]));
    assert!(bad(5, 0, &[]));
    assert!(bad(3, 3, &[(3, 0, 1.0)]));
    assert!(bad(3, 3, &[(0, 3, 1.0)]));
    assert!(bad(3, 3, &[(0, 0, f32::NAN)]));
    assert!(bad(3, 3, &[(1, 1, f32::NEG_INFINITY)]));
    assert!(bad(1, 1, &[(0, 0, f32::MAX), (0, 0, f32::MAX)]));
    // No nonzero entries (none given, or all cancelling): nothing to factor.
    let p = SvdParams { k: 1, ..SvdParams::default() }.check(3, 3).unwrap();
    for t in [&[][..], &[(0, 0, 1.0), (0, 0, -1.0)][..]] {
        let a = SparseRows::from_triplets(3, 3, t).unwrap();
        assert_eq!(a.nnz(), 0);
        assert!(matches!(truncated_svd(&a, &p, &|| false), Err(SvdError::BadInput(_))));
    }
}

#[test]
fn bad_fold_in_rows_are_refused() {
    let a = small();
    let p = SvdParams { k: 3, ..SvdParams::default() }.check(20, 8).unwrap();
    let svd = truncated_svd(&a, &p, &|| false).unwrap();
    assert!(matches!(svd.fold_in(&[(8, 1.0)]), Err(SvdError::BadInput(_))));
    assert!(matches!(svd.fold_in(&[(0, f32::NAN)]), Err(SvdError::BadInput(_))));
    assert_eq!(svd.fold_in(&[]).unwrap(), vec![0.0; 3]);
    assert!(fold_in(&svd.item_factors, &[], &[]).is_err());
    assert!(fold_in(&svd.item_factors[1..], &svd.singular_values, &[]).is_err());
    assert!(fold_in(&svd.item_factors, &[1.0, f64::NAN, 0.5], &[]).is_err());
    assert!(fold_in(&svd.item_factors, &[1.0, -1.0, 0.5], &[]).is_err());
    // A zero singular value gives a zero component rather than a division by zero.
    let u = fold_in(&svd.item_factors, &[svd.singular_values[0], 0.0, svd.singular_values[2]], &[(1, 2.0)]).unwrap();
    assert_eq!(u[1], 0.0);
    assert!(u.iter().all(|x| x.is_finite()));
}

#[test]
fn cancel_at_every_step_returns_cancelled() {
    let a = small();
    let p = SvdParams { k: 3, power_iters: 2, ..SvdParams::default() }.check(20, 8).unwrap();
    assert_eq!(truncated_svd(&a, &p, &|| true), Err(SvdError::Cancelled));
    // Let the first `allowed` checks pass, for every possible `allowed`:
    // each stopping point must give Cancelled, and past the last, success.
    let mut allowed = 0;
    loop {
        let calls = Cell::new(0);
        let stop = || {
            calls.set(calls.get() + 1);
            calls.get() > allowed
        };
        match truncated_svd(&a, &p, &stop) {
            Err(SvdError::Cancelled) => allowed += 1,
            Ok(svd) => {
                assert!(allowed > 10, "only {allowed} checks");
                assert_eq!(svd, truncated_svd(&a, &p, &|| false).unwrap());
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn tiny_and_degenerate_shapes_work() {
    // 1 x 1, a single row, a single column, and k equal to both dimensions.
    let one = SparseRows::from_triplets(1, 1, &[(0, 0, -3.0)]).unwrap();
    let p = SvdParams { k: 1, ..SvdParams::default() }.check(1, 1).unwrap();
    let svd = truncated_svd(&one, &p, &|| false).unwrap();
    assert_eq!(svd.singular_values, vec![3.0]);
    assert_eq!((svd.item_factors[0], svd.user_factors[0]), (1.0, -1.0));
    assert!((svd.explained_share() - 1.0).abs() < 1e-12);

    let row = SparseRows::from_triplets(1, 4, &[(0, 0, 3.0), (0, 3, 4.0)]).unwrap();
    let p = SvdParams { k: 1, ..SvdParams::default() }.check(1, 4).unwrap();
    let svd = truncated_svd(&row, &p, &|| false).unwrap();
    assert!((svd.singular_values[0] - 5.0).abs() < 1e-12);
    assert!((svd.fold_in(&[(0, 3.0), (3, 4.0)]).unwrap()[0] - svd.user_factors[0]).abs() < 1e-6);

    let col = SparseRows::from_triplets(5, 1, &[(1, 0, 2.0), (4, 0, 2.0)]).unwrap();
    let p = SvdParams { k: 1, ..SvdParams::default() }.check(5, 1).unwrap();
    let svd = truncated_svd(&col, &p, &|| false).unwrap();
    assert!((svd.singular_values[0] - 8f64.sqrt()).abs() < 1e-12);

    let square = SparseRows::from_triplets(3, 3, &[(0, 0, 1.0), (1, 1, 2.0), (2, 2, 3.0), (0, 2, 1.0)]).unwrap();
    let p = SvdParams { k: 3, ..SvdParams::default() }.check(3, 3).unwrap();
    let svd = truncated_svd(&square, &p, &|| false).unwrap();
    assert!((svd.explained_share() - 1.0).abs() < 1e-12);
    let s2: f64 = svd.singular_values.iter().map(|s| s * s).sum();
    assert!((s2 - 15.0).abs() < 1e-10);
}

#[test]
fn extreme_scales_neither_overflow_nor_underflow() {
    let base: Vec<(u32, u32, f32)> =
        (0..20u32).flat_map(|r| (0..8u32).map(move |c| (r, c, ((r * 7 + c * 3) % 5) as f32))).collect();
    let p = SvdParams { k: 3, ..SvdParams::default() }.check(20, 8).unwrap();
    let reference = truncated_svd(&small(), &p, &|| false).unwrap();
    for scale in [1e30f32, 1e-30, f32::MAX / 8.0] {
        let t: Vec<_> = base.iter().map(|&(r, c, v)| (r, c, v * scale)).collect();
        let svd = truncated_svd(&SparseRows::from_triplets(20, 8, &t).unwrap(), &p, &|| false).unwrap();
        for (s, r) in svd.singular_values.iter().zip(&reference.singular_values) {
            assert!((s / (r * f64::from(scale)) - 1.0).abs() < 1e-6, "scale {scale}: {s} vs {r}");
        }
        for (x, y) in svd.item_factors.iter().zip(&reference.item_factors) {
            assert!((x - y).abs() < 1e-5, "scale {scale}: {x} vs {y}");
        }
        assert!((svd.explained_share() - reference.explained_share()).abs() < 1e-6);
    }
}
