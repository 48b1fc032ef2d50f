use std::collections::HashMap;

/// Items kept for training, most frequent first, with their counts.
#[derive(Debug, Clone, Default)]
pub struct Vocab {
    ids: Vec<i64>,
    counts: Vec<u64>,
    index: HashMap<i64, u32>,
}

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

    /// Occurrences of each item, in vocabulary order.
    pub fn counts(&self) -> &[u64] {
        &self.counts
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
    fn subsampling_keeps_rare_items() {
        let v = Vocab::build(&[vec![1; 10_000], vec![2; 3]], 1);
        let p = v.keep_probabilities(1e-3);
        assert!(p[0] < 0.05 && p[1] == 1.0, "{p:?}");
        assert!(v.keep_probabilities(0.0).iter().all(|&x| x == 1.0));
    }
}
