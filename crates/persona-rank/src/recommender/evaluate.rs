//! Offline evaluation protocols over users' time-ordered histories: the
//! last event held out, a time cut-off, or a random share of each user's
//! items; and the figures of ranked lists against what was held out.

use crate::error::RankError;
use crate::interactions::{distinct_sorted, most_popular};

/// Per user: what the model may learn from, and the items to find (empty:
/// the user is not tested).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Split {
    pub train: Vec<Vec<u32>>,
    pub test: Vec<Vec<u32>>,
}

impl Split {
    /// Users with something to find.
    pub fn tested(&self) -> Vec<usize> {
        (0..self.test.len())
            .filter(|&u| !self.test[u].is_empty())
            .collect()
    }
}

/// Each user's last event is the target; the model sees everything before
/// it, less earlier events of the target item itself (a repeat would be
/// excluded as seen: the task is the next item not yet seen).
pub fn split_last(sequences: &[Vec<u32>]) -> Split {
    let mut split = Split::default();
    for s in sequences {
        match s.split_last() {
            Some((&last, before)) if !before.is_empty() => {
                split
                    .train
                    .push(before.iter().copied().filter(|&i| i != last).collect());
                split.test.push(vec![last]);
            }
            _ => {
                split.train.push(s.clone());
                split.test.push(Vec::new());
            }
        }
    }
    split
}

fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The sort key of one (user, item) in the random split: reproducible from
/// ids alone, in any language (splitmix64's finaliser).
pub fn split_key(seed: u64, user: i64, item: i64) -> u64 {
    mix(mix(mix(seed) ^ user as u64) ^ item as u64)
}

/// Per user, the distinct items sorted by [`split_key`]: the first
/// `floor(n * fraction + 0.5)` (at most n - 1; none below two items) are
/// held out with all their events. `users` and `ids` name users and items.
pub fn split_random(
    users: &[i64],
    ids: &[i64],
    sequences: &[Vec<u32>],
    fraction: f64,
    seed: u64,
) -> Result<Split, RankError> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(RankError::InvalidParameter {
            name: "test_fraction",
            reason: "must be between 0 and 1, exclusive",
        });
    }
    if users.len() != sequences.len() {
        return Err(RankError::ShapeMismatch {
            what: "users",
            expected: sequences.len(),
            actual: users.len(),
        });
    }
    let mut split = Split::default();
    for (s, &user) in sequences.iter().zip(users) {
        let mut items = distinct_sorted(s);
        let n = items.len();
        let n_test = if n < 2 {
            0
        } else {
            ((n as f64 * fraction + 0.5).floor() as usize).min(n - 1)
        };
        let id = |i: u32| ids.get(i as usize).copied().unwrap_or(i64::from(i));
        items.sort_by_key(|&i| (split_key(seed, user, id(i)), id(i)));
        let mut test = items[..n_test].to_vec();
        test.sort_unstable();
        split.train.push(
            s.iter()
                .copied()
                .filter(|i| test.binary_search(i).is_err())
                .collect(),
        );
        split.test.push(test);
    }
    Ok(split)
}

/// Events flagged `after` (at or after a time cut-off) are held out: the
/// test is the distinct items a user touches then that they had not
/// touched before; users with no training event are not tested.
pub fn split_after(sequences: &[Vec<u32>], after: &[Vec<bool>]) -> Result<Split, RankError> {
    let mut split = Split::default();
    for (s, flags) in sequences.iter().zip(after) {
        if flags.len() != s.len() {
            return Err(RankError::ShapeMismatch {
                what: "cut-off flags",
                expected: s.len(),
                actual: flags.len(),
            });
        }
        let train: Vec<u32> = s
            .iter()
            .zip(flags)
            .filter(|x| !*x.1)
            .map(|x| *x.0)
            .collect();
        let known = distinct_sorted(&train);
        let mut test: Vec<u32> = s
            .iter()
            .zip(flags)
            .filter(|x| *x.1)
            .map(|x| *x.0)
            .filter(|i| known.binary_search(i).is_err())
            .collect();
        test = distinct_sorted(&test);
        if train.is_empty() {
            test.clear();
        }
        split.train.push(train);
        split.test.push(test);
    }
    if sequences.len() != after.len() {
        return Err(RankError::ShapeMismatch {
            what: "cut-off flags",
            expected: sequences.len(),
            actual: after.len(),
        });
    }
    Ok(split)
}

/// Figures of ranked lists (best first) against held-out items.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    pub users: usize,
    /// Share of users with at least one held-out item in the top k.
    pub hit_rate: f64,
    /// DCG over the hits / the best DCG possible with min(k, |test|) hits.
    pub ndcg: f64,
    /// Hits / held-out items, per user.
    pub recall: f64,
    /// Share of the catalogue in at least one list.
    pub coverage: f64,
    /// Mean popularity rank (1 = most popular) of the recommended items.
    pub popularity_rank: f64,
}

/// The figures of `lists[u]` against `test[u]` over users with a test,
/// `popularity` being the training counts that rank items for bias.
pub fn figures(
    lists: &[Vec<u32>],
    test: &[Vec<u32>],
    popularity: &[u32],
    k: usize,
) -> Result<Figures, RankError> {
    if lists.len() != test.len() {
        return Err(RankError::ShapeMismatch {
            what: "lists",
            expected: test.len(),
            actual: lists.len(),
        });
    }
    let n = popularity.len();
    let mut rank = vec![0u32; n];
    for (r, &i) in most_popular(popularity, n).iter().enumerate() {
        rank[i as usize] = r as u32 + 1;
    }
    let mut f = Figures::default();
    let mut covered = vec![false; n];
    let (mut entries, mut rank_sum) = (0usize, 0f64);
    for (list, t) in lists.iter().zip(test) {
        if t.is_empty() {
            continue;
        }
        f.users += 1;
        let mut relevant = t.clone();
        relevant.sort_unstable();
        relevant.dedup();
        let (mut hits, mut dcg) = (0usize, 0f64);
        for (r, &i) in list.iter().take(k).enumerate() {
            let slot = covered
                .get_mut(i as usize)
                .ok_or(RankError::ItemOutOfRange {
                    item: i,
                    n_items: n,
                })?;
            *slot = true;
            entries += 1;
            rank_sum += f64::from(rank[i as usize]);
            if relevant.binary_search(&i).is_ok() {
                hits += 1;
                dcg += 1.0 / ((r + 2) as f64).log2();
            }
        }
        let ideal: f64 = (0..k.min(relevant.len()))
            .map(|r| 1.0 / ((r + 2) as f64).log2())
            .sum();
        f.hit_rate += f64::from(u8::from(hits > 0));
        f.recall += hits as f64 / relevant.len() as f64;
        f.ndcg += if ideal > 0.0 { dcg / ideal } else { 0.0 };
    }
    let m = f.users.max(1) as f64;
    f.hit_rate /= m;
    f.recall /= m;
    f.ndcg /= m;
    f.coverage = if n == 0 {
        0.0
    } else {
        covered.iter().filter(|&&c| c).count() as f64 / n as f64
    };
    f.popularity_rank = if entries == 0 {
        0.0
    } else {
        rank_sum / entries as f64
    };
    Ok(f)
}

/// Popularity's lists: the most popular items (ties by index) a user has
/// not touched, for the users with a test (others get an empty list).
pub fn popular_lists(split: &Split, popularity: &[u32], k: usize) -> Vec<Vec<u32>> {
    let order = most_popular(popularity, popularity.len());
    split
        .train
        .iter()
        .zip(&split.test)
        .map(|(h, t)| {
            if t.is_empty() {
                return Vec::new();
            }
            let seen = distinct_sorted(h);
            order
                .iter()
                .copied()
                .filter(|i| seen.binary_search(i).is_err())
                .take(k)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_figures() {
        let seqs = vec![vec![0, 1, 0, 2], vec![3], vec![1, 2, 3, 4, 0]];
        let last = split_last(&seqs);
        assert_eq!(last.train[0], vec![0, 1, 0]);
        assert_eq!(last.test, vec![vec![2], vec![], vec![0]]);
        assert_eq!(last.train[2], vec![1, 2, 3, 4]);
        let r = split_random(&[7, 8, 9], &[10, 11, 12, 13, 14], &seqs, 0.4, 0).unwrap();
        assert_eq!(r.test[1], Vec::<u32>::new());
        assert_eq!(r.test[2].len(), 2);
        assert_eq!(r.test[0].len(), 1);
        for (train, test) in r.train.iter().zip(&r.test) {
            assert!(train.iter().all(|i| !test.contains(i)));
        }
        assert_eq!(
            r,
            split_random(&[7, 8, 9], &[10, 11, 12, 13, 14], &seqs, 0.4, 0).unwrap()
        );
        assert!(split_random(&[1], &[], &seqs, 0.4, 0).is_err());
        assert!(split_random(&[7, 8, 9], &[], &seqs, 1.0, 0).is_err());
        let cut = split_after(
            &seqs,
            &[vec![false, false, true, true], vec![true], vec![false; 5]],
        )
        .unwrap();
        assert_eq!(cut.test, vec![vec![2], vec![], vec![]]);
        assert_eq!(cut.train[0], vec![0, 1]);
        let f = figures(
            &[vec![2, 1], vec![], vec![]],
            &cut.test,
            &[3, 2, 1, 0, 0],
            2,
        )
        .unwrap();
        assert_eq!(f.users, 1);
        assert_eq!(f.hit_rate, 1.0);
        assert!((f.ndcg - 1.0).abs() < 1e-12);
        assert_eq!(f.popularity_rank, 2.5);
        assert_eq!(f.coverage, 0.4);
        // Two relevant, one found at rank 1 (0-based): DCG 1/log2(3), ideal 1 + 1/log2(3).
        let g = figures(&[vec![4, 0]], &[vec![0, 1]], &[3, 2, 1, 0, 0], 2).unwrap();
        let l3 = 3f64.log2();
        assert!((g.ndcg - (1.0 / l3) / (1.0 + 1.0 / l3)).abs() < 1e-12);
        assert_eq!(g.recall, 0.5);
        assert_eq!(popular_lists(&cut, &[3, 2, 1, 0, 0], 2)[0], vec![2, 3]);
    }
}
