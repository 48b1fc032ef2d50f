//! The element-wise and row-wise kernels of the forward pass, written so that
//! the compiler vectorises them, and compiled three times: for AVX-512, for
//! AVX2 + FMA and portably. The widest the CPU has is chosen at run time
//! (`is_x86_feature_detected`), so one binary is fast on new CPUs and still
//! runs on old ones; [`force_portable`] lets a test take the fallback path.
//!
//! Reductions keep 16 partial sums side by side: a single running sum would
//! forbid the compiler to reorder the additions, and so to vectorise them.

use std::sync::atomic::{AtomicU8, Ordering};

/// Instruction sets a kernel can be compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Avx512,
    Avx2,
    Portable,
}

const UNKNOWN: u8 = 0;
const FORCED_PORTABLE: u8 = 4;
static LEVEL: AtomicU8 = AtomicU8::new(UNKNOWN);

fn encode(level: Level) -> u8 {
    match level {
        Level::Avx512 => 1,
        Level::Avx2 => 2,
        Level::Portable => 3,
    }
}

fn detect() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("fma")
        {
            return Level::Avx512;
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Level::Avx2;
        }
    }
    Level::Portable
}

/// The instruction set the kernels run with in this process.
pub fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        1 => Level::Avx512,
        2 => Level::Avx2,
        3 | FORCED_PORTABLE => Level::Portable,
        _ => {
            let level = detect();
            // A concurrent force_portable wins over detection.
            let _ = LEVEL.compare_exchange(UNKNOWN, encode(level), Ordering::Relaxed, Ordering::Relaxed);
            self::level()
        }
    }
}

/// Whether the integer kernels (int8 and 4-bit layers) may use AVX-512 VNNI:
/// only where the other kernels run their AVX-512 copies, so that
/// [`force_portable`] reaches them too.
#[cfg(target_arch = "x86_64")]
pub(crate) fn vnni() -> bool {
    level() == Level::Avx512 && is_x86_feature_detected!("avx512vnni")
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn vnni() -> bool {
    false
}

/// Makes every kernel take its portable path (true) or the widest the CPU
/// has again (false). For tests of the fallback.
pub fn force_portable(on: bool) {
    LEVEL.store(if on { FORCED_PORTABLE } else { UNKNOWN }, Ordering::Relaxed);
}

/// Defines a public kernel as a portable body plus AVX2 and AVX-512 copies of
/// it, chosen by [`level`].
macro_rules! kernel {
    ($(#[$meta:meta])* pub fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        pub fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")]
            fn avx512($($arg: $ty),*) {
                body($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            fn avx2($($arg: $ty),*) {
                body($($arg),*)
            }

            match level() {
                // SAFETY: level() reports these features only when the CPU has them.
                #[cfg(target_arch = "x86_64")]
                Level::Avx512 => unsafe { avx512($($arg),*) },
                #[cfg(target_arch = "x86_64")]
                Level::Avx2 => unsafe { avx2($($arg),*) },
                _ => body($($arg),*),
            }
        }
    };
}

const LANES: usize = 16;

/// Sum of a slice with LANES independent partial sums (vectorisable).
#[inline(always)]
fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            acc[i] += c[i];
        }
    }
    let tail: f32 = chunks.remainder().iter().sum();
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn max(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            acc[i] = if c[i] > acc[i] { c[i] } else { acc[i] };
        }
    }
    let tail = chunks.remainder().iter().fold(f32::NEG_INFINITY, |m, &x| if x > m { x } else { m });
    acc.iter().fold(tail, |m, &x| if x > m { x } else { m })
}

/// e^x to within 2 ulp for |x| <= 88 (Cephes' expf: x = n ln 2 + r,
/// a degree-6 polynomial in r, and 2^n built in the exponent bits).
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.336_55, 88.376_26);
    let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
    // ln 2 split in two so that n * C1 is exact.
    let r = x - n * 0.693_359_375 - n * -2.121_944_4e-4;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_2e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 5.000_000_1e-1;
    let y = p * r * r + r + 1.0;
    // n as an integer through the bits of n + 1.5 * 2^23, not `as i32`:
    // that conversion saturates, and its checks keep the loop scalar.
    let n = (n + 12_582_912.0).to_bits() as i32 - 0x4B40_0000;
    y * f32::from_bits(((n + 127) as u32) << 23)
}

/// erf(x) to float precision: the odd/even rational approximation on
/// [-4, 4] that Eigen and XLA use (erf(±4) rounds to ±1 in f32).
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = -2.726_142_3e-10;
    let p = p * x2 + 2.770_681_4e-8;
    let p = p * x2 + -2.101_024e-6;
    let p = p * x2 + -5.692_506_4e-5;
    let p = p * x2 + -7.349_906_3e-4;
    let p = p * x2 + -2.954_599_8e-3;
    let p = p * x2 + -1.609_603_3e-2;
    let q = -1.456_607_2e-5;
    let q = q * x2 + -2.133_740_6e-4;
    let q = q * x2 + -1.682_827e-3;
    let q = q * x2 + -7.373_329_2e-3;
    let q = q * x2 + -1.426_474e-2;
    x * p / q
}

kernel! {
    /// x <- GELU(x) = x/2 (1 + erf(x / sqrt 2)), the exact (erf) form BERT uses.
    pub fn gelu(xs: &mut [f32]) {
        for x in xs.iter_mut() {
            let v = *x;
            *x = 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

/// Softmax of one row, in place.
/// Softmax of row[..len], in place; row[len..] is padding and is zero
/// afterwards. Padding the row to whole vectors lets every loop below run
/// without a scalar tail.
#[inline(always)]
fn softmax(row: &mut [f32], len: usize) {
    let m = max(&row[..len]);
    // e^(x - m) of the padding must not be subnormal: each subnormal result
    // costs the CPU a microcode assist, far more than the exp itself.
    row[len..].fill(m - 64.0);
    for x in row.iter_mut() {
        *x = exp(*x - m);
    }
    row[len..].fill(0.0);
    let inv = 1.0 / sum(row);
    for x in row.iter_mut() {
        *x *= inv;
    }
}

kernel! {
    /// Softmax of each row of a row-major matrix with `width` columns, in place.
    pub fn softmax_rows(xs: &mut [f32], width: usize) {
        for row in xs.chunks_exact_mut(width.max(1)) {
            softmax(row, row.len());
        }
    }
}

/// One attention head over one text: the head's query, key and value rows
/// (`len` rows of `d` values, consecutive rows `stride` apart) and room for
/// the result (`len` x `d`, row-major).
pub struct Head<'a> {
    pub q: &'a [f32],
    pub k: &'a [f32],
    pub v: &'a [f32],
    pub stride: usize,
    pub len: usize,
    pub d: usize,
    pub scale: f32,
}

/// Score columns computed together: two vectors of 16.
const KEYS: usize = 32;
/// Query rows computed together; with KEYS, 8 accumulators stay in registers.
const ROWS: usize = 4;

kernel! {
    /// out = softmax(Q K^T * scale) V for one head. The two products of one
    /// head of one text are too small for a general matrix routine's packing
    /// to pay, so both are written as register-blocked loops: a block of
    /// query rows keeps its partial scores (then its partial outputs) in
    /// registers for the whole inner loop instead of reloading them from
    /// memory at every step. `work` is scratch space, reused between calls.
    pub fn attend(head: &Head, work: &mut Vec<f32>, out: &mut [f32]) {
        let (len, d) = (head.len, head.d);
        let padded = len.div_ceil(KEYS) * KEYS;
        work.clear();
        work.resize(d * padded + ROWS * padded, 0.0);
        let (kt, scores) = work.split_at_mut(d * padded);
        // K transposed and scaled, keys padded with zeros to whole blocks.
        for j in 0..len {
            let key = &head.k[j * head.stride..][..d];
            for (column, &x) in kt.chunks_exact_mut(padded).zip(key) {
                column[j] = x * head.scale;
            }
        }
        let mut i = 0;
        while i + ROWS <= len {
            attend_rows::<ROWS>(head, kt, padded, scores, i, out);
            i += ROWS;
        }
        while i < len {
            attend_rows::<1>(head, kt, padded, scores, i, out);
            i += 1;
        }
    }
}

/// Rows i0..i0+R of one head's attention (see [`attend`]).
#[inline(always)]
fn attend_rows<const R: usize>(head: &Head, kt: &[f32], padded: usize, scores: &mut [f32], i0: usize, out: &mut [f32]) {
    let Head { q, v, stride, len, d, .. } = *head;
    let q = |r: usize, c: usize| q[(i0 + r) * stride + c];
    for jb in (0..padded).step_by(KEYS) {
        let mut acc = [[0f32; KEYS]; R];
        for c in 0..d {
            let k: &[f32; KEYS] = kt[c * padded + jb..][..KEYS].try_into().expect("a whole block");
            for (r, acc) in acc.iter_mut().enumerate() {
                let a = q(r, c);
                for (acc, k) in acc.iter_mut().zip(k) {
                    *acc = a.mul_add(*k, *acc);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            scores[r * padded + jb..][..KEYS].copy_from_slice(acc);
        }
    }
    for r in 0..R {
        softmax(&mut scores[r * padded..(r + 1) * padded], len);
    }
    let p = |r: usize, j: usize| scores[r * padded + j];
    let mut c0 = 0;
    while c0 + 32 <= d {
        weigh_values::<R, 32>(&p, v, stride, len, c0, d, i0, out);
        c0 += 32;
    }
    if c0 + 16 <= d {
        weigh_values::<R, 16>(&p, v, stride, len, c0, d, i0, out);
        c0 += 16;
    }
    for c in c0..d {
        for r in 0..R {
            out[(i0 + r) * d + c] = (0..len).map(|j| p(r, j) * v[j * stride + c]).sum();
        }
    }
}

/// Columns c0..c0+W of out[i0..i0+R] = P V, the accumulators in registers.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn weigh_values<const R: usize, const W: usize>(
    p: &impl Fn(usize, usize) -> f32,
    v: &[f32],
    stride: usize,
    len: usize,
    c0: usize,
    d: usize,
    i0: usize,
    out: &mut [f32],
) {
    let mut acc = [[0f32; W]; R];
    for j in 0..len {
        let vj: &[f32; W] = v[j * stride + c0..][..W].try_into().expect("a whole block");
        for (r, acc) in acc.iter_mut().enumerate() {
            let pj = p(r, j);
            for (acc, v) in acc.iter_mut().zip(vj) {
                *acc = pj.mul_add(*v, *acc);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        out[(i0 + r) * d + c0..][..W].copy_from_slice(acc);
    }
}

kernel! {
    /// Layer normalisation of each row (width = gamma.len()), in place:
    /// (x - mean) / sqrt(var + eps) * gamma + beta, variance over the row.
    pub fn layer_norm_rows(xs: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
        let width = gamma.len().max(1);
        let n = width as f32;
        for row in xs.chunks_exact_mut(width) {
            let mean = sum(row) / n;
            let mut acc = [0f32; LANES];
            let mut chunks = row.chunks_exact(LANES);
            for c in &mut chunks {
                for i in 0..LANES {
                    let d = c[i] - mean;
                    acc[i] += d * d;
                }
            }
            let tail: f32 = chunks.remainder().iter().map(|&x| (x - mean) * (x - mean)).sum();
            let var = (acc.iter().sum::<f32>() + tail) / n;
            let inv = 1.0 / (var + eps).sqrt();
            for ((x, g), b) in row.iter_mut().zip(gamma).zip(beta) {
                *x = (*x - mean) * inv * g + b;
            }
        }
    }
}

kernel! {
    /// dst[r] <- dst[r] + bias for each row r of width bias.len().
    pub fn add_bias(dst: &mut [f32], bias: &[f32]) {
        for d in dst.chunks_exact_mut(bias.len().max(1)) {
            for (d, b) in d.iter_mut().zip(bias) {
                *d += b;
            }
        }
    }
}

kernel! {
    /// Rounds every block of 32 values to the 255 levels of its own scale
    /// (max |x| / 127), as a Q8_0 quantiser does, and back to f32. A dense
    /// layer over these values and Q4_0 weights computes what an int8 x int4
    /// engine computes, which is what a 4-bit model was checked against.
    pub fn round_to_q8_blocks(xs: &mut [f32]) {
        for block in xs.chunks_mut(32) {
            let amax = block.iter().fold(0f32, |m, x| m.max(x.abs()));
            let scale = amax / 127.0;
            let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
            for x in block.iter_mut() {
                *x = (*x * inverse).round_ties_even().clamp(-128.0, 127.0) * scale;
            }
        }
    }
}

kernel! {
    /// The Q8_0 form of x, block by block of 32: the scale (max |x| / 127),
    /// the levels (x / scale rounded, ties to even) and their sum;
    /// [`round_to_q8_blocks`] gives levels times scale.
    pub fn quantize_q8_blocks(x: &[f32], levels: &mut [i8], scales: &mut [f32], sums: &mut [i32]) {
        let blocks = x.chunks(32).zip(levels.chunks_mut(32)).zip(scales.iter_mut().zip(sums.iter_mut()));
        for ((x, levels), (scale, sum)) in blocks {
            let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
            *scale = amax / 127.0;
            let inverse = if *scale > 0.0 { 1.0 / *scale } else { 0.0 };
            let mut total = 0i32;
            for (q, &v) in levels.iter_mut().zip(x) {
                // max and min drop a NaN, so the level is a number in
                // [-128, 127] and the unchecked conversion (which
                // vectorises, unlike `as`) is exact.
                #[allow(clippy::manual_clamp)]
                let level = (v * inverse).round_ties_even().max(-128.0).min(127.0);
                // SAFETY: level is finite and within i32.
                let level = unsafe { level.to_int_unchecked::<i32>() };
                *q = level as i8;
                total += level;
            }
            *sum = total;
        }
    }
}

/// dst[r] <- bias for each row r of width bias.len().
pub fn fill_rows(dst: &mut [f32], bias: &[f32]) {
    for d in dst.chunks_exact_mut(bias.len().max(1)) {
        d.copy_from_slice(bias);
    }
}

#[cfg(test)]
pub(crate) mod tests;
