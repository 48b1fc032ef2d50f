/// word2vec.c's linear congruential generator: tiny, fast and, above all,
/// the same sequence on every platform, so a seed fixes the vectors.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(25_214_903_917).wrapping_add(11);
        self.0
    }

    /// Uniform in [0, 1) from 24 high-quality bits.
    #[inline]
    pub fn next_f32(&mut self) -> f32 {
        ((self.next_u64() >> 16) & 0xFF_FFFF) as f32 / (1u32 << 24) as f32
    }

    /// Uniform in [0, n) for n >= 1.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        (self.next_u64() >> 16) % n.max(1)
    }
}
