use std::collections::HashMap;

/// Items kept for training, most frequent first, with their counts.
#[derive(Debug, Clone, Default)]
pub struct Vocab {
    ids: Vec<i64>,
    counts: Vec<u64>,
    index: HashMap<i64, u32>,
}

/// Entries in the negative-sampling table (word2vec.c uses 1e8; 1e7 keeps
/// the same distribution to within 1e-7 per item at a tenth of the memory).
const NEG_TABLE_SIZE: usize = 10_000_000;

impl Vocab {
    pub fn build(sequences: &[Vec<i64>], min_count: u64) -> Self {
        let mut counts: HashMap<i64, u64> = HashMap::new();
        for s in sequences {
            for &item in s {
                *counts.entry(item).or_default() += 1;
            }
        }
        let mut kept: Vec<(i64, u64)> = counts.into_iter().filter(|&(_, c)| c >= min_count.max(1)).collect();
        // Most frequent first; ties by id, so the vocabulary is deterministic.
        kept.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let index = kept.iter().enumerate().map(|(i, &(id, _))| (id, i as u32)).collect();
        Self { ids: kept.iter().map(|k| k.0).collect(), counts: kept.iter().map(|k| k.1).collect(), index }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn ids(&self) -> &[i64] {
        &self.ids
    }

    pub fn count(&self, id: i64) -> Option<u64> {
        self.index.get(&id).map(|&i| self.counts[i as usize])
    }

    /// The sequence as vocabulary indices, dropping items below min_count.
    pub fn encode(&self, seq: &[i64]) -> Vec<u32> {
        seq.iter().filter_map(|id| self.index.get(id).copied()).collect()
    }

    /// Table for drawing negatives with P(item) ∝ count^exponent.
    pub fn negative_table(&self, exponent: f64) -> Vec<u32> {
        let size = NEG_TABLE_SIZE.min(self.len().saturating_mul(1000)).max(self.len());
        let weights: Vec<f64> = self.counts.iter().map(|&c| (c as f64).powf(exponent)).collect();
        let total: f64 = weights.iter().sum();
        let mut table = Vec::with_capacity(size);
        let mut cumulative = 0.0;
        let mut item = 0usize;
        for slot in 0..size {
            let at = (slot as f64 + 0.5) / size as f64;
            while item + 1 < weights.len() && cumulative + weights[item] / total < at {
                cumulative += weights[item] / total;
                item += 1;
            }
            table.push(item as u32);
        }
        table
    }

    /// Probability of keeping each occurrence of an item under subsampling
    /// threshold `sample` (word2vec.c's formula; 1.0 means always).
    pub fn keep_probabilities(&self, sample: f64) -> Vec<f32> {
        let total: u64 = self.counts.iter().sum();
        self.counts
            .iter()
            .map(|&c| {
                if sample <= 0.0 {
                    return 1.0;
                }
                let threshold = sample * total as f64;
                let f = c as f64;
                (((f / threshold).sqrt() + 1.0) * threshold / f).min(1.0) as f32
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_is_sorted_by_count_and_filtered() {
        let v = Vocab::build(&[vec![5, 5, 5, 7, 7, 9], vec![7, 3]], 2);
        assert_eq!(v.ids(), &[5, 7]);
        assert_eq!(v.count(7), Some(3));
        assert_eq!(v.count(9), None);
        assert_eq!(v.encode(&[9, 7, 5, 3]), vec![1, 0]);
    }

    #[test]
    fn negative_table_follows_the_smoothed_unigram() {
        let v = Vocab::build(&[vec![1; 90], vec![2; 10]], 1);
        let t = v.negative_table(1.0);
        let share = t.iter().filter(|&&i| i == 0).count() as f64 / t.len() as f64;
        assert!((share - 0.9).abs() < 1e-3, "{share}");
        let flat = v.negative_table(0.0);
        let share = flat.iter().filter(|&&i| i == 0).count() as f64 / flat.len() as f64;
        assert!((share - 0.5).abs() < 1e-3, "{share}");
    }

    #[test]
    fn subsampling_keeps_rare_items() {
        let v = Vocab::build(&[vec![1; 10_000], vec![2; 3]], 1);
        let p = v.keep_probabilities(1e-3);
        assert!(p[0] < 0.05 && p[1] == 1.0, "{p:?}");
        assert!(v.keep_probabilities(0.0).iter().all(|&x| x == 1.0));
    }
}
