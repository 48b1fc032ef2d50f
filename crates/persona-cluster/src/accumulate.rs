//! One assignment pass with the per-cluster sums it yields, and the centroid
//! update that follows. Shared by in-memory Lloyd and the out-of-core pass so
//! that both make exactly the same decisions.

use rayon::prelude::*;

use crate::data::{sq_norm_f64, sq_distance_f64};
use crate::kernel::{Prepared, RowSink, LEAF_ROWS};
use crate::nearest::argmin;
use crate::Metric;

/// A row far from its centroid, kept as a candidate to re-seed an empty cluster.
#[derive(Debug, Clone)]
pub(crate) struct FarRow {
    pub(crate) distance: f32,
    /// Position of the row in the whole pass; breaks ties towards earlier rows.
    pub(crate) order: u64,
    pub(crate) label: u32,
    pub(crate) row: Vec<f32>,
}

/// Sums over the rows of one pass (or one part of it).
#[derive(Debug, Clone)]
pub(crate) struct Partial {
    pub(crate) k: usize,
    pub(crate) dim: usize,
    pub(crate) sums: Vec<f64>,
    pub(crate) counts: Vec<u64>,
    /// Sum of row costs: squared distances (L2) or `1 - cos` (Cosine).
    pub(crate) inertia: f64,
    /// Up to `far_capacity` farthest rows, by distance descending then order.
    pub(crate) farthest: Vec<FarRow>,
    far_capacity: usize,
    pub(crate) moved: usize,
}

impl Partial {
    /// `far_capacity` is how many farthest rows to keep: `k` suffices, since
    /// at most `k - 1` clusters can be empty.
    pub(crate) fn new(k: usize, dim: usize, far_capacity: usize) -> Self {
        Partial {
            k,
            dim,
            sums: vec![0.0; k * dim],
            counts: vec![0; k],
            inertia: 0.0,
            farthest: Vec::new(),
            far_capacity,
            moved: 0,
        }
    }

    #[inline(always)]
    fn add(&mut self, label: usize, row: &[f32], distance: f32, cost: f64, order: u64) {
        let dim = self.dim;
        for (s, &x) in self.sums[label * dim..(label + 1) * dim].iter_mut().zip(row) {
            *s += f64::from(x);
        }
        self.counts[label] += 1;
        self.inertia += cost;
        let full = self.farthest.len() >= self.far_capacity;
        // Rows arrive in order, so an equal distance never displaces a kept row.
        if !full || self.farthest.last().is_some_and(|last| distance > last.distance) {
            self.keep_far(FarRow { distance, order, label: label as u32, row: row.to_vec() });
        }
    }

    #[cold]
    #[inline(never)]
    fn keep_far(&mut self, candidate: FarRow) {
        if self.far_capacity == 0 {
            return;
        }
        let at = self
            .farthest
            .partition_point(|kept| (kept.distance, std::cmp::Reverse(kept.order)) >= (candidate.distance, std::cmp::Reverse(candidate.order)));
        self.farthest.insert(at, candidate);
        self.farthest.truncate(self.far_capacity);
    }

    /// Adds `later`, which covers rows after those of `self`.
    pub(crate) fn merge(&mut self, later: Partial) {
        for (a, b) in self.sums.iter_mut().zip(&later.sums) {
            *a += b;
        }
        for (a, b) in self.counts.iter_mut().zip(&later.counts) {
            *a += b;
        }
        self.inertia += later.inertia;
        self.moved += later.moved;
        for candidate in later.farthest {
            let beats_last = self.farthest.last().is_none_or(|last| candidate.distance > last.distance);
            if self.farthest.len() < self.far_capacity || beats_last {
                self.keep_far(candidate);
            }
        }
    }
}

/// Assigns rows and accumulates into a [`Partial`]; optionally writes labels
/// and distances back.
struct AccumulateSink<'a> {
    prepared: &'a Prepared,
    norms: Option<&'a [f32]>,
    labels: Option<&'a mut [u32]>,
    distances: Option<&'a mut [f32]>,
    first_order: u64,
    partial: Partial,
}

impl RowSink for AccumulateSink<'_> {
    #[inline(always)]
    fn row(&mut self, index: usize, row: &[f32], scores: &[f32]) {
        let prepared = self.prepared;
        let (label, score) = argmin(scores, prepared.k);
        let norm = match (prepared.metric, self.norms) {
            (Metric::Cosine, _) => 1.0,
            (Metric::L2, Some(norms)) => norms[index],
            (Metric::L2, None) => sq_norm_f64(row) as f32,
        };
        let distance = prepared.distance(norm, score);
        if let Some(labels) = self.labels.as_deref_mut() {
            if labels[index] != label as u32 {
                labels[index] = label as u32;
                self.partial.moved += 1;
            }
        }
        if let Some(distances) = self.distances.as_deref_mut() {
            distances[index] = distance;
        }
        let cost = prepared.cost(norm, score);
        self.partial.add(label, row, distance, cost, self.first_order + index as u64);
    }
}

/// Where one assignment pass writes and what it keeps.
pub(crate) struct PassTargets<'a> {
    /// Squared row norms (L2), precomputed by the caller; computed on the fly if absent.
    pub(crate) norms: Option<&'a [f32]>,
    pub(crate) labels: Option<&'a mut [u32]>,
    pub(crate) distances: Option<&'a mut [f32]>,
    /// Order of the first row in the whole pass.
    pub(crate) first_order: u64,
    pub(crate) far_capacity: usize,
}

/// Assigns every row of `rows` to its nearest centroid, in parallel over
/// fixed-size leaves whose sums are merged in row order.
pub(crate) fn accumulate(prepared: &Prepared, rows: &[f32], targets: PassTargets<'_>) -> Partial {
    let dim = prepared.dim;
    let n = rows.len() / dim;
    let leaves = n.div_ceil(LEAF_ROWS);
    let mut label_parts: Vec<Option<&mut [u32]>> = match targets.labels {
        Some(labels) => labels.chunks_mut(LEAF_ROWS).map(Some).collect(),
        None => (0..leaves).map(|_| None).collect(),
    };
    let mut distance_parts: Vec<Option<&mut [f32]>> = match targets.distances {
        Some(distances) => distances.chunks_mut(LEAF_ROWS).map(Some).collect(),
        None => (0..leaves).map(|_| None).collect(),
    };
    let jobs: Vec<_> = rows
        .chunks(LEAF_ROWS * dim)
        .zip(label_parts.drain(..))
        .zip(distance_parts.drain(..))
        .enumerate()
        .collect();
    let partials: Vec<Partial> = jobs
        .into_par_iter()
        .map(|(leaf, ((leaf_rows, labels), distances))| {
            let start = leaf * LEAF_ROWS;
            let mut sink = AccumulateSink {
                prepared,
                norms: targets.norms.map(|norms| &norms[start..start + leaf_rows.len() / dim]),
                labels,
                distances,
                first_order: targets.first_order + start as u64,
                partial: Partial::new(prepared.k, dim, targets.far_capacity),
            };
            prepared.scan(leaf_rows, &mut sink);
            sink.partial
        })
        .collect();
    let mut parts = partials.into_iter();
    let mut total = parts.next().unwrap_or_else(|| Partial::new(prepared.k, dim, targets.far_capacity));
    for part in parts {
        total.merge(part);
    }
    total
}

/// New centroids from a finished pass.
#[derive(Debug, Clone)]
pub(crate) struct Update {
    pub(crate) centroids: Vec<f32>,
    /// Clusters that received no row in the pass (ascending).
    pub(crate) empty_clusters: Vec<usize>,
    /// `(order, new label)` of rows moved into empty clusters.
    pub(crate) relocated: Vec<(u64, u32)>,
    /// Largest Euclidean distance between an old and a new centroid.
    pub(crate) max_shift: f64,
}

/// Means of the clusters (renormalised under Cosine). Each empty cluster is
/// re-seeded with the farthest remaining row from its own centroid, taken
/// from a cluster that keeps at least one member (as scikit-learn does); when
/// no such row exists the cluster keeps its old centroid.
pub(crate) fn update_centroids(mut partial: Partial, old: &[f32], metric: Metric) -> Update {
    let (k, dim) = (partial.k, partial.dim);
    let empty_clusters: Vec<usize> = (0..k).filter(|&j| partial.counts[j] == 0).collect();
    let mut relocated = Vec::new();
    let mut candidates = std::mem::take(&mut partial.farthest).into_iter();
    for &empty in &empty_clusters {
        let donor = candidates.by_ref().find(|c| c.distance > 0.0 && partial.counts[c.label as usize] > 1);
        let Some(far) = donor else { break };
        let from = far.label as usize;
        for (p, &x) in far.row.iter().enumerate() {
            partial.sums[from * dim + p] -= f64::from(x);
            partial.sums[empty * dim + p] = f64::from(x);
        }
        partial.counts[from] -= 1;
        partial.counts[empty] = 1;
        relocated.push((far.order, empty as u32));
    }
    let mut centroids = old.to_vec();
    for j in 0..k {
        let count = partial.counts[j];
        if count == 0 {
            continue;
        }
        let sum = &partial.sums[j * dim..(j + 1) * dim];
        let scale = match metric {
            Metric::L2 => 1.0 / count as f64,
            Metric::Cosine => {
                let norm = sum.iter().map(|s| s * s).sum::<f64>().sqrt();
                // Members that cancel out exactly leave no direction: keep the old one.
                if norm == 0.0 {
                    continue;
                }
                1.0 / norm
            }
        };
        for (c, s) in centroids[j * dim..(j + 1) * dim].iter_mut().zip(sum) {
            *c = (s * scale) as f32;
        }
    }
    let max_shift = old
        .chunks_exact(dim)
        .zip(centroids.chunks_exact(dim))
        .map(|(a, b)| sq_distance_f64(a, b).sqrt())
        .fold(0.0, f64::max);
    Update { centroids, empty_clusters, relocated, max_shift }
}

