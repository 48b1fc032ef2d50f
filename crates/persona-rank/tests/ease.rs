mod common;

use common::SplitMix;
use persona_rank::{fit_ease, spd_inverse, EaseConfig, Precision, RankError};

/// Gauss-Jordan inverse with partial pivoting: slow, obvious, the reference.
fn naive_inverse(a: &[f64], n: usize) -> Vec<f64> {
    let mut m = a.to_vec();
    let mut inv: Vec<f64> = (0..n * n)
        .map(|i| if i / n == i % n { 1.0 } else { 0.0 })
        .collect();
    for c in 0..n {
        let pivot = (c..n)
            .max_by(|&x, &y| m[x * n + c].abs().total_cmp(&m[y * n + c].abs()))
            .unwrap_or(c);
        for j in 0..n {
            m.swap(c * n + j, pivot * n + j);
            inv.swap(c * n + j, pivot * n + j);
        }
        let d = m[c * n + c];
        for j in 0..n {
            m[c * n + j] /= d;
            inv[c * n + j] /= d;
        }
        for r in 0..n {
            if r != c {
                let f = m[r * n + c];
                for j in 0..n {
                    m[r * n + j] -= f * m[c * n + j];
                    inv[r * n + j] -= f * inv[c * n + j];
                }
            }
        }
    }
    inv
}

fn random_spd(rng: &mut SplitMix, n: usize) -> Vec<f64> {
    // GᵀG + I from a random G: symmetric positive definite, well conditioned.
    let g: Vec<f64> = (0..n * n).map(|_| rng.unit() - 0.5).collect();
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = (0..n).map(|k| g[k * n + i] * g[k * n + j]).sum::<f64>()
                + if i == j { 1.0 } else { 0.0 };
        }
    }
    a
}

#[test]
fn spd_inverse_matches_gauss_jordan_across_blocks() {
    let mut rng = SplitMix(3);
    // 300 spans two full 128-column blocks and a partial one.
    for n in [1usize, 5, 130, 300] {
        let a = random_spd(&mut rng, n);
        let expected = naive_inverse(&a, n);
        let got = spd_inverse(a.clone(), n).expect("SPD");
        let worst = got
            .iter()
            .zip(&expected)
            .map(|(g, e)| (g - e).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-9, "n {n}: max abs error {worst}");
        let got32 = spd_inverse(a.iter().map(|&v| v as f32).collect(), n).expect("SPD");
        let worst32 = got32
            .iter()
            .zip(&expected)
            .map(|(g, e)| (*g as f64 - e).abs())
            .fold(0.0, f64::max);
        assert!(worst32 < 1e-3, "n {n} f32: max abs error {worst32}");
    }
}

#[test]
fn spd_inverse_rejects_bad_matrices() {
    assert!(matches!(
        spd_inverse(vec![1.0, 2.0, 2.0, 1.0], 2),
        Err(RankError::NotPositiveDefinite { column: 1 })
    ));
    assert!(matches!(
        spd_inverse(vec![1.0f64; 3], 2),
        Err(RankError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        spd_inverse(vec![f64::NAN], 1),
        Err(RankError::NonFinite { .. })
    ));
}

fn histories() -> Vec<Vec<u32>> {
    vec![
        vec![0, 1, 2],
        vec![1, 2],
        vec![0, 3],
        vec![2, 3, 4, 2],
        vec![0, 1, 4],
        vec![4],
    ]
}

/// B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹, written out directly.
fn direct_ease(histories: &[Vec<u32>], n: usize, lambda: f64) -> Vec<f64> {
    let mut g = vec![0.0; n * n];
    for h in histories {
        let mut items = h.clone();
        items.sort_unstable();
        items.dedup();
        for &i in &items {
            for &j in &items {
                g[i as usize * n + j as usize] += 1.0;
            }
        }
    }
    for i in 0..n {
        g[i * n + i] += lambda;
    }
    let p = naive_inverse(&g, n);
    (0..n * n)
        .map(|ij| {
            let (i, j) = (ij / n, ij % n);
            if i == j {
                0.0
            } else {
                -p[i * n + j] / p[j * n + j]
            }
        })
        .collect()
}

#[test]
fn ease_matches_direct_formula() {
    let h = histories();
    for precision in [Precision::F64, Precision::F32] {
        let config = EaseConfig {
            lambda: 0.5,
            max_items: None,
            precision,
        };
        let model = fit_ease(&h, 5, &config).expect("fit");
        let expected = direct_ease(&h, 5, 0.5);
        for i in 0..5u32 {
            for j in 0..5u32 {
                let w = model.weight(i, j).expect("in range") as f64;
                assert!(
                    (w - expected[(i * 5 + j) as usize]).abs() < 1e-5,
                    "B[{i},{j}] = {w}"
                );
            }
        }
    }
}

#[test]
fn ease_on_popular_subset_matches_formula_on_that_subset() {
    let h = histories();
    // Popularity: 0→3 users, 1→3, 2→3, 3→2, 4→3; the top 3 are 0, 1, 2 (ties by index).
    let model = fit_ease(
        &h,
        5,
        &EaseConfig {
            lambda: 1.0,
            max_items: Some(3),
            precision: Precision::F64,
        },
    )
    .expect("fit");
    let sub: Vec<Vec<u32>> = h
        .iter()
        .map(|u| u.iter().copied().filter(|&i| i < 3).collect())
        .collect();
    let expected = direct_ease(&sub, 3, 1.0);
    for i in 0..3u32 {
        for j in 0..3u32 {
            let w = model.weight(i, j).expect("in range") as f64;
            assert!((w - expected[(i * 3 + j) as usize]).abs() < 1e-6);
        }
    }
    assert!(model.is_modelled(2) && !model.is_modelled(3));
    assert_eq!(model.weight(3, 0), Ok(0.0));
    let mut scores = vec![0.0f32; 5];
    model
        .accumulate_scores(&[(0, 1.0), (3, 1.0)], &mut scores)
        .expect("valid");
    assert_eq!(scores[3], 0.0);
    assert!((scores[1] as f64 - expected[1]).abs() < 1e-6);
}

#[test]
fn ease_bad_input_is_an_error() {
    let h = histories();
    let bad_lambda = EaseConfig {
        lambda: 0.0,
        ..EaseConfig::default()
    };
    assert!(matches!(
        fit_ease(&h, 5, &bad_lambda),
        Err(RankError::InvalidParameter { name: "lambda", .. })
    ));
    assert!(matches!(
        fit_ease(&h, 4, &EaseConfig::default()),
        Err(RankError::ItemOutOfRange {
            item: 4,
            n_items: 4
        })
    ));
}
