//! A stand-in for the DBSCAN the SQL side runs on the signatures: accounts
//! whose signatures are within a cosine of each other are linked, and a ring
//! is a connected group (DBSCAN with min_pts 2 is this single linkage).
//! Candidates come from random-hyperplane hashing so that not every pair of
//! users is compared.

use persona_risk::cosine;
use std::collections::HashMap;

const TABLES: usize = 10;
const BITS: usize = 10;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// `(ring id, ring size)` per signature: `None` for an empty signature or one
/// with no neighbour above `min_cosine`.
pub fn rings(signatures: &[Vec<f32>], min_cosine: f64) -> Vec<Option<(i64, i64)>> {
    let n = signatures.len();
    let dim = signatures.first().map_or(0, |s| s.len());
    let mut parent: Vec<usize> = (0..n).collect();
    let is_live: Vec<bool> = signatures.iter().map(|s| s.iter().any(|&x| x != 0.0)).collect();
    let live: Vec<usize> = (0..n).filter(|&i| is_live[i]).collect();
    let mut state = 7u64;
    for _ in 0..TABLES {
        let planes: Vec<Vec<f32>> = (0..BITS)
            .map(|_| (0..dim).map(|_| (splitmix(&mut state) >> 40) as f32 / (1u64 << 24) as f32 - 0.5).collect())
            .collect();
        let mut buckets: HashMap<u32, Vec<usize>> = HashMap::new();
        for &i in &live {
            let mut key = 0u32;
            for (b, p) in planes.iter().enumerate() {
                let d: f32 = p.iter().zip(&signatures[i]).map(|(a, b)| a * b).sum();
                if d >= 0.0 {
                    key |= 1 << b;
                }
            }
            buckets.entry(key).or_default().push(i);
        }
        for members in buckets.values() {
            for (a, &i) in members.iter().enumerate() {
                for &j in &members[a + 1..] {
                    if find(&mut parent, i) != find(&mut parent, j) && cosine(&signatures[i], &signatures[j]) > min_cosine {
                        let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                        parent[ri.max(rj)] = ri.min(rj);
                    }
                }
            }
        }
    }
    let mut size: HashMap<usize, i64> = HashMap::new();
    for &i in &live {
        *size.entry(find(&mut parent, i)).or_default() += 1;
    }
    (0..n)
        .map(|i| {
            if !is_live[i] {
                return None;
            }
            let r = find(&mut parent, i);
            let s = size[&r];
            (s >= 2).then_some((r as i64, s))
        })
        .collect()
}
