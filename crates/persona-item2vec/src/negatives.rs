//! Drawing negative items with P(item) ∝ count^exponent, by Vose's alias
//! method: one uniform index and one coin per draw, over two arrays of the
//! vocabulary's size.
//!
//! word2vec.c draws from a table of 1e8 slots (ours had 1e7): 40 MB read at
//! random, a cache miss on nearly every one of the five draws per pair. The
//! alias arrays of a 12,000-item vocabulary take 96 KB and stay in cache,
//! and the distribution is exact rather than quantised to table slots.

use crate::rng::Rng;

#[derive(Debug, Clone)]
pub struct NegativeSampler {
    /// Probability of keeping the drawn column rather than its alias.
    keep: Vec<f32>,
    alias: Vec<u32>,
}

impl NegativeSampler {
    /// From per-item counts, most frequent first (any order works).
    pub fn new(counts: &[u64], exponent: f64) -> Self {
        let n = counts.len().max(1);
        let weights: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(exponent)).collect();
        let total: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = if total > 0.0 && !weights.is_empty() {
            weights.iter().map(|w| w * n as f64 / total).collect()
        } else {
            vec![1.0; n]
        };
        let mut keep = vec![1.0f32; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            keep[s] = scaled[s] as f32;
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever is left is 1 up to rounding.
        Self { keep, alias }
    }

    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> usize {
        let column = rng.below(self.keep.len() as u64) as usize;
        if rng.next_f32() < self.keep[column] {
            column
        } else {
            self.alias[column] as usize
        }
    }

    /// The probability of each item, for tests.
    #[cfg(test)]
    pub fn probabilities(&self) -> Vec<f64> {
        let n = self.keep.len();
        let mut p = vec![0.0; n];
        for (column, &k) in self.keep.iter().enumerate() {
            p[column] += f64::from(k) / n as f64;
            p[self.alias[column] as usize] += (1.0 - f64::from(k)) / n as f64;
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_smoothed_unigram_exactly() {
        let s = NegativeSampler::new(&[90, 10], 1.0);
        let p = s.probabilities();
        assert!((p[0] - 0.9).abs() < 1e-6 && (p[1] - 0.1).abs() < 1e-6, "{p:?}");
        let flat = NegativeSampler::new(&[90, 10], 0.0).probabilities();
        assert!((flat[0] - 0.5).abs() < 1e-6, "{flat:?}");
        let smoothed = NegativeSampler::new(&[1000, 100, 10, 1], 0.75).probabilities();
        let w: Vec<f64> = [1000f64, 100.0, 10.0, 1.0].iter().map(|c| c.powf(0.75)).collect();
        let total: f64 = w.iter().sum();
        for (got, want) in smoothed.iter().zip(w.iter().map(|x| x / total)) {
            assert!((got - want).abs() < 1e-6, "{smoothed:?}");
        }
    }

    #[test]
    fn draws_match_the_probabilities() {
        let s = NegativeSampler::new(&[50, 30, 15, 5], 1.0);
        let mut rng = Rng::new(7);
        let mut seen = [0u32; 4];
        for _ in 0..200_000 {
            seen[s.sample(&mut rng)] += 1;
        }
        for (i, want) in [0.5, 0.3, 0.15, 0.05].iter().enumerate() {
            let got = f64::from(seen[i]) / 200_000.0;
            assert!((got - want).abs() < 0.01, "item {i}: {got}");
        }
    }
}
