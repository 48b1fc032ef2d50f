//! A dense layer on Q4_0 weights kept in 4 bits' worth of bytes, computed as
//! the int8 x int4 engine a 4-bit model comes from computes it: each row of
//! inputs is rounded to Q8_0 blocks (i8 levels, one scale per 32 inputs),
//! every block's products are summed exactly in i32, and only those sums are
//! scaled to f32:
//!
//! y[o] = sum over blocks b of d_w[o, b] * d_x[b] * (sum_j q_w[o, j] * q_x[j] - 8 * sum_j q_x[j])
//!
//! with q_w the unsigned nibbles (0..15, the stored weight being q_w - 8).
//! Against expanding the weights to f32 this keeps a layer at a quarter of
//! the memory (the twelve layers of multilingual-e5-small: about 21 MB
//! instead of 85 MB) and reads four times fewer bytes per product.
//!
//! Two kernels compute the same i32 sums: AVX-512 VNNI (`vpdpbusd`, u8 x i8)
//! and plain Rust for other CPUs and for tests.

use std::ops::Range;

use rayon::prelude::*;

use super::{BLOCK, BLOCK_BYTES};
use crate::kernels;

/// Outputs per packed block: one register of i32 sums.
const LANES: usize = 16;
/// Inputs per group: `vpdpbusd` sums four products into each lane.
const GROUP: usize = 4;
/// Bytes of one group of one output block.
const PANEL: usize = LANES * GROUP;
/// Groups per Q4_0 block of inputs.
const GROUPS: usize = BLOCK / GROUP;
/// Rows and output blocks of the register tile.
const ROWS: usize = 4;
const BLOCKS: usize = 2;

pub(crate) struct Q4Linear {
    /// Nibbles as bytes, [output block][group of 4 inputs][output in block][input in group].
    packed: Vec<u8>,
    /// d_w as [output block][input block][output in block].
    scales: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
}

/// The inputs of a layer, rounded: levels, and per block its scale and the
/// sum of its levels.
struct Rounded {
    levels: Vec<i8>,
    scales: Vec<f32>,
    sums: Vec<i32>,
}

/// Raw output pointer that rayon tasks may share.
#[derive(Clone, Copy)]
struct Shared(*mut f32);
// SAFETY: each task writes rows and columns no other task touches, joined before return.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Q4Linear {
    /// `parts` are Q4_0 matrices of `out` rows by `inputs`, stacked with
    /// their outputs side by side (query, key, value); `bias` has one value
    /// per output of the stack. `inputs` is a multiple of 32.
    pub(crate) fn new(parts: &[&[u8]], bias: Vec<f32>, inputs: usize) -> Self {
        let outputs = bias.len();
        let (in_blocks, out_blocks) = (inputs / BLOCK, outputs.div_ceil(LANES));
        let groups = inputs / GROUP;
        let mut packed = vec![8u8; out_blocks * groups * PANEL];
        let mut scales = vec![0f32; out_blocks * in_blocks * LANES];
        let row_bytes = in_blocks * BLOCK_BYTES;
        let rows = parts.iter().flat_map(|p| p.chunks_exact(row_bytes));
        for (o, row) in rows.enumerate().take(outputs) {
            let (ob, lane) = (o / LANES, o % LANES);
            for (b, block) in row.chunks_exact(BLOCK_BYTES).enumerate() {
                scales[(ob * in_blocks + b) * LANES + lane] = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
                for (j, &q) in block[2..].iter().enumerate() {
                    for (i, nibble) in [(j, q & 0x0F), (j + 16, q >> 4)] {
                        let input = b * BLOCK + i;
                        packed[(ob * groups + input / GROUP) * PANEL + lane * GROUP + input % GROUP] = nibble;
                    }
                }
            }
        }
        Self { packed, scales, bias, inputs }
    }

    pub(crate) fn bias(&self) -> &[f32] {
        &self.bias
    }

    /// out (rows x outputs) [+]= x (rows x inputs) W^T, over the current rayon pool.
    pub(crate) fn apply(&self, x: &[f32], out: &mut [f32], accumulate: bool) {
        let outputs = self.bias.len();
        if outputs == 0 || self.inputs == 0 {
            return;
        }
        let rows = (x.len() / self.inputs).min(out.len() / outputs);
        let rounded = round_rows(&x[..rows * self.inputs], self.inputs);
        let vnni = kernels::vnni();
        let out_blocks = outputs.div_ceil(LANES);
        let threads = rayon::current_num_threads().max(1);
        let dst = Shared(out.as_mut_ptr());
        // Few rows: split the outputs, so that each thread reads only its
        // share of the weights; many rows: split the rows.
        let tasks: Vec<(Range<usize>, Range<usize>)> = if rows >= 64 * threads {
            let step = rows.div_ceil(threads);
            (0..rows).step_by(step).map(|r| (r..(r + step).min(rows), 0..out_blocks)).collect()
        } else {
            let step = out_blocks.div_ceil(threads).next_multiple_of(BLOCKS).min(out_blocks).max(1);
            (0..out_blocks).step_by(step).map(|b| (0..rows, b..(b + step).min(out_blocks))).collect()
        };
        tasks.into_par_iter().for_each(|(rows, blocks)| {
            let dst = dst;
            for b in blocks.clone().step_by(BLOCKS) {
                let width = BLOCKS.min(blocks.end - b);
                for r in rows.clone().step_by(ROWS) {
                    let height = ROWS.min(rows.end - r);
                    let tile = Tile { layer: self, x: &rounded, row: r, block: b, out: dst.0, outputs, accumulate };
                    // SAFETY: rows r..r+height and output blocks b..b+width lie
                    // inside x, the weights and out; only this task writes them.
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
        });
    }
}

/// Rounds rows of `width` inputs to Q8_0 blocks, exactly as
/// `kernels::round_to_q8_blocks` does, keeping the levels.
fn round_rows(x: &[f32], width: usize) -> Rounded {
    let blocks = x.len() / BLOCK;
    let mut r = Rounded { levels: vec![0; x.len()], scales: vec![0.0; blocks], sums: vec![0; blocks] };
    let chunk = width * 16;
    r.levels
        .par_chunks_mut(chunk)
        .zip(r.scales.par_chunks_mut(chunk / BLOCK))
        .zip(r.sums.par_chunks_mut(chunk / BLOCK))
        .zip(x.par_chunks(chunk))
        .for_each(|(((levels, scales), sums), x)| kernels::quantize_q8_blocks(x, levels, scales, sums));
    r
}

struct Tile<'a> {
    layer: &'a Q4Linear,
    x: &'a Rounded,
    /// First row and first output block.
    row: usize,
    block: usize,
    out: *mut f32,
    outputs: usize,
    accumulate: bool,
}

/// The tile in plain Rust: the same i32 sums, the same scaling.
///
/// # Safety
/// The tile's rows and blocks lie inside its layer, inputs and output.
unsafe fn portable_tile(t: &Tile, height: usize, width: usize) {
    let l = t.layer;
    let (in_blocks, groups) = (l.inputs / BLOCK, l.inputs / GROUP);
    for r in t.row..t.row + height {
        for ob in t.block..t.block + width {
            let mut y = [0f32; LANES];
            for b in 0..in_blocks {
                let (dx, sx) = (t.x.scales[r * in_blocks + b], t.x.sums[r * in_blocks + b]);
                for (lane, y) in y.iter_mut().enumerate() {
                    let mut sum = 0i32;
                    for g in b * GROUPS..(b + 1) * GROUPS {
                        for k in 0..GROUP {
                            let w = l.packed[(ob * groups + g) * PANEL + lane * GROUP + k];
                            sum += i32::from(w) * i32::from(t.x.levels[r * l.inputs + g * GROUP + k]);
                        }
                    }
                    *y += (sum - 8 * sx) as f32 * (l.scales[(ob * in_blocks + b) * LANES + lane] * dx);
                }
            }
            for (lane, &y) in y.iter().enumerate().take(t.outputs.saturating_sub(ob * LANES)) {
                // SAFETY: the caller's contract; the column is a valid output.
                unsafe {
                    let dst = t.out.add(r * t.outputs + ob * LANES + lane);
                    *dst = if t.accumulate { *dst + y } else { y };
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod vnni {
    use std::arch::x86_64::*;

    use super::{Tile, BLOCK, BLOCKS, GROUP, GROUPS, LANES, PANEL, ROWS};

    type Kernel = unsafe fn(&Tile);

    /// Tiles by [blocks - 1][rows - 1].
    pub(super) static TILES: [[Kernel; ROWS]; BLOCKS] =
        [[tile::<1, 1>, tile::<2, 1>, tile::<3, 1>, tile::<4, 1>], [tile::<1, 2>, tile::<2, 2>, tile::<3, 2>, tile::<4, 2>]];

    /// R rows by V blocks of 16 outputs: per block of 32 inputs, eight
    /// `vpdpbusd` per row and output block into i32 sums, then one
    /// conversion and one multiply-add into the f32 outputs.
    ///
    /// # Safety
    /// The CPU has AVX-512 F/BW/VL/DQ and VNNI; the tile lies inside its
    /// layer, inputs and output.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")]
    pub(super) unsafe fn tile<const R: usize, const V: usize>(t: &Tile) {
        let l = t.layer;
        let (in_blocks, groups) = (l.inputs / BLOCK, l.inputs / GROUP);
        let mut y = [[_mm512_setzero_ps(); V]; R];
        for b in 0..in_blocks {
            let mut sums = [[_mm512_setzero_si512(); V]; R];
            for g in b * GROUPS..(b + 1) * GROUPS {
                let mut w = [_mm512_setzero_si512(); V];
                for (v, w) in w.iter_mut().enumerate() {
                    // SAFETY: output block t.block + v has groups * PANEL bytes.
                    *w = unsafe { _mm512_loadu_si512(l.packed.as_ptr().add(((t.block + v) * groups + g) * PANEL).cast()) };
                }
                for (r, sums) in sums.iter_mut().enumerate() {
                    // SAFETY: row t.row + r has inputs levels.
                    let a = unsafe { t.x.levels.as_ptr().add((t.row + r) * l.inputs + g * GROUP).cast::<i32>().read_unaligned() };
                    let a = _mm512_set1_epi32(a);
                    for (s, &w) in sums.iter_mut().zip(&w) {
                        *s = _mm512_dpbusd_epi32(*s, w, a);
                    }
                }
            }
            for (r, (y, sums)) in y.iter_mut().zip(&sums).enumerate() {
                let k = (t.row + r) * in_blocks + b;
                let (dx, offset) = (_mm512_set1_ps(t.x.scales[k]), _mm512_set1_epi32(8 * t.x.sums[k]));
                for (v, (y, &s)) in y.iter_mut().zip(sums).enumerate() {
                    // SAFETY: scales has LANES values per (output block, input block).
                    let dw = unsafe { _mm512_loadu_ps(l.scales.as_ptr().add(((t.block + v) * in_blocks + b) * LANES)) };
                    let s = _mm512_sub_epi32(s, offset);
                    *y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, dx), *y);
                }
            }
        }
        for (r, y) in y.iter().enumerate() {
            for (v, &y) in y.iter().enumerate() {
                let left = t.outputs.saturating_sub((t.block + v) * LANES).min(LANES);
                let mask = ((1u32 << left) - 1) as __mmask16;
                // SAFETY: the mask keeps the access to the valid columns of row t.row + r.
                unsafe {
                    let dst = t.out.add((t.row + r) * t.outputs + (t.block + v) * LANES);
                    let y = if t.accumulate { _mm512_add_ps(_mm512_maskz_loadu_ps(mask, dst), y) } else { y };
                    _mm512_mask_storeu_ps(dst, mask, y);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
