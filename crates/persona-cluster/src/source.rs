//! Where the rows of a training come from: memory, or a source read again
//! on every pass (a database table larger than the memory allowed).

use crate::data::{check_rows, normalize_rows};
use crate::rng::SplitMix64;
use crate::{ClusterError, Metric};

/// Rows of `f32` of one fixed dimension, for any algorithm of this crate.
///
/// A source that holds its rows returns them from
/// [`in_memory`](RowSource::in_memory) and is never asked for a pass. One
/// that does not reads them again on each [`pass`](RowSource::pass), in the
/// same order every time, and keeps a [`sample`](RowSource::sample) in
/// memory for the work that needs rows at random (seeding, silhouette).
/// Everything runs on the caller's thread, so a pass may call into a host
/// that is not thread-safe (a database backend).
pub trait RowSource {
    /// Values per row, at least 1.
    fn dim(&self) -> usize;

    /// Number of rows; every pass gives exactly these.
    fn rows(&self) -> usize;

    /// Every row, row-major, when the source holds them.
    fn in_memory(&self) -> Option<&[f32]>;

    /// A uniform sample of the rows, row-major, the same on every call (all
    /// rows when there are few enough). Never empty when `rows() > 0`.
    fn sample(&self) -> &[f32];

    /// Hands every row once to `each`, in chunks of whole rows and in the
    /// order of every other pass. Stops at the first error `each` returns
    /// and returns it; errors of the source's own come back the same way.
    fn pass(&self, each: &mut dyn FnMut(&[f32]) -> Result<(), ClusterError>) -> Result<(), ClusterError>;
}

/// The first read of a source, one row at a time: keeps every row while
/// they fit in a memory budget, and a uniform sample of them whatever their
/// number (reservoir sampling, Vitter's algorithm R, deterministic for a
/// seed). Under Cosine the rows kept are normalised.
#[derive(Debug, Clone)]
pub struct FirstRead {
    metric: Metric,
    sample_size: usize,
    budget_bytes: usize,
    dim: usize,
    rows: usize,
    data: Vec<f32>,
    in_memory: bool,
    sample: Vec<f32>,
    rng: SplitMix64,
    row: Vec<f32>,
}

/// What a [`FirstRead`] kept.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptRows {
    /// Values per row (0 when no row was read).
    pub dim: usize,
    /// Rows read.
    pub rows: usize,
    /// Every row, when they fitted in the budget.
    pub data: Option<Vec<f32>>,
    /// At most `sample_size` rows drawn uniformly.
    pub sample: Vec<f32>,
}

/// The sample's own stream, apart from the restarts' (which use the seed itself).
const SAMPLE_STREAM: u64 = 0x5EED;

impl FirstRead {
    /// Keeps up to `sample_size` rows in the sample and every row while they
    /// take at most `budget_bytes`.
    pub fn new(metric: Metric, sample_size: usize, budget_bytes: usize, seed: u64) -> Self {
        FirstRead {
            metric,
            sample_size,
            budget_bytes,
            dim: 0,
            rows: 0,
            data: Vec::new(),
            in_memory: true,
            sample: Vec::new(),
            rng: SplitMix64::new(seed ^ SAMPLE_STREAM),
            row: Vec::new(),
        }
    }

    /// Values per row, from the first row (0 before it).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Rows read so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Reads one row. The first row fixes the dimension; a row of another
    /// length, with a NaN or infinity, or (under Cosine) of zeros is an error.
    pub fn push(&mut self, row: &[f32]) -> Result<(), ClusterError> {
        if self.dim == 0 {
            self.dim = row.len();
        }
        let dim = self.dim;
        if row.len() != dim {
            return Err(ClusterError::LengthMismatch { left: row.len(), right: dim });
        }
        check_rows(row, dim)?;
        self.row.clear();
        self.row.extend_from_slice(row);
        if self.metric == Metric::Cosine {
            normalize_rows(&mut self.row, dim)?;
        }
        self.rows += 1;
        let seen = self.rows as u64;
        if self.rows <= self.sample_size {
            self.sample.extend_from_slice(&self.row);
        } else {
            // Row `seen` replaces a kept one with probability sample_size / seen.
            let j = (self.rng.next_u64() % seen) as usize;
            if j < self.sample_size {
                self.sample[j * dim..(j + 1) * dim].copy_from_slice(&self.row);
            }
        }
        if self.in_memory {
            if (self.data.len() + dim) * std::mem::size_of::<f32>() > self.budget_bytes {
                self.in_memory = false;
                self.data = Vec::new();
            } else {
                self.data.extend_from_slice(&self.row);
            }
        }
        Ok(())
    }

    /// What was kept.
    pub fn finish(self) -> KeptRows {
        KeptRows { dim: self.dim, rows: self.rows, data: self.in_memory.then_some(self.data), sample: self.sample }
    }
}

/// Rows of a slice, in memory or, for callers that want the out-of-memory
/// path (and tests of it), handed out in passes of `chunk_rows` rows.
#[derive(Debug, Clone)]
pub struct SliceRows<'a> {
    data: &'a [f32],
    dim: usize,
    rows: usize,
    sample: Vec<f32>,
    chunk_rows: Option<usize>,
}

impl<'a> SliceRows<'a> {
    /// All of `data` in memory, with the sample a [`FirstRead`] of it with
    /// these settings would draw.
    pub fn new(data: &'a [f32], dim: usize, metric: Metric, sample_size: usize, seed: u64) -> Result<Self, ClusterError> {
        let rows = check_rows(data, dim)?;
        let mut first = FirstRead::new(metric, sample_size, 0, seed);
        for row in data.chunks_exact(dim) {
            first.push(row)?;
        }
        Ok(SliceRows { data, dim, rows, sample: first.finish().sample, chunk_rows: None })
    }

    /// The same rows, read in passes of `chunk_rows` (at least 1) rows.
    pub fn in_passes(mut self, chunk_rows: usize) -> Self {
        self.chunk_rows = Some(chunk_rows.max(1));
        self
    }
}

impl RowSource for SliceRows<'_> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn rows(&self) -> usize {
        self.rows
    }

    fn in_memory(&self) -> Option<&[f32]> {
        self.chunk_rows.is_none().then_some(self.data)
    }

    fn sample(&self) -> &[f32] {
        &self.sample
    }

    fn pass(&self, each: &mut dyn FnMut(&[f32]) -> Result<(), ClusterError>) -> Result<(), ClusterError> {
        let chunk = self.chunk_rows.unwrap_or(self.rows).max(1) * self.dim;
        self.data.chunks(chunk).try_for_each(each)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_decides_memory_and_the_sample_is_bounded() {
        let rows: Vec<[f32; 2]> = (0..100).map(|i| [i as f32, 1.0]).collect();
        let read = |budget| {
            let mut first = FirstRead::new(Metric::L2, 10, budget, 3);
            rows.iter().for_each(|r| first.push(r).unwrap());
            first.finish()
        };
        let all = read(usize::MAX);
        assert_eq!((all.dim, all.rows, all.data.as_ref().map(Vec::len)), (2, 100, Some(200)));
        assert_eq!(all.sample.len(), 20);
        let tight = read(100 * 2 * 4 - 1);
        assert_eq!(tight.data, None);
        assert_eq!(tight.sample, all.sample);
    }

    #[test]
    fn bad_rows_are_refused() {
        let mut first = FirstRead::new(Metric::Cosine, 10, usize::MAX, 3);
        first.push(&[3.0, 4.0]).unwrap();
        assert_eq!(first.push(&[1.0]), Err(ClusterError::LengthMismatch { left: 1, right: 2 }));
        assert!(matches!(first.push(&[f32::NAN, 1.0]), Err(ClusterError::NotFinite { .. })));
        assert!(matches!(first.push(&[0.0, 0.0]), Err(ClusterError::ZeroVector { .. })));
        assert_eq!(first.finish().data, Some(vec![0.6, 0.8]));
    }

    #[test]
    fn slice_passes_give_every_row_in_order() {
        let data: Vec<f32> = (0..14).map(|i| i as f32).collect();
        let source = SliceRows::new(&data, 2, Metric::L2, 3, 1).unwrap().in_passes(3);
        assert!(source.in_memory().is_none());
        let mut seen = Vec::new();
        source.pass(&mut |chunk| {
            assert!(chunk.len() <= 6);
            seen.extend_from_slice(chunk);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, data);
        assert_eq!(source.sample().len(), 6);
    }
}
