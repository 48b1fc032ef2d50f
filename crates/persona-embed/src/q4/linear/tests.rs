use super::*;
use crate::q4::dequantize;

/// A deterministic stream of pseudo-random numbers in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Q4_0 blocks of a random (rows x inputs) matrix.
fn random_blocks(rows: usize, inputs: usize, rng: &mut Lcg) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rows * inputs / BLOCK {
        let scale = half::f16::from_f32(0.001 + 0.05 * rng.next());
        out.extend(scale.to_le_bytes());
        out.extend((0..16).map(|_| (rng.next() * 256.0) as u8));
    }
    out
}

/// What the layer must compute, in f64: the weights expanded, the inputs
/// rounded to Q8_0 blocks, a plain product.
fn expected(parts: &[&[u8]], bias: &[f32], x: &[f32], inputs: usize) -> Vec<f64> {
    let mut w = vec![0f32; bias.len() * inputs];
    let mut at = 0;
    for part in parts {
        let n = part.len() / BLOCK_BYTES * BLOCK;
        dequantize(part, &mut w[at..at + n]);
        at += n;
    }
    let mut xr = x.to_vec();
    kernels::round_to_q8_blocks(&mut xr);
    let rows = x.len() / inputs;
    let mut out = Vec::new();
    for r in 0..rows {
        for (o, &b) in bias.iter().enumerate() {
            let dot: f64 = (0..inputs).map(|i| f64::from(w[o * inputs + i]) * f64::from(xr[r * inputs + i])).sum();
            out.push(dot + f64::from(b));
        }
    }
    out
}

fn check(rows: usize, inputs: usize, part_outputs: &[usize]) {
    let mut rng = Lcg(rows as u64 * 7919 + inputs as u64);
    let blocks: Vec<Vec<u8>> = part_outputs.iter().map(|&o| random_blocks(o, inputs, &mut rng)).collect();
    let parts: Vec<&[u8]> = blocks.iter().map(Vec::as_slice).collect();
    let outputs: usize = part_outputs.iter().sum();
    let bias: Vec<f32> = (0..outputs).map(|_| rng.next() - 0.5).collect();
    // Rows of different ranges, one all zero, one with a large outlier.
    let mut x: Vec<f32> = (0..rows * inputs).map(|i| (rng.next() - 0.5) * (1 + i / inputs) as f32).collect();
    x[..inputs].fill(0.0);
    if rows > 1 {
        x[inputs + 3] = 40.0;
    }
    let layer = Q4Linear::new(&parts, bias.clone(), inputs);
    let want = expected(&parts, &bias, &x, inputs);
    for portable in [false, true] {
        kernels::force_portable(portable);
        let mut out = vec![0f32; rows * outputs];
        kernels::fill_rows(&mut out, &bias);
        layer.apply(&x, &mut out, true);
        kernels::force_portable(false);
        for (i, (&got, &want)) in out.iter().zip(&want).enumerate() {
            let tolerance = 1e-4 * (1.0 + want.abs());
            assert!((f64::from(got) - want).abs() <= tolerance, "rows {rows} inputs {inputs} portable {portable} at {i}: {got} vs {want}");
        }
    }
}

#[test]
fn matches_expanded_weights_on_rounded_inputs() {
    check(1, 32, &[16]);
    check(3, 64, &[40]);
    check(5, 384, &[384]);
    check(9, 384, &[384, 384, 384]);
    check(130, 1536, &[384]);
    check(70, 384, &[1536]);
}
