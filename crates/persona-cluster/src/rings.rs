//! Rings: groups of near-identical rows (accounts that behave as one), by
//! linfa's DBSCAN over every row of a source.
//!
//! Plain DBSCAN asks one region query per row; in hundreds of dimensions no
//! tree answers them faster than a scan, so a table of a hundred thousand
//! rows would cost every pair of rows. Three steps keep it near-linear, and
//! give the labels DBSCAN gives on all rows:
//!
//! 1. Identical rows are counted once. A row repeated `m` times is handed
//!    to DBSCAN `min(m, min_points)` times: a neighbourhood's count then
//!    reaches `min_points` exactly when the full count does.
//! 2. Rows with no neighbour closer than eps are noise whatever the rest
//!    (`min_points >= 2`), and no ring's neighbourhood reaches them. They are
//!    found from LSH buckets ([`crate::lsh`]), every shared bucket checked
//!    with the exact distance, and dropped.
//! 3. DBSCAN runs on the rest, its region queries answered from the same
//!    buckets ([`crate::ring_index`]).
//!
//! The one approximation is the buckets': a neighbour at a distance just
//! under eps is missed with a small probability (see [`crate::lsh`]); rows
//! of a ring, much closer than eps to each other, are not.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::Hasher;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use linfa::traits::Transformer;
use linfa::ParamGuard;
use linfa_clustering::Dbscan;
use linfa_nn::distance::L2Dist;
use ndarray::Array2;
use rayon::prelude::*;

use crate::data::{prepare_rows, sq_distance_f64};
use crate::lsh::{Buckets, Lsh, TABLES};
use crate::ring_index::LshNeighbours;
use crate::{ClusterError, Hooks, RowSource, ValidRingParams};

/// Rows hashed per block between two stop checks.
const HASH_BLOCK_ROWS: usize = 16_384;

/// What [`rings`] reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RingProgress {
    /// Every row is read; identical rows are counted once.
    Read {
        /// Rows of the source.
        rows: usize,
        /// Distinct rows among them.
        distinct: usize,
        /// Wall time so far.
        seconds: f64,
    },
    /// One LSH table was searched for neighbours.
    Table {
        /// Table, from 1.
        table: usize,
        /// Tables in all.
        tables: usize,
        /// Distinct rows known so far to have a neighbour closer than eps.
        candidates: usize,
    },
    /// DBSCAN is done.
    Clustered {
        /// Rings found.
        rings: usize,
        /// Rows in no ring.
        noise: usize,
        /// Wall time of the whole search.
        seconds: f64,
    },
}

/// The rings of a source's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Rings {
    /// Per row, in source order: its ring, or `None` for a row in none.
    pub label: Vec<Option<u32>>,
    /// Rows per ring, largest first (ring 0 is the largest; ties go to the
    /// ring whose first row comes first).
    pub sizes: Vec<usize>,
    /// Distinct rows (identical rows counted once).
    pub distinct_rows: usize,
    /// Distinct rows with a neighbour closer than eps: those DBSCAN ran on.
    pub candidate_rows: usize,
}

/// Every row of `source`, prepared for the metric, with the stop checked between chunks.
fn read_rows(source: &dyn RowSource, params: &ValidRingParams, hooks: &Hooks<'_, RingProgress>) -> Result<Vec<f32>, ClusterError> {
    let dim = source.dim();
    let raw = match source.in_memory() {
        Some(data) => data.to_vec(),
        None => {
            let mut all = Vec::with_capacity(source.rows() * dim);
            source.pass(&mut |chunk| {
                all.extend_from_slice(chunk);
                hooks.check()
            })?;
            all
        }
    };
    let (rows, n) = prepare_rows(&raw, dim, params.metric)?;
    if n != source.rows() {
        return Err(ClusterError::SourceChanged { expected: source.rows(), got: n });
    }
    Ok(rows.into_owned())
}

/// Identical rows, counted once.
struct Distinct {
    /// Distinct rows, row-major, in order of first appearance.
    rows: Vec<f32>,
    /// Per source row, its distinct row.
    of_row: Vec<u32>,
    /// Per distinct row, how often it appears.
    count: Vec<usize>,
}

fn distinct_rows(rows: &[f32], dim: usize) -> Distinct {
    // Bit patterns, with -0 as 0: the two are the same point.
    let same = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits() || (*x == 0.0 && *y == 0.0));
    let fingerprint = |row: &[f32]| {
        let mut h = DefaultHasher::new();
        row.iter().for_each(|&x| h.write_u32(if x == 0.0 { 0 } else { x.to_bits() }));
        h.finish()
    };
    // Fingerprint to the distinct rows that have it (almost always one).
    let mut seen: HashMap<u64, Vec<u32>> = HashMap::new();
    let mut out = Distinct { rows: Vec::new(), of_row: Vec::with_capacity(rows.len() / dim), count: Vec::new() };
    for row in rows.chunks_exact(dim) {
        let ids = seen.entry(fingerprint(row)).or_default();
        let known = ids.iter().copied().find(|&i| same(&out.rows[i as usize * dim..(i as usize + 1) * dim], row));
        let id = known.unwrap_or_else(|| {
            let next = out.count.len() as u32;
            ids.push(next);
            out.rows.extend_from_slice(row);
            out.count.push(0);
            next
        });
        out.count[id as usize] += 1;
        out.of_row.push(id);
    }
    out
}

/// Values summed between two looks at a partial distance.
const DISTANCE_BLOCK: usize = 32;

/// Whether `|a - b|² < limit`, giving up as soon as a partial sum reaches
/// it: most rows sharing a bucket are far apart, and show it early.
fn closer_than(a: &[f32], b: &[f32], limit: f64) -> bool {
    let mut sum = 0.0;
    for (x, y) in a.chunks(DISTANCE_BLOCK).zip(b.chunks(DISTANCE_BLOCK)) {
        sum += sq_distance_f64(x, y);
        if sum >= limit {
            return false;
        }
    }
    true
}

/// Marks the distinct rows with a neighbour closer than `eps` in some
/// shared bucket; repeated rows already have one.
fn mark_candidates(
    d: &Distinct,
    dim: usize,
    buckets: &Buckets,
    eps: f32,
    hooks: &Hooks<'_, RingProgress>,
) -> Result<Vec<bool>, ClusterError> {
    let marks: Vec<AtomicBool> = d.count.iter().map(|&c| AtomicBool::new(c > 1)).collect();
    let limit = f64::from(eps) * f64::from(eps);
    let row = |i: u32| &d.rows[i as usize * dim..(i as usize + 1) * dim];
    for t in 0..TABLES {
        hooks.check()?;
        hooks.run(|| {
            let groups: Vec<&[(u64, u32)]> = buckets.shared(t).collect();
            groups.par_iter().for_each(|group| {
                for (a, &(_, i)) in group.iter().enumerate() {
                    if marks[i as usize].load(Ordering::Relaxed) {
                        continue;
                    }
                    // The first neighbour is enough: DBSCAN itself counts them.
                    let near = group.iter().enumerate().find(|&(b, &(_, j))| b != a && closer_than(row(i), row(j), limit));
                    if let Some((_, &(_, j))) = near {
                        marks[i as usize].store(true, Ordering::Relaxed);
                        marks[j as usize].store(true, Ordering::Relaxed);
                    }
                }
            });
        })?;
        let candidates = marks.iter().filter(|m| m.load(Ordering::Relaxed)).count();
        (hooks.progress)(RingProgress::Table { table: t + 1, tables: TABLES, candidates });
    }
    Ok(marks.into_iter().map(AtomicBool::into_inner).collect())
}

/// Finds the rings of `source`: DBSCAN with radius eps (rows strictly
/// closer are neighbours; under Cosine the rows are normalised and eps, a
/// cosine distance, becomes the Euclidean `sqrt(2 eps)`) and `min_points`
/// (a row's neighbourhood counts the row itself). Deterministic.
pub fn rings(source: &dyn RowSource, params: &ValidRingParams, hooks: &Hooks<'_, RingProgress>) -> Result<Rings, ClusterError> {
    let started = Instant::now();
    let (n, dim) = (source.rows(), source.dim());
    if n == 0 {
        return Err(ClusterError::EmptyData);
    }
    if dim == 0 {
        return Err(ClusterError::ZeroDimension);
    }
    let rows = read_rows(source, params, hooks)?;
    let d = hooks.run(|| distinct_rows(&rows, dim))?;
    drop(rows);
    let nd = d.count.len();
    (hooks.progress)(RingProgress::Read { rows: n, distinct: nd, seconds: started.elapsed().as_secs_f64() });

    // The radius as linfa will compare it, in f32.
    let eps = params.eps_l2 as f32;
    let lsh = Arc::new(Lsh::new(dim, f64::from(eps)));
    let mut keys = Vec::with_capacity(nd * TABLES);
    for block in d.rows.chunks(HASH_BLOCK_ROWS * dim) {
        hooks.check()?;
        keys.extend(hooks.run(|| lsh.keys_of_rows(block))?);
    }
    let buckets = hooks.run(|| Buckets::new(&keys))?;
    let marked = mark_candidates(&d, dim, &buckets, eps, hooks)?;
    drop(buckets);

    // Each candidate up to min_points times, with its keys.
    let candidates: Vec<u32> = (0..nd as u32).filter(|&i| marked[i as usize]).collect();
    let mut owner = Vec::new();
    for &i in &candidates {
        owner.extend(std::iter::repeat_n(i, d.count[i as usize].min(params.min_points)));
    }
    let mut batch = Vec::with_capacity(owner.len() * dim);
    let mut batch_keys = Vec::with_capacity(owner.len() * TABLES);
    for &i in &owner {
        let i = i as usize;
        batch.extend_from_slice(&d.rows[i * dim..(i + 1) * dim]);
        batch_keys.extend_from_slice(&keys[i * TABLES..(i + 1) * TABLES]);
    }
    drop(keys);
    hooks.check()?;
    let mut ring_of_distinct: Vec<Option<usize>> = vec![None; nd];
    if !owner.is_empty() {
        let batch = Array2::from_shape_vec((owner.len(), dim), batch).map_err(|_| ClusterError::RaggedData { len: 0, dim })?;
        let index = LshNeighbours { lsh, keys: Arc::new(batch_keys) };
        let dbscan = Dbscan::params_with(params.min_points, L2Dist, index)
            .tolerance(eps)
            .check()
            .map_err(|e| ClusterError::InvalidSetting(e.to_string()))?;
        let labels = hooks
            .run(|| catch_unwind(AssertUnwindSafe(|| dbscan.transform(&batch))))?
            .map_err(|_| ClusterError::FitFailed("DBSCAN failed on these rows".to_owned()))?;
        // Copies of a row share its label; the first speaks for them.
        for (&i, label) in owner.iter().zip(labels.iter()).rev() {
            ring_of_distinct[i as usize] = *label;
        }
    }

    // Rings by size, then by first row.
    let found = ring_of_distinct.iter().flatten().max().map_or(0, |&m| m + 1);
    let mut size = vec![0usize; found];
    let mut first = vec![usize::MAX; found];
    for (r, &i) in d.of_row.iter().enumerate() {
        if let Some(ring) = ring_of_distinct[i as usize] {
            size[ring] += 1;
            first[ring] = first[ring].min(r);
        }
    }
    let mut order: Vec<usize> = (0..found).filter(|&g| size[g] > 0).collect();
    order.sort_by_key(|&g| (std::cmp::Reverse(size[g]), first[g]));
    let mut new_id = vec![u32::MAX; found];
    for (rank, &g) in order.iter().enumerate() {
        new_id[g] = rank as u32;
    }
    let label: Vec<Option<u32>> = d.of_row.iter().map(|&i| ring_of_distinct[i as usize].map(|g| new_id[g])).collect();
    let sizes: Vec<usize> = order.iter().map(|&g| size[g]).collect();
    let noise = n - sizes.iter().sum::<usize>();
    (hooks.progress)(RingProgress::Clustered { rings: sizes.len(), noise, seconds: started.elapsed().as_secs_f64() });
    Ok(Rings { label, sizes, distinct_rows: nd, candidate_rows: candidates.len() })
}
