//! How unusual a row is for its segment: a robust z-score of its distance to
//! the segment's centroid.

use crate::ClusterError;

/// `1 / Φ⁻¹(3/4)`: makes the MAD estimate the standard deviation of normal data.
const MAD_TO_SIGMA: f64 = 1.4826;
/// `sqrt(π / 2)`: makes the mean absolute deviation estimate it, for the
/// fallback when more than half the distances are equal.
const MEAN_AD_TO_SIGMA: f64 = 1.2533;

/// Distribution of the member distances of one cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Median member distance.
    pub median: f64,
    /// Median absolute deviation from the median.
    pub mad: f64,
    /// Robust standard deviation: `1.4826 · mad`, or `1.2533 ·` the mean
    /// absolute deviation when `mad` is 0; 0 only if all distances are equal.
    pub scale: f64,
    /// Number of distances summarised.
    pub count: usize,
}

impl Spread {
    /// Summarises the distances of one cluster's members; `None` if there are none.
    /// Non-finite distances are ignored.
    pub fn from_distances(distances: &[f32]) -> Option<Spread> {
        let mut values: Vec<f64> = distances.iter().filter(|d| d.is_finite()).map(|&d| f64::from(d)).collect();
        if values.is_empty() {
            return None;
        }
        let median = median_in_place(&mut values);
        let count = values.len();
        let mean_ad = values.iter().map(|v| (v - median).abs()).sum::<f64>() / count as f64;
        let mut deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
        let mad = median_in_place(&mut deviations);
        let scale = if mad > 0.0 { MAD_TO_SIGMA * mad } else { MEAN_AD_TO_SIGMA * mean_ad };
        Some(Spread { median, mad, scale, count })
    }
}

fn median_in_place(values: &mut [f64]) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// One [`Spread`] per cluster from the labels and distances of an
/// assignment (e.g. [`Lloyd::distances`](crate::Lloyd::distances)); `None`
/// for clusters without members.
pub fn cluster_spreads(labels: &[u32], distances: &[f32], k: usize) -> Result<Vec<Option<Spread>>, ClusterError> {
    if labels.len() != distances.len() {
        return Err(ClusterError::LengthMismatch { left: labels.len(), right: distances.len() });
    }
    let mut members: Vec<Vec<f32>> = vec![Vec::new(); k];
    for (&label, &distance) in labels.iter().zip(distances) {
        match members.get_mut(label as usize) {
            Some(list) => list.push(distance),
            None => return Err(ClusterError::LabelOutOfRange { label, k }),
        }
    }
    Ok(members.iter().map(|m| Spread::from_distances(m)).collect())
}

/// Robust z-score of `distance` within its cluster:
/// `(distance - median) / scale` with the [`Spread`]'s median and robust
/// scale. Around 0 for a typical member, above 3.5 is the usual outlier cut
/// (Iglewicz & Hoaglin 1993); negative for rows closer than the median.
/// When every member sat at the same distance (`scale == 0`), a row at that
/// distance or closer scores 0 and a farther one `+inf`.
pub fn anomaly_score(distance: f64, spread: &Spread) -> f64 {
    let excess = distance - spread.median;
    if spread.scale > 0.0 {
        excess / spread.scale
    } else if excess > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_mad_and_score() {
        let spread = Spread::from_distances(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
        assert_eq!(spread.median, 3.0);
        assert_eq!(spread.mad, 1.0);
        assert_eq!(spread.count, 5);
        assert!((anomaly_score(100.0, &spread) - 97.0 / 1.4826).abs() < 1e-12);
        assert!(anomaly_score(3.0, &spread).abs() < 1e-12);
        assert!(anomaly_score(2.0, &spread) < 0.0);
    }

    #[test]
    fn degenerate_spreads() {
        assert_eq!(Spread::from_distances(&[]), None);
        // MAD 0 (most rows equal): the mean absolute deviation takes over.
        let mostly_equal = Spread::from_distances(&[1.0, 1.0, 1.0, 5.0]).unwrap();
        assert_eq!(mostly_equal.mad, 0.0);
        assert!((mostly_equal.scale - 1.2533).abs() < 1e-12);
        let constant = Spread::from_distances(&[2.0, 2.0]).unwrap();
        assert_eq!(anomaly_score(2.0, &constant), 0.0);
        assert_eq!(anomaly_score(2.5, &constant), f64::INFINITY);
        let spreads = cluster_spreads(&[0, 0, 2], &[1.0, 3.0, 2.0], 3).unwrap();
        assert_eq!(spreads[0].map(|s| s.median), Some(2.0));
        assert_eq!(spreads[1], None);
        assert!(cluster_spreads(&[0, 5], &[1.0, 1.0], 3).is_err());
    }
}
