//! An opt-in int8 dense layer: the dynamic quantisation of ONNX Runtime and
//! PyTorch's `quantize_dynamic`. Weights are quantised once, symmetrically per
//! output channel, to i8; each row of activations is quantised when the layer
//! is applied, to u8 with its own scale and zero point. The products are
//! summed exactly in i32 and scaled back to f32 at the end.
//!
//! Activations are asymmetric (a zero point per row) rather than symmetric i8
//! shifted by 128: both cost the same, one integer multiply-subtract per output
//! (zero point times a column sum of the weights, precomputed), but the
//! asymmetric form spends all 256 levels on the row's actual range, which
//! doubles the resolution for one-sided rows such as the GELU outputs the
//! feed-forward down projection reads.
//!
//! Two kernels compute the same i32 sums: an AVX-512 VNNI one (`vpdpbusd`,
//! four u8 x i8 products per i32 lane) on weights packed for it at
//! construction, and a portable one in plain integer Rust. Integer sums are
//! exact and the scaling to f32 is done with the same operations in the same
//! order, so both paths give bit-identical outputs.

use std::ops::Range;

use rayon::prelude::*;

use crate::kernels::{self, Level};

/// Outputs per packed block: one 512-bit register of i32 sums.
const LANES: usize = 16;
/// Inputs per group: `vpdpbusd` sums four products into each i32 lane.
const GROUP: usize = 4;
/// Bytes of one group of one block.
const PANEL: usize = LANES * GROUP;
/// Rows of the register tile; with `BLOCKS` this is 24 accumulators, which
/// leaves room in the 32 registers for the weights and a broadcast.
const ROWS: usize = 8;
/// Blocks of 16 outputs in the register tile.
const BLOCKS: usize = 3;
/// Rows whose quantised inputs stay in cache next to one panel of weights
/// while the panel is swept over them.
const CHUNK: usize = 64;
/// Below this many rows per thread the work is split by output columns (each
/// thread then reads only its share of the weights, which dominate traffic
/// for short inputs); above it, by rows (each thread quantises only its rows).
const ROW_SPLIT: usize = 256;

/// A dense layer y = x W^T (+ b by the caller) with int8 weights.
// Not yet used by the forward pass, which opts into it.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Int8Linear {
    /// W quantised and packed as [block of 16 outputs][group of 4 inputs]
    /// [output in block][input in group], zero-padded at the ends: the order
    /// in which the VNNI kernel loads one register per block and group.
    packed: Vec<i8>,
    /// Per output (padded to whole blocks): max|W_o| / the largest level.
    scales: Vec<f32>,
    /// Per output (padded): the sum of its quantised weights, which turns a
    /// sum over u8 activations into one over (u8 - zero point).
    sums: Vec<i32>,
    bias: Vec<f32>,
    inputs: usize,
    groups: usize,
}

/// Everything one register tile reads and writes, as raw pointers because
/// tasks of one call write disjoint parts of a shared output.
struct Tile {
    x: *const u8,
    x_stride: usize,
    x_scale: *const f32,
    x_zero: *const i32,
    weights: *const i8,
    block_stride: usize,
    groups: usize,
    sums: *const i32,
    scales: *const f32,
    out: *mut f32,
    out_stride: usize,
    /// Valid outputs in this tile (the last block may be partly padding).
    columns: usize,
    accumulate: bool,
}

/// Raw output pointer that rayon tasks may share.
#[derive(Clone, Copy)]
struct Shared(*mut f32);
// SAFETY: each task writes a region no other task touches, joined before return.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

/// The largest weight level for `inputs` wide rows: every i32 in the sums is
/// bounded by 255 * level * inputs, so the level stays at 127 up to 66311
/// inputs and shrinks beyond that so the sums cannot overflow. Past several
/// million inputs even level 1 could overflow; the sums then wrap (never panic).
fn weight_level(inputs: usize) -> f32 {
    let bound = i32::MAX as usize / (255 * inputs.max(1));
    bound.clamp(1, 127) as f32
}

#[cfg_attr(not(test), allow(dead_code))]
impl Int8Linear {
    /// `weight` is (out, in) row-major as PyTorch stores it; `bias.len()` is
    /// out. Missing weights (a short slice) count as zeros, extra ones are ignored.
    pub(crate) fn new(weight: &[f32], bias: Vec<f32>, inputs: usize) -> Self {
        let outputs = bias.len();
        let blocks = outputs.div_ceil(LANES);
        let groups = inputs.div_ceil(GROUP);
        let level = weight_level(inputs);
        let mut packed = vec![0i8; blocks * groups * PANEL];
        let mut scales = vec![1f32; blocks * LANES];
        let mut sums = vec![0i32; blocks * LANES];
        for o in 0..outputs {
            let row = weight.get(o * inputs..(o + 1) * inputs).unwrap_or(&[]);
            let max = row.iter().fold(0f32, |m, w| if w.abs() > m { w.abs() } else { m });
            // An all-zero channel would give a scale of 0 and 0/0 levels.
            let scale = if max > 0.0 && max.is_finite() { max / level } else { 1.0 };
            let inv = 1.0 / scale;
            let (block, lane) = (o / LANES, o % LANES);
            let mut sum = 0i32;
            for (i, w) in row.iter().enumerate() {
                let q = (w * inv).round_ties_even().clamp(-level, level) as i8;
                packed[(block * groups + i / GROUP) * PANEL + lane * GROUP + i % GROUP] = q;
                sum = sum.wrapping_add(i32::from(q));
            }
            scales[o] = scale;
            sums[o] = sum;
        }
        Self { packed, scales, sums, bias, inputs, groups }
    }

    pub(crate) fn bias(&self) -> &[f32] {
        &self.bias
    }

    pub(crate) fn inputs(&self) -> usize {
        self.inputs
    }

    /// out (rows x outputs, row-major) = [out +] x (rows x inputs, row-major) W^T,
    /// with W quantised at construction and x quantised per row on the fly.
    /// Runs on the current rayon pool, one task per thread. Rows are as many
    /// as both `x` and `out` hold whole; anything beyond is left alone.
    pub(crate) fn apply(&self, x: &[f32], out: &mut [f32], accumulate: bool) {
        let outputs = self.bias.len();
        let rows = match (self.inputs, outputs) {
            (_, 0) => return,
            (0, o) => out.len() / o,
            (n, o) => (x.len() / n).min(out.len() / o),
        };
        if rows == 0 {
            return;
        }
        let vnni = kernels::vnni();
        let threads = rayon::current_num_threads().max(1);
        let blocks = outputs.div_ceil(LANES);
        let dst = Shared(out.as_mut_ptr());
        if rows >= ROW_SPLIT * threads {
            let step = rows.div_ceil(threads);
            (0..rows.div_ceil(step)).into_par_iter().for_each(|part| {
                let first = part * step;
                let rows = first..(first + step).min(rows);
                self.part(x, rows, 0..blocks, dst, accumulate, vnni);
            });
        } else {
            // Whole register tiles per task, so that no task is left a sliver.
            let step = blocks.div_ceil(threads).next_multiple_of(BLOCKS).min(blocks);
            (0..blocks.div_ceil(step)).into_par_iter().for_each(|part| {
                let first = part * step;
                self.part(x, 0..rows, first..(first + step).min(blocks), dst, accumulate, vnni);
            });
        }
    }

    /// Writes the outputs in `blocks` of rows `rows`, a chunk of rows at a
    /// time: each chunk is quantised just before use, so its bytes are still
    /// in cache, and swept over one panel of weights at a time, so the panel
    /// is read from L2 once per chunk rather than once per tile.
    fn part(&self, x: &[f32], rows: Range<usize>, blocks: Range<usize>, dst: Shared, accumulate: bool, vnni: bool) {
        let outputs = self.bias.len();
        let (x_stride, block_stride) = (self.groups * GROUP, self.groups * PANEL);
        let height = CHUNK.min(rows.len());
        // Zero padding of each row past `inputs` meets zero weights.
        let (mut q, mut scale, mut zero) = (vec![0u8; height * x_stride], vec![1f32; height], vec![0i32; height]);
        for first in rows.clone().step_by(CHUNK) {
            let chunk = first..(first + CHUNK).min(rows.end);
            for (k, r) in chunk.clone().enumerate() {
                let row = &x[r * self.inputs..(r + 1) * self.inputs];
                (scale[k], zero[k]) = quantise_row(row, &mut q[k * x_stride..k * x_stride + self.inputs]);
            }
            for b in blocks.clone().step_by(BLOCKS) {
                let width = BLOCKS.min(blocks.end - b);
                for r in (0..chunk.len()).step_by(ROWS) {
                    let height = ROWS.min(chunk.len() - r);
                    let tile = Tile {
                        x: q[r * x_stride..].as_ptr(),
                        x_stride,
                        x_scale: scale[r..].as_ptr(),
                        x_zero: zero[r..].as_ptr(),
                        weights: self.packed[b * block_stride..].as_ptr(),
                        block_stride,
                        groups: self.groups,
                        sums: self.sums[b * LANES..].as_ptr(),
                        scales: self.scales[b * LANES..].as_ptr(),
                        // SAFETY: row first + r, column b * LANES lie inside
                        // out (rows x outputs), as apply checked.
                        out: unsafe { dst.0.add((first + r) * outputs + b * LANES) },
                        out_stride: outputs,
                        columns: (outputs - b * LANES).min(width * LANES),
                        accumulate,
                    };
                    // SAFETY: the tile's pointers cover height rows of x and
                    // out and width blocks of weights, sums and scales; only
                    // this task writes these rows and columns of out.
                    unsafe {
                        #[cfg(target_arch = "x86_64")]
                        if vnni {
                            vnni::TILES[width - 1][height - 1](&tile);
                            continue;
                        }
                        portable_tile(&tile, height, width);
                    }
                }
            }
        }
    }
}

/// Quantises one row to u8 over [min(0, min x), max(0, max x)], so that zero
/// (padding, ReLU-like outputs) is represented exactly; returns (scale, zero
/// point). Compiled for AVX-512 where the CPU has it; the results are the same
/// either way, as every step is a correctly rounded IEEE operation.
fn quantise_row(x: &[f32], q: &mut [u8]) -> (f32, i32) {
    #[inline(always)]
    fn body(x: &[f32], q: &mut [u8]) -> (f32, i32) {
        // Side-by-side partial extremes, so that the compiler may vectorise.
        let mut lo = [0f32; LANES];
        let mut hi = [0f32; LANES];
        let mut chunks = x.chunks_exact(LANES);
        for c in &mut chunks {
            for i in 0..LANES {
                lo[i] = if c[i] < lo[i] { c[i] } else { lo[i] };
                hi[i] = if c[i] > hi[i] { c[i] } else { hi[i] };
            }
        }
        let lo = chunks.remainder().iter().chain(&lo).fold(0f32, |m, &v| if v < m { v } else { m });
        let hi = chunks.remainder().iter().chain(&hi).fold(0f32, |m, &v| if v > m { v } else { m });
        let range = hi - lo;
        // An all-zero row would give a scale of 0 and 0/0 levels.
        let scale = if range > 0.0 && range.is_finite() { range / 255.0 } else { 1.0 };
        let inv = 1.0 / scale;
        let zero = (-lo * inv).round_ties_even().clamp(0.0, 255.0);
        for (q, &v) in q.iter_mut().zip(x) {
            // max and min drop a NaN, so the level is a number in [0, 255]
            // and the unchecked conversion (which vectorises, unlike `as u8`)
            // is exact.
            #[allow(clippy::manual_clamp)]
            let level = (v * inv + zero).round_ties_even().max(0.0).min(255.0);
            // SAFETY: level is finite and within i32.
            *q = unsafe { level.to_int_unchecked::<i32>() } as u8;
        }
        (scale, zero as i32)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")]
    fn avx512(x: &[f32], q: &mut [u8]) -> (f32, i32) {
        body(x, q)
    }

    match kernels::level() {
        // SAFETY: level() reports AVX-512 only when the CPU has it.
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => unsafe { avx512(x, q) },
        _ => body(x, q),
    }
}

/// The i32 sums of a tile in plain Rust, then the same scaling as the VNNI
/// kernel: (sum - zero * column sum) as f32 * (row scale * column scale).
///
/// # Safety
/// The tile's pointers must be valid for `height` rows and `width` blocks.
unsafe fn portable_tile(t: &Tile, height: usize, width: usize) {
    let len = t.groups * GROUP;
    for r in 0..height {
        // SAFETY: the caller's contract.
        let (x, sx, zero) =
            unsafe { (std::slice::from_raw_parts(t.x.add(r * t.x_stride), len), *t.x_scale.add(r), *t.x_zero.add(r)) };
        for v in 0..width {
            // SAFETY: the caller's contract.
            let w = unsafe { std::slice::from_raw_parts(t.weights.add(v * t.block_stride), t.groups * PANEL) };
            let mut acc = [0i32; LANES];
            for (a, w) in x.chunks_exact(GROUP).zip(w.chunks_exact(PANEL)) {
                for (j, acc) in acc.iter_mut().enumerate() {
                    for k in 0..GROUP {
                        *acc = acc.wrapping_add(i32::from(a[k]) * i32::from(w[j * GROUP + k]));
                    }
                }
            }
            for (j, &acc) in acc.iter().enumerate().take(t.columns.saturating_sub(v * LANES)) {
                let o = v * LANES + j;
                // SAFETY: the caller's contract; o is a valid column of the tile.
                unsafe {
                    let corr = acc.wrapping_sub(zero.wrapping_mul(*t.sums.add(o)));
                    let y = corr as f32 * (sx * *t.scales.add(o));
                    let dst = t.out.add(r * t.out_stride + o);
                    *dst = if t.accumulate { *dst + y } else { y };
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod vnni {
    use std::arch::x86_64::*;

    use super::{Tile, BLOCKS, LANES, PANEL, ROWS};

    type Kernel = unsafe fn(&Tile);

    macro_rules! heights {
        ($v:literal: $($r:literal)*) => { [$(tile::<$r, $v>),*] };
    }

    /// Tiles by [blocks - 1][rows - 1], so that edge tiles keep their sums in
    /// registers too.
    pub(super) static TILES: [[Kernel; ROWS]; BLOCKS] =
        [heights!(1: 1 2 3 4 5 6 7 8), heights!(2: 1 2 3 4 5 6 7 8), heights!(3: 1 2 3 4 5 6 7 8)];

    /// R rows by V blocks of 16 outputs over all inputs: per group of four
    /// inputs, one load per block, one broadcast per row, R * V `vpdpbusd`.
    ///
    /// # Safety
    /// The CPU has AVX-512 F/BW/VL/DQ and VNNI, and the tile's pointers are
    /// valid for R rows and V blocks.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")]
    unsafe fn tile<const R: usize, const V: usize>(t: &Tile) {
        let mut acc = [[_mm512_setzero_si512(); V]; R];
        for g in 0..t.groups {
            let mut w = [_mm512_setzero_si512(); V];
            for (v, w) in w.iter_mut().enumerate() {
                // SAFETY: block v has groups * PANEL bytes.
                *w = unsafe { _mm512_loadu_si512(t.weights.add(v * t.block_stride + g * PANEL).cast()) };
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                // SAFETY: row r has groups * 4 bytes.
                let a = unsafe { t.x.add(r * t.x_stride + g * 4).cast::<i32>().read_unaligned() };
                let a = _mm512_set1_epi32(a);
                for (acc, &w) in acc.iter_mut().zip(&w) {
                    *acc = _mm512_dpbusd_epi32(*acc, a, w);
                }
            }
        }
        // Spilled once here, so that the scaling below may index them freely
        // without the compiler keeping the accumulators in memory in the loop.
        let mut sums = [[[0i32; LANES]; V]; R];
        for (sums, acc) in sums.iter_mut().zip(&acc) {
            for (sums, &acc) in sums.iter_mut().zip(acc) {
                // SAFETY: sums has room for one register.
                unsafe { _mm512_storeu_si512(sums.as_mut_ptr().cast(), acc) };
            }
        }
        for (r, acc) in sums.iter().enumerate() {
            // SAFETY: the tile covers R rows and V blocks; the masks keep the
            // loads and stores of out to its valid columns.
            unsafe {
                let sx = _mm512_set1_ps(*t.x_scale.add(r));
                let zero = _mm512_set1_epi32(*t.x_zero.add(r));
                for (v, acc) in acc.iter().enumerate() {
                    let acc = _mm512_loadu_si512(acc.as_ptr().cast());
                    let left = t.columns.saturating_sub(v * LANES).min(LANES);
                    let mask = ((1u32 << left) - 1) as __mmask16;
                    let sums = _mm512_loadu_si512(t.sums.add(v * LANES).cast());
                    let corr = _mm512_sub_epi32(acc, _mm512_mullo_epi32(zero, sums));
                    let scale = _mm512_mul_ps(sx, _mm512_loadu_ps(t.scales.add(v * LANES)));
                    let mut y = _mm512_mul_ps(_mm512_cvtepi32_ps(corr), scale);
                    let dst = t.out.add(r * t.out_stride + v * LANES);
                    if t.accumulate {
                        y = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, dst), y);
                    }
                    _mm512_mask_storeu_ps(dst, mask, y);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
