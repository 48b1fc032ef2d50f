//! Agreement between two labelings of the same rows, as in scikit-learn.

use crate::ClusterError;

/// A non-empty cell of the contingency table of two labelings.
struct Cell {
    count: u64,
    /// Rows with this cell's label in `a`, and in `b`.
    a_total: u64,
    b_total: u64,
}

struct Contingency {
    n: u64,
    cells: Vec<Cell>,
    a_totals: Vec<u64>,
    b_totals: Vec<u64>,
}

impl Contingency {
    fn new(a: &[u32], b: &[u32]) -> Result<Self, ClusterError> {
        if a.len() != b.len() {
            return Err(ClusterError::LengthMismatch { left: a.len(), right: b.len() });
        }
        if a.is_empty() {
            return Err(ClusterError::EmptyData);
        }
        let a_totals = label_totals(a);
        let b_totals = label_totals(b);
        let total_of = |totals: &[(u32, u64)], label: u32| match totals.binary_search_by_key(&label, |&(l, _)| l) {
            Ok(i) => totals[i].1,
            Err(_) => 0,
        };
        // Sorting the pairs counts cells without a dense table, which could
        // be rows² large when most labels are singletons.
        let mut pairs: Vec<(u32, u32)> = a.iter().copied().zip(b.iter().copied()).collect();
        pairs.sort_unstable();
        let cells = runs(&pairs)
            .map(|((la, lb), count)| Cell { count, a_total: total_of(&a_totals, la), b_total: total_of(&b_totals, lb) })
            .collect();
        Ok(Contingency {
            n: a.len() as u64,
            cells,
            a_totals: a_totals.iter().map(|&(_, c)| c).collect(),
            b_totals: b_totals.iter().map(|&(_, c)| c).collect(),
        })
    }
}

/// `(value, run length)` of each run of equal values in a sorted slice.
fn runs<T: PartialEq + Copy>(sorted: &[T]) -> impl Iterator<Item = (T, u64)> + '_ {
    let mut start = 0;
    (1..=sorted.len()).filter_map(move |i| {
        if i == sorted.len() || sorted[i] != sorted[start] {
            let run = (sorted[start], (i - start) as u64);
            start = i;
            Some(run)
        } else {
            None
        }
    })
}

/// `(label, count)` pairs sorted by label.
fn label_totals(labels: &[u32]) -> Vec<(u32, u64)> {
    let mut sorted = labels.to_vec();
    sorted.sort_unstable();
    runs(&sorted).collect()
}

fn sum_of_squares(counts: &[u64]) -> u128 {
    counts.iter().map(|&c| u128::from(c) * u128::from(c)).sum()
}

/// Adjusted Rand index (Hubert & Arabie 1985) of two labelings: 1 for the
/// same partition whatever the label names, about 0 for random labelings,
/// negative when worse than random. Computed from the pair confusion matrix
/// exactly as scikit-learn's `adjusted_rand_score`, including its value of
/// 1 when neither labeling splits any pair differently.
pub fn adjusted_rand_index(a: &[u32], b: &[u32]) -> Result<f64, ClusterError> {
    let table = Contingency::new(a, b)?;
    let n = u128::from(table.n);
    let cell_counts: Vec<u64> = table.cells.iter().map(|c| c.count).collect();
    let squares = sum_of_squares(&cell_counts);
    // Ordered pairs of distinct rows: together in both, in b only, in a only, in neither.
    let together = (squares - n) as i128;
    let only_b = (sum_of_squares(&table.b_totals) - squares) as i128;
    let only_a = (sum_of_squares(&table.a_totals) - squares) as i128;
    let neither = (n * n) as i128 - only_b - only_a - squares as i128;
    if only_a == 0 && only_b == 0 {
        return Ok(1.0);
    }
    let numerator = 2.0 * (together as f64 * neither as f64 - only_a as f64 * only_b as f64);
    let denominator =
        (together + only_a) as f64 * (only_a + neither) as f64 + (together + only_b) as f64 * (only_b + neither) as f64;
    Ok(numerator / denominator)
}

fn entropy(totals: &[u64], n: f64) -> f64 {
    totals
        .iter()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.ln()
        })
        .sum()
}

/// Normalised mutual information of two labelings, with the arithmetic mean
/// of the two entropies as normaliser (scikit-learn's default):
/// `NMI = I(a; b) / ((H(a) + H(b)) / 2)`, natural logarithms. 1 for the same
/// partition; 1 as well when both put every row in one cluster, and 0 when
/// the mutual information is 0 otherwise, as scikit-learn defines it.
pub fn normalized_mutual_info(a: &[u32], b: &[u32]) -> Result<f64, ClusterError> {
    let table = Contingency::new(a, b)?;
    if table.a_totals.len() == 1 && table.b_totals.len() == 1 {
        return Ok(1.0);
    }
    let n = table.n as f64;
    // I(a; b) = sum over cells of p_ij ln(p_ij / (p_i p_j)).
    let mutual: f64 = table
        .cells
        .iter()
        .map(|cell| {
            let count = cell.count as f64;
            let outer = cell.a_total as f64 * cell.b_total as f64;
            count / n * (count.ln() + n.ln() - outer.ln())
        })
        .sum();
    let mutual = mutual.max(0.0);
    if mutual < f64::EPSILON {
        return Ok(0.0);
    }
    let normaliser = (entropy(&table.a_totals, n) + entropy(&table.b_totals, n)) / 2.0;
    Ok(mutual / normaliser)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn adjusted_rand_index_known_values() {
        // Values from scikit-learn's documentation and user guide.
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1], &[1, 1, 0, 0]), Ok(1.0));
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1], &[0, 0, 1, 1]), Ok(1.0));
        assert!(close(adjusted_rand_index(&[0, 0, 1, 2], &[0, 0, 1, 1]).unwrap(), 0.5714285714285715));
        assert!(close(adjusted_rand_index(&[0, 0, 1, 1], &[0, 0, 1, 2]).unwrap(), 0.5714285714285715));
        assert!(close(adjusted_rand_index(&[0, 0, 0, 0], &[0, 1, 2, 3]).unwrap(), 0.0));
        assert!(close(adjusted_rand_index(&[0, 0, 1, 1], &[0, 1, 0, 1]).unwrap(), -0.5));
        assert!(close(adjusted_rand_index(&[0, 1, 2, 3], &[7, 8, 9, 10]).unwrap(), 1.0));
    }

    #[test]
    fn normalized_mutual_info_known_values() {
        assert!(close(normalized_mutual_info(&[0, 0, 1, 1], &[0, 0, 1, 1]).unwrap(), 1.0));
        assert!(close(normalized_mutual_info(&[0, 0, 1, 1], &[1, 1, 0, 0]).unwrap(), 1.0));
        assert_eq!(normalized_mutual_info(&[0, 0, 0, 0], &[0, 1, 2, 3]), Ok(0.0));
        assert_eq!(normalized_mutual_info(&[5, 5, 5], &[2, 2, 2]), Ok(1.0));
        // b is a function of a: I = H(b) = ln 2, H(a) = 1.5 ln 2, so 1 / 1.25.
        assert!(close(normalized_mutual_info(&[0, 0, 1, 2], &[0, 0, 1, 1]).unwrap(), 0.8));
    }

    #[test]
    fn mismatched_or_empty_labelings_fail() {
        assert!(matches!(adjusted_rand_index(&[0, 1], &[0]), Err(ClusterError::LengthMismatch { .. })));
        assert_eq!(normalized_mutual_info(&[], &[]), Err(ClusterError::EmptyData));
    }
}
