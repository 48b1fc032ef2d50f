//! Q4_0 weight blocks, as GGML stores them: 32 weights share one fp16 scale
//! d, and weight j of a block is d * (nibble j - 8), the nibbles packed two
//! to a byte (byte j holds weight j in its low half and weight j + 16 in its
//! high half).

/// Weights per block.
pub(crate) const BLOCK: usize = 32;
/// Bytes per block: the fp16 scale, then 16 bytes of nibbles.
pub(crate) const BLOCK_BYTES: usize = 18;

/// Expands whole blocks into `out` (32 values per block; `out` may be
/// shorter than the blocks, which are then cut).
pub(crate) fn dequantize(blocks: &[u8], out: &mut [f32]) {
    for (block, out) in blocks.chunks_exact(BLOCK_BYTES).zip(out.chunks_mut(BLOCK)) {
        let d = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
        let mut values = [0f32; BLOCK];
        for (j, &q) in block[2..].iter().enumerate() {
            values[j] = ((q & 0x0F) as i32 - 8) as f32 * d;
            values[j + 16] = ((q >> 4) as i32 - 8) as f32 * d;
        }
        out.copy_from_slice(&values[..out.len()]);
    }
}

mod linear;

pub(crate) use linear::Q4Linear;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nibbles_and_scale() {
        // scale 0.5 (fp16 0x3800), byte j = j | (15 - j) << 4.
        let mut block = vec![0x00, 0x38];
        block.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        let mut out = [0f32; 32];
        dequantize(&block, &mut out);
        for j in 0..16 {
            assert_eq!(out[j], (j as f32 - 8.0) * 0.5);
            assert_eq!(out[j + 16], (7.0 - j as f32) * 0.5);
        }
    }
}
