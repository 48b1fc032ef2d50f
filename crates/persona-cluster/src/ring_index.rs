//! The region queries of linfa's DBSCAN, answered from LSH buckets instead
//! of a k-d tree: in hundreds of dimensions a tree prunes almost nothing and
//! every query becomes a scan of all rows.

use std::sync::Arc;

use linfa::Float;
use linfa_nn::distance::Distance;
use linfa_nn::{BuildError, NearestNeighbour, NearestNeighbourIndex, NnError};
use ndarray::{ArrayBase, ArrayView1, ArrayView2, Data, Ix2};

use crate::lsh::{Buckets, Lsh, TABLES};

/// Relative gap between a queried range and the hashes' radius still
/// answered from the buckets.
const RADIUS_SLACK: f64 = 1e-6;

/// Builds [`LshIndex`]es for linfa; carries the hash functions and, when the
/// caller has them, the keys of the batch it will be given.
#[derive(Debug, Clone)]
pub(crate) struct LshNeighbours {
    pub lsh: Arc<Lsh>,
    /// `rows × TABLES` keys of the batch, or empty to hash it here.
    pub keys: Arc<Vec<u64>>,
}

/// Row-major `f32` copy of a row of any float type (the hashes are made on `f32`).
fn to_f32<F: Float>(row: ArrayView1<'_, F>) -> Vec<f32> {
    row.iter().map(|x| x.to_f32().unwrap_or(f32::NAN)).collect()
}

impl NearestNeighbour for LshNeighbours {
    fn from_batch_with_leaf_size<'a, F: Float, DT: Data<Elem = F>, D: 'a + Distance<F>>(
        &self,
        batch: &'a ArrayBase<DT, Ix2>,
        _leaf_size: usize,
        dist_fn: D,
    ) -> Result<Box<dyn 'a + Send + Sync + NearestNeighbourIndex<F>>, BuildError> {
        if batch.ncols() == 0 {
            return Err(BuildError::ZeroDimension);
        }
        let keys = if self.keys.len() == batch.nrows() * TABLES {
            Arc::clone(&self.keys)
        } else {
            let rows: Vec<f32> = batch.rows().into_iter().flat_map(to_f32).collect();
            Arc::new(self.lsh.keys_of_rows(&rows))
        };
        let buckets = Buckets::new(&keys);
        Ok(Box::new(LshIndex { batch: batch.view(), dist_fn, lsh: Arc::clone(&self.lsh), keys, buckets }))
    }
}

/// Rows of a batch and their buckets.
pub(crate) struct LshIndex<'a, F: Float, D: Distance<F>> {
    batch: ArrayView2<'a, F>,
    dist_fn: D,
    lsh: Arc<Lsh>,
    keys: Arc<Vec<u64>>,
    buckets: Buckets,
}

impl<F: Float, D: Distance<F>> LshIndex<'_, F, D> {
    /// The batch row `point` is a view of, if it is one: DBSCAN only asks
    /// about its own rows, whose keys are then looked up, not recomputed.
    fn row_of(&self, point: &ArrayView1<'_, F>) -> Option<usize> {
        let (n, dim) = self.batch.dim();
        if n == 0 || point.len() != dim {
            return None;
        }
        let base = self.batch.as_ptr() as usize;
        let at = point.as_ptr() as usize;
        let row_bytes = self.batch.strides()[0].unsigned_abs() * std::mem::size_of::<F>();
        let i = at.checked_sub(base)?.checked_div(row_bytes)?;
        (i < n && self.batch.row(i).as_ptr() == point.as_ptr() && self.batch.row(i).strides() == point.strides()).then_some(i)
    }

    /// Rows sharing a bucket with `point` in some table, each once, ascending.
    fn candidates(&self, point: &ArrayView1<'_, F>) -> Vec<usize> {
        let mut own = [0u64; TABLES];
        let keys: &[u64] = match self.row_of(point) {
            Some(i) => &self.keys[i * TABLES..(i + 1) * TABLES],
            None => {
                self.lsh.keys_into(&to_f32(point.view()), &mut own);
                &own
            }
        };
        let mut rows: Vec<usize> =
            keys.iter().enumerate().flat_map(|(t, &key)| self.buckets.bucket(t, key).iter().map(|e| e.1 as usize)).collect();
        rows.sort_unstable();
        rows.dedup();
        rows
    }
}

impl<F: Float, D: Distance<F>> NearestNeighbourIndex<F> for LshIndex<'_, F, D> {
    /// By a scan of every row: DBSCAN never asks for it.
    fn k_nearest(&self, point: ArrayView1<'_, F>, k: usize) -> Result<Vec<(ArrayView1<'_, F>, usize)>, NnError> {
        if point.len() != self.batch.ncols() {
            return Err(NnError::WrongDimension);
        }
        let mut all: Vec<(F, usize)> =
            self.batch.rows().into_iter().enumerate().map(|(i, row)| (self.dist_fn.rdistance(point.view(), row), i)).collect();
        all.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal).then(a.1.cmp(&b.1)));
        Ok(all.into_iter().take(k).map(|(_, i)| (self.batch.row(i), i)).collect())
    }

    /// Rows strictly closer than `range`, as linfa's own indexes give them.
    /// Within the radius the hashes were made for, from the buckets (a row
    /// at the radius is missed with the small probability of [`crate::lsh`]);
    /// beyond it, by a scan, so that a larger range is never answered short.
    fn within_range(&self, point: ArrayView1<'_, F>, range: F) -> Result<Vec<(ArrayView1<'_, F>, usize)>, NnError> {
        if point.len() != self.batch.ncols() {
            return Err(NnError::WrongDimension);
        }
        let limit = self.dist_fn.dist_to_rdist(range);
        // The slack covers the radius rounded to the batch's float type.
        let within = range.to_f64().is_some_and(|r| r <= self.lsh.radius() * (1.0 + RADIUS_SLACK));
        let rows = if within { self.candidates(&point) } else { (0..self.batch.nrows()).collect() };
        Ok(rows
            .into_iter()
            .filter(|&i| self.dist_fn.rdistance(point.view(), self.batch.row(i)) < limit)
            .map(|i| (self.batch.row(i), i))
            .collect())
    }
}
