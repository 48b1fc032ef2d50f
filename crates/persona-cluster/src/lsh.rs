//! Locality-sensitive hashing for Euclidean radius queries (Datar, Immorlica,
//! Indyk & Mirrokni 2004, "p-stable" LSH): rows closer than a radius share a
//! bucket in at least one of several tables with high probability, rows far
//! apart rarely do. Only candidates are produced; distances are checked
//! exactly by the caller.
//!
//! One hash is `floor((a·x + b) / w)` with `a` Gaussian and `b` uniform in
//! `[0, w)`; a table's key combines [`PER_TABLE`] of them. For two rows at
//! distance `r`, one hash agrees with probability `p(w / r)`, which is
//! about 0.80 at `w = 4r`; so a pair at the radius shares a table's bucket
//! with probability `0.80^8 ≈ 0.17`, and misses all [`TABLES`] tables with
//! probability about 1%. Closer pairs are missed far less often (about 1e-5
//! at half the radius); pairs at ten radii share a bucket about once in
//! three million tables.

use rayon::prelude::*;

use crate::data::dot_f64;
use crate::rng::SplitMix64;

/// Independent tables: more of them miss fewer neighbours at the radius.
pub(crate) const TABLES: usize = 24;
/// Hashes per table key: more of them make buckets of distant rows rarer.
pub(crate) const PER_TABLE: usize = 8;
/// Bucket width, in radii.
const WIDTH_PER_RADIUS: f64 = 4.0;
/// Rows per parallel task when hashing.
const HASH_CHUNK_ROWS: usize = 256;
/// A fixed stream, so that the same rows always give the same buckets.
const LSH_SEED: u64 = 0x15A_5EED;

/// The hash functions of every table.
pub(crate) struct Lsh {
    dim: usize,
    width: f64,
    /// `TABLES · PER_TABLE × dim`, Gaussian.
    directions: Vec<f32>,
    /// `TABLES · PER_TABLE`, uniform in `[0, width)`.
    offsets: Vec<f64>,
}

impl std::fmt::Debug for Lsh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lsh").field("dim", &self.dim).field("width", &self.width).finish_non_exhaustive()
    }
}

impl Lsh {
    /// Hash functions for rows of `dim` values and neighbours closer than `radius` (> 0).
    pub(crate) fn new(dim: usize, radius: f64) -> Lsh {
        let width = WIDTH_PER_RADIUS * radius;
        let mut rng = SplitMix64::new(LSH_SEED);
        let hashes = TABLES * PER_TABLE;
        let directions = (0..hashes * dim).map(|_| normal(&mut rng) as f32).collect();
        let offsets = (0..hashes).map(|_| rng.next_f64() * width).collect();
        Lsh { dim, width, directions, offsets }
    }

    /// The radius the hashes were made for.
    pub(crate) fn radius(&self) -> f64 {
        self.width / WIDTH_PER_RADIUS
    }

    /// One key per table for a row of `dim` values.
    pub(crate) fn keys_into(&self, row: &[f32], out: &mut [u64]) {
        let mut hashes = self.directions.chunks_exact(self.dim).zip(&self.offsets);
        for key in out.iter_mut() {
            let mut h = 0x243F_6A88_85A3_08D3u64;
            for (a, b) in hashes.by_ref().take(PER_TABLE) {
                let bucket = ((dot_f64(a, row) + b) / self.width).floor() as i64;
                h = mix(h ^ bucket as u64);
            }
            *key = h;
        }
    }

    /// Keys of every row, `n × TABLES`, on rayon's current pool.
    pub(crate) fn keys_of_rows(&self, rows: &[f32]) -> Vec<u64> {
        let n = rows.len() / self.dim;
        let mut keys = vec![0u64; n * TABLES];
        rows.par_chunks(HASH_CHUNK_ROWS * self.dim).zip(keys.par_chunks_mut(HASH_CHUNK_ROWS * TABLES)).for_each(|(chunk, out)| {
            for (row, k) in chunk.chunks_exact(self.dim).zip(out.chunks_exact_mut(TABLES)) {
                self.keys_into(row, k);
            }
        });
        keys
    }
}

/// The 64-bit finaliser of SplitMix64: every input bit moves every output bit.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut SplitMix64) -> f64 {
    let u = rng.next_f64().max(f64::MIN_POSITIVE);
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * rng.next_f64()).cos()
}

/// Rows sorted by key, one list per table.
pub(crate) struct Buckets {
    tables: Vec<Vec<(u64, u32)>>,
}

impl Buckets {
    /// From `n × TABLES` keys (row `i`'s keys at `i * TABLES..`).
    pub(crate) fn new(keys: &[u64]) -> Buckets {
        let n = keys.len() / TABLES;
        let tables = (0..TABLES)
            .into_par_iter()
            .map(|t| {
                let mut table: Vec<(u64, u32)> = (0..n).map(|i| (keys[i * TABLES + t], i as u32)).collect();
                table.sort_unstable();
                table
            })
            .collect();
        Buckets { tables }
    }

    /// The buckets of table `t` with at least two rows.
    pub(crate) fn shared(&self, t: usize) -> impl Iterator<Item = &[(u64, u32)]> {
        self.tables[t].chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1)
    }

    /// The rows of table `t` whose key is `key`.
    pub(crate) fn bucket(&self, t: usize, key: u64) -> &[(u64, u32)] {
        let table = &self.tables[t];
        let start = table.partition_point(|e| e.0 < key);
        let end = start + table[start..].partition_point(|e| e.0 == key);
        &table[start..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_rows_share_buckets_and_distant_rows_do_not() {
        let dim = 64;
        let lsh = Lsh::new(dim, 0.1);
        let mut rng = SplitMix64::new(9);
        let mut shared_close = 0;
        let mut shared_far = 0;
        for _ in 0..200 {
            let a: Vec<f32> = (0..dim).map(|_| normal(&mut rng) as f32).collect();
            // At a twentieth of the radius, and at ten radii.
            let near: Vec<f32> = a.iter().map(|x| x + 0.005 / 8.0 * normal(&mut rng) as f32).collect();
            let far: Vec<f32> = a.iter().map(|x| x + 1.0 / 8.0 * normal(&mut rng) as f32).collect();
            let keys = lsh.keys_of_rows(&[a, near, far].concat());
            let common = |i: usize, j: usize| (0..TABLES).filter(|&t| keys[i * TABLES + t] == keys[j * TABLES + t]).count();
            shared_close += usize::from(common(0, 1) > 0);
            shared_far += common(0, 2);
        }
        assert_eq!(shared_close, 200);
        assert!(shared_far <= 2, "{shared_far}");
    }

    #[test]
    fn buckets_group_equal_keys() {
        let mut keys = vec![0u64; 3 * TABLES];
        keys[TABLES..2 * TABLES].fill(5);
        let buckets = Buckets::new(&keys);
        let groups: Vec<Vec<u32>> = buckets.shared(0).map(|g| g.iter().map(|e| e.1).collect()).collect();
        assert_eq!(groups, vec![vec![0, 2]]);
        assert_eq!(buckets.bucket(3, 5), &[(5, 1)]);
        assert!(buckets.bucket(3, 7).is_empty());
    }
}
