//! Shared test helpers: a reproducible generator.

/// splitmix64, so tests need no rand dependency.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A small integer in -range..=range as f32: products and sums of these
    /// are exact in f32 whatever the summation order, so blocked and naive
    /// scores can be compared for equality, and ties are frequent.
    #[allow(dead_code)]
    pub fn small_int(&mut self, range: i64) -> f32 {
        (self.below((2 * range + 1) as u64) as i64 - range) as f32
    }

    // Each test binary compiles this module and uses a different subset.
    #[allow(dead_code)]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
