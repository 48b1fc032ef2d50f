//! Every kernel against candle's own op (the engine persona used before its
//! own kernels) on random rows of odd widths, on each instruction set this CPU
//! has and on the portable fallback.

use candle_core::{Device, Tensor};

use super::*;

/// Deterministic numbers in [-scale, scale) (a 64-bit LCG; no rand dependency).
pub(crate) fn random(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn candle(rows: usize, width: usize, xs: &[f32]) -> Tensor {
    Tensor::from_vec(xs.to_vec(), (rows, width), &Device::Cpu).unwrap()
}

fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

const WIDTHS: [usize; 7] = [1, 7, 16, 17, 33, 255, 384];

fn check_gelu() {
    for (i, &w) in WIDTHS.iter().enumerate() {
        let xs = random(3 * w, i as u64, 8.0);
        let want = flat(&candle(3, w, &xs).gelu_erf().unwrap());
        let mut got = xs.clone();
        gelu(&mut got);
        assert!(max_abs_diff(&got, &want) < 2e-6, "gelu width {w}: {}", max_abs_diff(&got, &want));
    }
}

fn check_softmax() {
    for (i, &w) in WIDTHS.iter().enumerate() {
        let xs = random(5 * w, 100 + i as u64, 30.0);
        let want = flat(&candle_nn::ops::softmax_last_dim(&candle(5, w, &xs)).unwrap());
        let mut got = xs.clone();
        softmax_rows(&mut got, w);
        assert!(max_abs_diff(&got, &want) < 1e-6, "softmax width {w}: {}", max_abs_diff(&got, &want));
    }
}

fn check_layer_norm() {
    for (i, &w) in WIDTHS.iter().enumerate().skip(1) {
        let xs = random(4 * w, 200 + i as u64, 5.0);
        let gamma = random(w, 300 + i as u64, 2.0);
        let beta = random(w, 400 + i as u64, 1.0);
        let g = Tensor::from_vec(gamma.clone(), w, &Device::Cpu).unwrap();
        let b = Tensor::from_vec(beta.clone(), w, &Device::Cpu).unwrap();
        let want = flat(&candle_nn::ops::layer_norm(&candle(4, w, &xs), &g, &b, 1e-12).unwrap());
        let mut got = xs.clone();
        layer_norm_rows(&mut got, &gamma, &beta, 1e-12);
        assert!(max_abs_diff(&got, &want) < 2e-5, "layer norm width {w}: {}", max_abs_diff(&got, &want));
    }
}

fn check_attend() {
    for (n, &(len, d, stride)) in [(1usize, 4usize, 4usize), (7, 8, 24), (33, 32, 96), (77, 32, 1152), (130, 64, 192), (5, 48, 48), (9, 20, 60)].iter().enumerate() {
        let rows = (len - 1) * stride + d;
        let [q, k, v] = [0u64, 1, 2].map(|i| random(rows, 500 + 10 * n as u64 + i, 2.0));
        let dense = |x: &[f32]| {
            let m: Vec<f32> = (0..len).flat_map(|i| x[i * stride..i * stride + d].to_vec()).collect();
            candle(len, d, &m)
        };
        let scale = 1.0 / (d as f32).sqrt();
        let scores = (dense(&q).matmul(&dense(&k).t().unwrap()).unwrap() * scale as f64).unwrap();
        let want = flat(&candle_nn::ops::softmax_last_dim(&scores).unwrap().matmul(&dense(&v)).unwrap());
        let mut got = vec![0.0; len * d];
        let head = Head { q: &q, k: &k, v: &v, stride, len, d, scale };
        attend(&head, &mut Vec::new(), &mut got);
        assert!(max_abs_diff(&got, &want) < 1e-5, "attention {len}x{d}: {}", max_abs_diff(&got, &want));
    }
}

fn check_add_bias() {
    let a = random(3 * 17, 7, 1.0);
    let bias = random(17, 8, 1.0);
    let mut dst = a.clone();
    add_bias(&mut dst, &bias);
    for (i, d) in dst.iter().enumerate() {
        assert_eq!(*d, a[i] + bias[i % 17]);
    }
    fill_rows(&mut dst, &bias);
    for (i, d) in dst.iter().enumerate() {
        assert_eq!(*d, bias[i % 17]);
    }
}

#[test]
fn erf_is_float_precise() {
    let mut worst = 0f64;
    for i in -8000..=8000 {
        let x = i as f32 / 1000.0;
        let want = candle_core::cpu::erf::erf_f64(x as f64);
        worst = worst.max((erf(x) as f64 - want).abs());
    }
    assert!(worst < 5e-7, "erf: worst absolute error {worst}");
}

#[test]
fn exp_is_float_precise() {
    let mut worst = 0f64;
    for i in -87_000..=88_000 {
        let x = i as f32 / 1000.0;
        let want = (x as f64).exp();
        worst = worst.max(((exp(x) as f64 - want) / want).abs());
    }
    assert!(worst < 5e-7, "exp: worst relative error {worst}");
    assert!(exp(-1000.0) < 1e-37 && exp(-1000.0) >= 0.0);
}

/// One test for every path, so that forcing the fallback cannot race with
/// another test's choice.
#[test]
fn kernels_match_candle_on_every_instruction_set() {
    for portable in [false, true] {
        force_portable(portable);
        if portable {
            assert_eq!(level(), Level::Portable);
        }
        check_gelu();
        check_softmax();
        check_layer_norm();
        check_add_bias();
        check_attend();
    }
    force_portable(false);
}
