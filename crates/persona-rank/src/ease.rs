//! EASE (Steck 2019, "Embarrassingly Shallow Autoencoders"): the item-item
//! weights B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹ and diag(B) = 0,
//! the closed-form ridge regression of each item on all the others.

use rayon::prelude::*;

use crate::error::{checked_len, zeroed, RankError};
use crate::interactions::{check_items, distinct_sorted, item_popularity, most_popular};
use crate::item_model::ItemItemModel;
use crate::scalar::Scalar;
use crate::spd_inverse::spd_inverse_with;
use crate::stop::{check, ShouldStop, NEVER};

/// The most items a dense EASE fit accepts. Fitting m items holds two m × m
/// matrices of the working precision plus the m × m f32 result: 20,000
/// items is 8 GB in f64, and (20,000 / 12,101)³ ≈ 4.5 times the time of
/// Amazon Beauty's catalogue. Larger catalogues must set
/// [`EaseConfig::max_items`].
pub const EASE_MAX_ITEMS: usize = 20_000;

/// The floating-point type the inverse runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// About twice as fast and half the memory; enough for λ ≥ 1 on count data.
    F32,
    /// The safe default for small λ or very popular items.
    F64,
}

/// EASE settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EaseConfig {
    /// The L2 penalty λ added to the diagonal of XᵀX.
    pub lambda: f64,
    /// Fit only the `m` most popular items (the inverse is dense, O(m³)).
    pub max_items: Option<usize>,
    pub precision: Precision,
}

impl Default for EaseConfig {
    fn default() -> Self {
        EaseConfig {
            lambda: 200.0,
            max_items: None,
            precision: Precision::F64,
        }
    }
}

/// Fits EASE on binary user × item interactions (repeats count once).
pub fn fit_ease<H: AsRef<[u32]> + Sync>(
    histories: &[H],
    n_items: usize,
    config: &EaseConfig,
) -> Result<ItemItemModel, RankError> {
    fit_ease_with(histories, n_items, config, NEVER)
}

/// [`fit_ease`], asking `stop` between blocks of work (a few milliseconds
/// each, whatever the catalogue size); once it says so, returns
/// [`RankError::Cancelled`].
pub fn fit_ease_with<H: AsRef<[u32]> + Sync>(
    histories: &[H],
    n_items: usize,
    config: &EaseConfig,
    stop: ShouldStop<'_>,
) -> Result<ItemItemModel, RankError> {
    if !(config.lambda > 0.0 && config.lambda.is_finite()) {
        return Err(RankError::InvalidParameter {
            name: "lambda",
            reason: "must be positive and finite",
        });
    }
    check_items(histories, n_items)?;
    if config.max_items.unwrap_or(n_items).min(n_items) > EASE_MAX_ITEMS {
        return Err(RankError::InvalidParameter {
            name: "max_items",
            reason: "EASE is dense: fit at most EASE_MAX_ITEMS (20,000) items",
        });
    }
    let subset: Vec<u32> = match config.max_items {
        Some(m) if m < n_items => {
            let mut chosen = most_popular(&item_popularity(histories, n_items)?, m);
            chosen.sort_unstable();
            chosen
        }
        _ => (0..n_items as u32).collect(),
    };
    let weights = match config.precision {
        Precision::F32 => ease_weights::<f32, H>(histories, n_items, &subset, config.lambda, stop)?,
        Precision::F64 => ease_weights::<f64, H>(histories, n_items, &subset, config.lambda, stop)?,
    };
    ItemItemModel::dense(n_items, subset, weights)
}

/// B over `subset`, row-major f32.
fn ease_weights<T: Scalar, H: AsRef<[u32]> + Sync>(
    histories: &[H],
    n_items: usize,
    subset: &[u32],
    lambda: f64,
    stop: ShouldStop<'_>,
) -> Result<Vec<f32>, RankError> {
    let m = subset.len();
    let mut position = vec![u32::MAX; n_items];
    for (p, &item) in subset.iter().enumerate() {
        position[item as usize] = p as u32;
    }
    // Each user's modelled items as sorted subset positions: the nonzeros of X.
    let rows: Vec<Vec<u32>> = histories
        .par_iter()
        .map(|h| {
            let mut row: Vec<u32> = distinct_sorted(h.as_ref())
                .into_iter()
                .map(|i| position[i as usize])
                .filter(|&p| p != u32::MAX)
                .collect();
            row.sort_unstable();
            row
        })
        .collect();
    check(stop)?;
    let gram = gram_plus_ridge::<T>(&rows, m, T::from_f64(lambda), stop)?;
    let inverse = spd_inverse_with(gram, m, stop)?;
    let mut weights: Vec<f32> = zeroed(checked_len(m, m, "EASE weights")?, "EASE weights")?;
    if m == 0 {
        return Ok(weights);
    }
    // B[i, j] = −P[i, j] / P[j, j] off the diagonal; P is symmetric, so row i
    // of P is contiguous in its column-major buffer.
    weights
        .par_chunks_mut(m)
        .enumerate()
        .try_for_each(|(i, row)| {
            check(stop)?;
            let p_row = &inverse[i * m..(i + 1) * m];
            for (j, b) in row.iter_mut().enumerate() {
                *b = if i == j {
                    0.0
                } else {
                    (-p_row[j] / inverse[j * m + j]).to_f32()
                };
            }
            Ok(())
        })?;
    Ok(weights)
}

/// XᵀX + λI for binary X given as sorted nonzero columns per user. Each task
/// owns a band of columns and scans every user, so no two tasks write the
/// same entry. `stop` is asked every `STOP_EVERY` users of a band.
fn gram_plus_ridge<T: Scalar>(
    rows: &[Vec<u32>],
    m: usize,
    lambda: T,
    stop: ShouldStop<'_>,
) -> Result<Vec<T>, RankError> {
    const BAND: usize = 256;
    const STOP_EVERY: usize = 4096;
    let mut gram: Vec<T> = zeroed(checked_len(m, m, "EASE gram matrix")?, "EASE gram matrix")?;
    if m == 0 {
        return Ok(gram);
    }
    gram.par_chunks_mut(BAND * m)
        .enumerate()
        .try_for_each(|(band, columns)| {
            let first = (band * BAND) as u32;
            let last = first + (columns.len() / m) as u32;
            for (r, row) in rows.iter().enumerate() {
                if r % STOP_EVERY == 0 {
                    check(stop)?;
                }
                let lo = row.partition_point(|&c| c < first);
                let hi = row.partition_point(|&c| c < last);
                for &col in &row[lo..hi] {
                    let column =
                        &mut columns[(col - first) as usize * m..(col - first + 1) as usize * m];
                    for &other in row {
                        column[other as usize] = column[other as usize] + T::ONE;
                    }
                }
            }
            for c in 0..columns.len() / m {
                let d = first as usize + c;
                columns[c * m + d] = columns[c * m + d] + lambda;
            }
            Ok(())
        })?;
    Ok(gram)
}
