//! Synthetic data shared by the integration tests.

#![allow(dead_code)] // Each test binary uses a different subset of these helpers.

/// SplitMix64 with Box–Muller normals: reproducible data without extra crates.
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Self {
        Gen(seed)
    }

    pub fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

/// `n` rows in `k` Gaussian blobs (unit spread) whose centres are uniform in
/// `[-spread, spread]^dim`; rows are shuffled. Returns data and true labels.
pub fn blobs(n: usize, dim: usize, k: usize, spread: f64, seed: u64) -> (Vec<f32>, Vec<u32>) {
    let mut g = Gen::new(seed);
    let centres: Vec<f64> = (0..k * dim).map(|_| (2.0 * g.uniform() - 1.0) * spread).collect();
    let mut labels: Vec<u32> = (0..n).map(|i| (i % k) as u32).collect();
    // Fisher–Yates, so clusters are interleaved as in a real table.
    for i in (1..n).rev() {
        let j = (g.uniform() * (i + 1) as f64) as usize;
        labels.swap(i, j.min(i));
    }
    let mut data = Vec::with_capacity(n * dim);
    for &label in &labels {
        let c = label as usize;
        for p in 0..dim {
            data.push((centres[c * dim + p] + g.normal()) as f32);
        }
    }
    (data, labels)
}

/// Rows pointing in `k` random directions (angular noise `noise`), each with
/// a random length in `[0.5, 5)`: clusters only under cosine distance.
pub fn directional_blobs(n: usize, dim: usize, k: usize, noise: f64, seed: u64) -> (Vec<f32>, Vec<u32>) {
    let mut g = Gen::new(seed);
    let mut directions: Vec<f64> = (0..k * dim).map(|_| g.normal()).collect();
    for d in directions.chunks_mut(dim) {
        let norm = d.iter().map(|x| x * x).sum::<f64>().sqrt();
        d.iter_mut().for_each(|x| *x /= norm);
    }
    let mut data = Vec::with_capacity(n * dim);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let c = (i * 7 + i / 3) % k;
        let length = 0.5 + 4.5 * g.uniform();
        for p in 0..dim {
            data.push(((directions[c * dim + p] + noise * g.normal()) * length) as f32);
        }
        labels.push(c as u32);
    }
    (data, labels)
}

/// Sum of squared Euclidean distances of rows to their nearest centroid.
pub fn sq_inertia(data: &[f32], dim: usize, centroids: &[f32]) -> f64 {
    data.chunks(dim)
        .map(|row| {
            centroids
                .chunks(dim)
                .map(|c| row.iter().zip(c).map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2)).sum::<f64>())
                .fold(f64::INFINITY, f64::min)
        })
        .sum()
}
