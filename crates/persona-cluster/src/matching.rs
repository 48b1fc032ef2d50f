//! Optimal one-to-one matching, used to keep segment ids stable when a model
//! is retrained: new centroids inherit the ids of the old ones they match.

use crate::data::{centroid_count, prepare_rows, reported_distance};
use crate::{ClusterError, Metric};

/// Minimum-cost assignment of rows to columns of a `n_rows × n_cols`
/// row-major cost matrix (Kuhn–Munkres, in the O(n² m) shortest augmenting
/// path form with potentials).
///
/// Returns, for each row, its column. A rectangular matrix is allowed: with
/// more rows than columns, exactly `n_cols` rows get a column and the rest
/// `None`; otherwise every row gets a distinct column. Costs must be finite
/// (use a large finite value to discourage a pair).
pub fn hungarian_min_cost(cost: &[f64], n_rows: usize, n_cols: usize) -> Result<Vec<Option<usize>>, ClusterError> {
    if cost.len() != n_rows * n_cols {
        return Err(ClusterError::LengthMismatch { left: cost.len(), right: n_rows * n_cols });
    }
    if let Some(index) = cost.iter().position(|c| !c.is_finite()) {
        return Err(ClusterError::NotFinite { row: index / n_cols, column: index % n_cols });
    }
    if n_rows == 0 || n_cols == 0 {
        return Ok(vec![None; n_rows]);
    }
    if n_rows <= n_cols {
        return Ok(solve(cost, n_rows, n_cols).into_iter().map(Some).collect());
    }
    // More rows than columns: match every column to a row instead.
    let mut transposed = vec![0.0; cost.len()];
    for r in 0..n_rows {
        for c in 0..n_cols {
            transposed[c * n_rows + r] = cost[r * n_cols + c];
        }
    }
    let mut rows = vec![None; n_rows];
    for (column, row) in solve(&transposed, n_cols, n_rows).into_iter().enumerate() {
        rows[row] = Some(column);
    }
    Ok(rows)
}

/// Column of each row for `n <= m`, all costs finite.
fn solve(cost: &[f64], n: usize, m: usize) -> Vec<usize> {
    // 1-based as in the classic formulation: row/column 0 is a sentinel.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut row_of = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        row_of[0] = i;
        let mut j0 = 0;
        let mut min_slack = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = row_of[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let slack = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                if slack < min_slack[j] {
                    min_slack[j] = slack;
                    way[j] = j0;
                }
                if min_slack[j] < delta {
                    delta = min_slack[j];
                    j1 = j;
                }
            }
            // With n <= m and finite costs an unused column always exists.
            if j1 == 0 {
                break;
            }
            for j in 0..=m {
                if used[j] {
                    u[row_of[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_slack[j] -= delta;
                }
            }
            j0 = j1;
            if row_of[j0] == 0 {
                break;
            }
        }
        // Flip the augmenting path back to the root.
        while j0 != 0 {
            let j1 = way[j0];
            row_of[j0] = row_of[j1];
            j0 = j1;
        }
    }
    let mut column_of = vec![0usize; n];
    for j in 1..=m {
        if row_of[j] != 0 {
            column_of[row_of[j] - 1] = j - 1;
        }
    }
    column_of
}

/// For each centroid of `new` (`k_new × dim`), the centroid of `old`
/// (`k_old × dim`) it takes over, matching so that the summed distance
/// (Euclidean, or `1 - cos` under Cosine) is minimal. With more new
/// centroids than old, the extra ones get `None` and need fresh ids.
pub fn match_centroids(new: &[f32], old: &[f32], dim: usize, metric: Metric) -> Result<Vec<Option<usize>>, ClusterError> {
    let k_new = centroid_count(new, dim)?;
    let k_old = centroid_count(old, dim)?;
    let new = prepare_rows(new, dim, metric)?.0;
    let old = prepare_rows(old, dim, metric)?.0;
    let cost: Vec<f64> = new
        .chunks_exact(dim)
        .flat_map(|a| old.chunks_exact(dim).map(move |b| reported_distance(a, b, metric)))
        .collect();
    hungarian_min_cost(&cost, k_new, k_old)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_square_and_rectangular_cases() {
        // SciPy's linear_sum_assignment example: columns 1, 0, 2, total 5.
        let square = [4.0, 1.0, 3.0, 2.0, 0.0, 5.0, 3.0, 2.0, 2.0];
        assert_eq!(hungarian_min_cost(&square, 3, 3), Ok(vec![Some(1), Some(0), Some(2)]));
        // Four workers, three jobs: worker 2 is the costliest everywhere and stays idle.
        let tall = [1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 9.0, 9.0, 9.0, 3.0, 6.0, 9.0];
        assert_eq!(hungarian_min_cost(&tall, 4, 3), Ok(vec![Some(2), Some(1), None, Some(0)]));
        assert_eq!(hungarian_min_cost(&[1.0, 0.0], 1, 2), Ok(vec![Some(1)]));
        assert!(hungarian_min_cost(&[1.0, f64::NAN], 1, 2).is_err());
        assert!(hungarian_min_cost(&[1.0], 1, 2).is_err());
    }

    #[test]
    fn centroids_keep_their_ids_after_a_shuffle() {
        let old = [0.0, 0.0, 10.0, 0.0, 0.0, 10.0];
        let new = [0.1, 9.9, 9.8, 0.2, 0.0, 0.3, 50.0, 50.0];
        assert_eq!(match_centroids(&new, &old, 2, Metric::L2), Ok(vec![Some(2), Some(1), Some(0), None]));
    }
}
