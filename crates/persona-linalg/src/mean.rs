//! Running (weighted) element-wise mean of vectors: the state of `persona.vec_avg`.
//!
//! Kept in f64 so that averaging millions of f32 vectors loses nothing to
//! rounding. Two accumulators combine exactly (parallel aggregation), and the
//! state has a compact, versioned byte form for Postgres' serial/deserial.

use crate::VecError;

/// Sum of weights and weighted sums of each element.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MeanAccumulator {
    weight: f64,
    sums: Vec<f64>,
}

/// Why a weight or a byte string was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum MeanError {
    Vector(VecError),
    /// A weight that is negative, NaN or infinite.
    BadWeight(f64),
    /// Serialized state that does not decode.
    Corrupt,
    /// The total weight or a weighted sum left the f64 range (weights near
    /// 1e308, or weight × element beyond it): the mean would be NaN.
    Overflow,
}

impl From<VecError> for MeanError {
    fn from(e: VecError) -> Self {
        MeanError::Vector(e)
    }
}

const FORMAT_VERSION: u8 = 1;

impl MeanAccumulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of dimensions seen so far (0 before the first vector).
    pub fn dimension(&self) -> usize {
        self.sums.len()
    }

    pub fn total_weight(&self) -> f64 {
        self.weight
    }

    /// Adds `v` with weight `w`. A zero weight is allowed and changes nothing
    /// but the dimension check; the vector must still be finite.
    pub fn add(&mut self, v: &[f32], w: f64) -> Result<(), MeanError> {
        if !w.is_finite() || w < 0.0 {
            return Err(MeanError::BadWeight(w));
        }
        crate::check_finite(v)?;
        if self.sums.is_empty() {
            self.sums = vec![0.0; v.len()];
        } else if self.sums.len() != v.len() {
            return Err(VecError::DimensionMismatch { left: self.sums.len(), right: v.len() }.into());
        }
        let mut finite = true;
        for (s, &x) in self.sums.iter_mut().zip(v) {
            *s += w * f64::from(x);
            finite &= s.is_finite();
        }
        self.weight += w;
        if finite && self.weight.is_finite() {
            Ok(())
        } else {
            Err(MeanError::Overflow)
        }
    }

    /// Folds `other` into `self`, as if its vectors had been added here.
    pub fn merge(&mut self, other: &MeanAccumulator) -> Result<(), MeanError> {
        if other.sums.is_empty() {
            return Ok(());
        }
        if self.sums.is_empty() {
            *self = other.clone();
            return Ok(());
        }
        if self.sums.len() != other.sums.len() {
            return Err(VecError::DimensionMismatch { left: self.sums.len(), right: other.sums.len() }.into());
        }
        let mut finite = true;
        for (s, o) in self.sums.iter_mut().zip(&other.sums) {
            *s += o;
            finite &= s.is_finite();
        }
        self.weight += other.weight;
        if finite && self.weight.is_finite() {
            Ok(())
        } else {
            Err(MeanError::Overflow)
        }
    }

    /// The mean, or None when nothing (or only zero weight) was added.
    pub fn mean(&self) -> Option<Vec<f32>> {
        if self.sums.is_empty() || self.weight <= 0.0 {
            return None;
        }
        Some(self.sums.iter().map(|s| (s / self.weight) as f32).collect())
    }

    /// Byte form: version, dimension (u32 LE), weight (f64 LE), sums (f64 LE each).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 4 + 8 * (1 + self.sums.len()));
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&(self.sums.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.weight.to_le_bytes());
        for s in &self.sums {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MeanError> {
        let (&version, rest) = bytes.split_first().ok_or(MeanError::Corrupt)?;
        if version != FORMAT_VERSION || rest.len() < 12 {
            return Err(MeanError::Corrupt);
        }
        let dim = u32::from_le_bytes(rest[..4].try_into().map_err(|_| MeanError::Corrupt)?) as usize;
        let body = &rest[4..];
        if body.len() != 8 * (dim + 1) {
            return Err(MeanError::Corrupt);
        }
        let mut floats = body.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        let weight = floats.next().ok_or(MeanError::Corrupt)?;
        Ok(Self { weight, sums: floats.collect() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_weighted_mean() {
        let mut a = MeanAccumulator::new();
        assert_eq!(a.mean(), None);
        a.add(&[1.0, 2.0], 1.0).unwrap();
        a.add(&[3.0, 6.0], 1.0).unwrap();
        assert_eq!(a.mean(), Some(vec![2.0, 4.0]));
        let mut w = MeanAccumulator::new();
        w.add(&[0.0, 0.0], 3.0).unwrap();
        w.add(&[4.0, 8.0], 1.0).unwrap();
        assert_eq!(w.mean(), Some(vec![1.0, 2.0]));
    }

    #[test]
    fn zero_total_weight_has_no_mean() {
        let mut a = MeanAccumulator::new();
        a.add(&[1.0], 0.0).unwrap();
        assert_eq!(a.dimension(), 1);
        assert_eq!(a.mean(), None);
    }

    #[test]
    fn merge_equals_adding_everything_in_one() {
        let vs: Vec<[f32; 3]> = (0..10).map(|i| [i as f32, (i * i) as f32, -(i as f32)]).collect();
        let mut all = MeanAccumulator::new();
        let (mut left, mut right) = (MeanAccumulator::new(), MeanAccumulator::new());
        for (i, v) in vs.iter().enumerate() {
            all.add(v, 1.0 + i as f64).unwrap();
            if i % 3 == 0 { &mut left } else { &mut right }.add(v, 1.0 + i as f64).unwrap();
        }
        let mut empty = MeanAccumulator::new();
        empty.merge(&left).unwrap();
        empty.merge(&right).unwrap();
        assert_eq!(empty, all);
    }

    #[test]
    fn refuses_mixed_dimensions_nan_and_bad_weights() {
        let mut a = MeanAccumulator::new();
        a.add(&[1.0, 2.0], 1.0).unwrap();
        assert_eq!(a.add(&[1.0], 1.0), Err(MeanError::Vector(VecError::DimensionMismatch { left: 2, right: 1 })));
        assert_eq!(a.add(&[f32::NAN, 1.0], 1.0), Err(MeanError::Vector(VecError::NotFinite { index: 0 })));
        assert_eq!(a.add(&[1.0, 1.0], -1.0), Err(MeanError::BadWeight(-1.0)));
        assert!(matches!(a.add(&[1.0, 1.0], f64::NAN), Err(MeanError::BadWeight(w)) if w.is_nan()));
        let mut b = MeanAccumulator::new();
        b.add(&[1.0, 2.0, 3.0], 1.0).unwrap();
        assert!(a.merge(&b).is_err());
    }

    #[test]
    fn sums_beyond_f64_are_an_error_not_nan() {
        // One weight of 1e308 times an element of 3: beyond f64.
        let mut a = MeanAccumulator::new();
        assert_eq!(a.add(&[1.0, 2.0, 3.0], 1e308), Err(MeanError::Overflow));
        // Weights that each fit but whose total does not.
        let mut b = MeanAccumulator::new();
        b.add(&[0.5, 0.25], 1e308).unwrap();
        assert_eq!(b.add(&[0.5, 0.25], 1e308), Err(MeanError::Overflow));
        let mut c = MeanAccumulator::new();
        c.add(&[0.5, 0.25], 1e308).unwrap();
        let mut d = MeanAccumulator::new();
        d.add(&[0.5, 0.25], 1e308).unwrap();
        assert_eq!(c.merge(&d), Err(MeanError::Overflow));
        // Large weights that stay in range still average exactly.
        let mut e = MeanAccumulator::new();
        e.add(&[1.0, 2.0], 1e300).unwrap();
        e.add(&[3.0, 4.0], 1e300).unwrap();
        assert_eq!(e.mean(), Some(vec![2.0, 3.0]));
    }

    #[test]
    fn bytes_round_trip_and_corrupt_bytes_are_refused() {
        let mut a = MeanAccumulator::new();
        a.add(&[1.5, -2.25, 1e-7], 2.5).unwrap();
        assert_eq!(MeanAccumulator::from_bytes(&a.to_bytes()).unwrap(), a);
        assert_eq!(MeanAccumulator::from_bytes(&MeanAccumulator::new().to_bytes()).unwrap(), MeanAccumulator::new());
        assert_eq!(MeanAccumulator::from_bytes(&[]), Err(MeanError::Corrupt));
        assert_eq!(MeanAccumulator::from_bytes(&[9, 0, 0, 0, 0]), Err(MeanError::Corrupt));
        let mut short = a.to_bytes();
        short.pop();
        assert_eq!(MeanAccumulator::from_bytes(&short), Err(MeanError::Corrupt));
    }
}
