//! The inner update of skip-gram with negative sampling.

use std::sync::OnceLock;

use crate::negatives::NegativeSampler;
use crate::rng::Rng;

/// The sigmoid is looked up in a table over [-6, 6], as in word2vec.c and
/// gensim (EXP_TABLE_SIZE 1000, MAX_EXP 6): `exp()` per (pair, negative)
/// was a fifth of training time, and the table is what the peers compute.
const MAX_EXP: f32 = 6.0;
const EXP_TABLE_SIZE: usize = 1000;

fn sigmoid_table() -> &'static [f32; EXP_TABLE_SIZE] {
    static TABLE: OnceLock<[f32; EXP_TABLE_SIZE]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0f32; EXP_TABLE_SIZE];
        for (i, v) in t.iter_mut().enumerate() {
            let e = ((i as f64 / EXP_TABLE_SIZE as f64 * 2.0 - 1.0) * f64::from(MAX_EXP)).exp();
            *v = (e / (e + 1.0)) as f32;
        }
        t
    })
}

/// One (input item, predicted item) pair: a positive update on `target` and
/// `negatives` negative ones on items drawn from `sampler`.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn update(
    syn0: &mut [f32],
    syn1neg: &mut [f32],
    neu1e: &mut [f32],
    dim: usize,
    input: usize,
    target: usize,
    negatives: usize,
    sampler: &NegativeSampler,
    rng: &mut Rng,
    alpha: f32,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features the function was compiled for.
            return unsafe {
                update_avx2(syn0, syn1neg, neu1e, dim, input, target, negatives, sampler, rng, alpha)
            };
        }
    }
    update_generic(syn0, syn1neg, neu1e, dim, input, target, negatives, sampler, rng, alpha)
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
unsafe fn update_avx2(
    syn0: &mut [f32],
    syn1neg: &mut [f32],
    neu1e: &mut [f32],
    dim: usize,
    input: usize,
    target: usize,
    negatives: usize,
    sampler: &NegativeSampler,
    rng: &mut Rng,
    alpha: f32,
) {
    // The same code, compiled with AVX2 + FMA so the loops vectorise 8-wide.
    update_generic(syn0, syn1neg, neu1e, dim, input, target, negatives, sampler, rng, alpha)
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn update_generic(
    syn0: &mut [f32],
    syn1neg: &mut [f32],
    neu1e: &mut [f32],
    dim: usize,
    input: usize,
    target: usize,
    negatives: usize,
    sampler: &NegativeSampler,
    rng: &mut Rng,
    alpha: f32,
) {
    let l1 = &syn0[input * dim..(input + 1) * dim];
    let table = sigmoid_table();
    neu1e.fill(0.0);
    for d in 0..=negatives {
        let (item, label) = if d == 0 {
            (target, 1.0f32)
        } else {
            let item = sampler.sample(rng);
            if item == target {
                continue;
            }
            (item, 0.0f32)
        };
        let l2 = &mut syn1neg[item * dim..(item + 1) * dim];
        let f = dot(l1, l2);
        // word2vec.c clips the sigmoid's input at ±6 (MAX_EXP).
        let g = if f > MAX_EXP {
            label - 1.0
        } else if f < -MAX_EXP {
            label
        } else {
            let i = ((f + MAX_EXP) * (EXP_TABLE_SIZE as f32 / MAX_EXP / 2.0)) as usize;
            label - table[i.min(EXP_TABLE_SIZE - 1)]
        } * alpha;
        for ((e, b), a) in neu1e.iter_mut().zip(l2.iter_mut()).zip(l1.iter()) {
            *e += g * *b;
            *b += g * a;
        }
    }
    for (a, e) in syn0[input * dim..(input + 1) * dim].iter_mut().zip(neu1e.iter()) {
        *a += e;
    }
}

/// Dot product with eight independent accumulators: a plain `.sum()` is a
/// serial chain the compiler may not reorder, this one vectorises.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ac.remainder().iter().zip(bc.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ac.zip(bc) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}
