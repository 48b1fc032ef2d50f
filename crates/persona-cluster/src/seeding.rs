//! Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, with the local
//! trials of scikit-learn's `_kmeans_plusplus`).

use rayon::prelude::*;

use crate::data::{prepare_rows, row_sq_norms};
use crate::kernel::{Prepared, RowSink, LEAF_ROWS};
use crate::rng::SplitMix64;
use crate::{ClusterError, Metric};

/// Picks `k` initial centroids (`k × dim`, row-major) from the rows of `data`.
///
/// The first centroid is a uniformly random row; each next one is the best
/// of `2 + ln k` rows drawn with probability proportional to their cost to
/// the nearest centroid chosen so far ("D² sampling": squared distance under
/// L2, `1 - cos` under Cosine, which is half the squared distance of unit
/// vectors), where best means lowest total cost once it is added. The same
/// `seed` always gives the same centroids, whatever the thread pool. Under
/// Cosine the rows are L2-normalised first, so the centroids are unit rows.
pub fn kmeans_plus_plus(data: &[f32], dim: usize, k: usize, metric: Metric, seed: u64) -> Result<Vec<f32>, ClusterError> {
    let (rows, n) = prepare_rows(data, dim, metric)?;
    if k < 1 || k > n {
        return Err(ClusterError::InvalidK { k, rows: n });
    }
    Ok(greedy_plus_plus(&rows, dim, k, metric, seed))
}

/// Picks `k` distinct rows uniformly at random as initial centroids (the
/// "random" initialisation of scikit-learn and FAISS): cheaper than
/// [`kmeans_plus_plus`] but more prone to poor local optima. Deterministic
/// for a seed; rows are normalised under Cosine.
pub fn random_rows(data: &[f32], dim: usize, k: usize, metric: Metric, seed: u64) -> Result<Vec<f32>, ClusterError> {
    let (rows, n) = prepare_rows(data, dim, metric)?;
    if k < 1 || k > n {
        return Err(ClusterError::InvalidK { k, rows: n });
    }
    Ok(floyd_rows(&rows, dim, k, seed))
}

/// [`random_rows`] on checked (and, under Cosine, normalised) rows; `1 <= k <= n`.
pub(crate) fn floyd_rows(rows: &[f32], dim: usize, k: usize, seed: u64) -> Vec<f32> {
    let n = rows.len() / dim;
    let mut rng = SplitMix64::new(seed);
    // Floyd's sampling: k distinct indices in O(k) memory, whatever n is.
    let mut picked: Vec<usize> = Vec::with_capacity(k);
    for upper in n - k..n {
        let candidate = rng.below(upper as u64 + 1) as usize;
        let index = if picked.contains(&candidate) { upper } else { candidate };
        picked.push(index);
    }
    picked.iter().flat_map(|&i| rows[i * dim..(i + 1) * dim].iter().copied()).collect()
}

/// k-means++ on checked (and, under Cosine, normalised) rows; `1 <= k <= n`.
pub(crate) fn greedy_plus_plus(rows: &[f32], dim: usize, k: usize, metric: Metric, seed: u64) -> Vec<f32> {
    let n = rows.len() / dim;
    let mut rng = SplitMix64::new(seed);
    let trials = 2 + (k as f64).ln() as usize;
    let norms: Vec<f32> = match metric {
        Metric::L2 => row_sq_norms(rows, dim),
        Metric::Cosine => Vec::new(),
    };
    let first = rng.below(n as u64) as usize;
    let mut centroids = Vec::with_capacity(k * dim);
    centroids.extend_from_slice(&rows[first * dim..(first + 1) * dim]);
    let mut closest = vec![f32::INFINITY; n];
    let (_, costs) = trial_pass(rows, dim, metric, &norms, &closest, &[first]);
    closest = costs;
    while centroids.len() < k * dim {
        let picks = sample_rows(&closest, trials, &mut rng);
        let (pots, costs) = trial_pass(rows, dim, metric, &norms, &closest, &picks);
        let mut best = 0;
        for (t, &pot) in pots.iter().enumerate() {
            if pot < pots[best] {
                best = t;
            }
        }
        let chosen = picks[best];
        centroids.extend_from_slice(&rows[chosen * dim..(chosen + 1) * dim]);
        for (c, row_costs) in closest.iter_mut().zip(costs.chunks_exact(picks.len())) {
            *c = row_costs[best];
        }
    }
    centroids
}

/// Draws `count` row indices with probability proportional to `weights`.
fn sample_rows(weights: &[f32], count: usize, rng: &mut SplitMix64) -> Vec<usize> {
    let total: f64 = weights.iter().map(|&w| f64::from(w)).sum();
    if total <= 0.0 {
        // Every row coincides with a chosen centroid: any row is as good.
        return (0..count).map(|_| rng.below(weights.len() as u64) as usize).collect();
    }
    let mut targets: Vec<(f64, usize)> = (0..count).map(|t| (rng.next_f64() * total, t)).collect();
    targets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let last_positive = weights.iter().rposition(|&w| w > 0.0).unwrap_or(0);
    let mut picks = vec![last_positive; count];
    let mut running = 0.0f64;
    let mut pending = targets.iter().peekable();
    for (i, &w) in weights.iter().enumerate() {
        running += f64::from(w);
        // The first row whose running total passes the target: zero-weight
        // rows (already centroids) are never drawn.
        while let Some(&&(target, trial)) = pending.peek() {
            if running > target && w > 0.0 {
                picks[trial] = i;
                pending.next();
            } else {
                break;
            }
        }
        if pending.peek().is_none() {
            break;
        }
    }
    picks
}

/// Costs of every row when each candidate is added in turn.
struct TrialSink<'a> {
    prepared: &'a Prepared,
    norms: &'a [f32],
    closest: &'a [f32],
    costs: &'a mut [f32],
    pots: Vec<f64>,
}

impl RowSink for TrialSink<'_> {
    #[inline(always)]
    fn row(&mut self, index: usize, _row: &[f32], scores: &[f32]) {
        let trials = self.pots.len();
        let norm = if self.norms.is_empty() { 1.0 } else { self.norms[index] };
        let closest = self.closest[index];
        let out = &mut self.costs[index * trials..(index + 1) * trials];
        for ((cost, pot), &score) in out.iter_mut().zip(self.pots.iter_mut()).zip(scores) {
            let candidate = self.prepared.cost(norm, score) as f32;
            *cost = candidate.min(closest);
            *pot += f64::from(*cost);
        }
    }
}

/// For each candidate row, the total cost once it is added (`pots`) and the
/// per-row costs (`n × candidates`).
fn trial_pass(
    rows: &[f32],
    dim: usize,
    metric: Metric,
    norms: &[f32],
    closest: &[f32],
    candidates: &[usize],
) -> (Vec<f64>, Vec<f32>) {
    let trials = candidates.len();
    let points: Vec<f32> = candidates.iter().flat_map(|&c| rows[c * dim..(c + 1) * dim].iter().copied()).collect();
    let prepared = Prepared::new(&points, trials, dim, metric);
    let mut costs = vec![0.0f32; closest.len() * trials];
    let jobs: Vec<_> = rows.chunks(LEAF_ROWS * dim).zip(costs.chunks_mut(LEAF_ROWS * trials)).enumerate().collect();
    let leaf_pots: Vec<Vec<f64>> = jobs
        .into_par_iter()
        .map(|(leaf, (leaf_rows, leaf_costs))| {
            let start = leaf * LEAF_ROWS;
            let end = start + leaf_rows.len() / dim;
            let mut sink = TrialSink {
                prepared: &prepared,
                norms: if norms.is_empty() { norms } else { &norms[start..end] },
                closest: &closest[start..end],
                costs: leaf_costs,
                pots: vec![0.0; trials],
            };
            prepared.scan(leaf_rows, &mut sink);
            sink.pots
        })
        .collect();
    // Merged in leaf order so the totals do not depend on the thread count.
    let mut pots = vec![0.0f64; trials];
    for leaf in leaf_pots {
        for (p, l) in pots.iter_mut().zip(leaf) {
            *p += l;
        }
    }
    (pots, costs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_never_draws_zero_weight_rows() {
        let weights = [0.0, 1.0, 0.0, 3.0, 0.0];
        let mut rng = SplitMix64::new(5);
        for _ in 0..200 {
            for pick in sample_rows(&weights, 3, &mut rng) {
                assert!(pick == 1 || pick == 3);
            }
        }
    }

    #[test]
    fn seeds_are_distinct_rows_on_separated_points() {
        let data = [0.0, 0.0, 10.0, 10.0, -10.0, 10.0, 0.1, 0.0];
        let centroids = kmeans_plus_plus(&data, 2, 3, Metric::L2, 7).unwrap();
        let mut rows: Vec<Vec<u32>> = centroids.chunks(2).map(|c| c.iter().map(|x| x.to_bits()).collect()).collect();
        rows.sort();
        rows.dedup();
        assert_eq!(rows.len(), 3);
        assert_eq!(kmeans_plus_plus(&data, 2, 3, Metric::L2, 7).unwrap(), centroids);
        assert!(matches!(kmeans_plus_plus(&data, 2, 5, Metric::L2, 7), Err(ClusterError::InvalidK { .. })));
    }

    #[test]
    fn random_rows_are_distinct_and_repeatable() {
        let data: Vec<f32> = (0..50).map(|i| i as f32).collect();
        for k in [1, 7, 50] {
            let mut picked = random_rows(&data, 1, k, Metric::L2, 3).unwrap();
            assert_eq!(picked, random_rows(&data, 1, k, Metric::L2, 3).unwrap());
            picked.sort_by(f32::total_cmp);
            picked.dedup();
            assert_eq!(picked.len(), k);
        }
        assert!(random_rows(&data, 1, 51, Metric::L2, 3).is_err());
    }
}
