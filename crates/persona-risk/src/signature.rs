//! A fixed-length fingerprint of a user's item sequence, for finding rings of
//! accounts that replay the same script.
//!
//! Feature hashing (Weinberger et al., 2009) of the items and of the
//! consecutive item pairs: the items say what was looked at, the pairs in what
//! order, so a replayed crawl gives the very same vector, a crawl with one item
//! changed stays close in cosine, and the same items in a shuffled order share
//! only the item half. Each feature gets a hashed sign so that collisions
//! cancel on average instead of piling up. The hash is integer arithmetic on
//! the item ids only, so the vector is the same on every platform and run.

use crate::error::{bad_parameter, RiskError};

/// Longest signature: beyond it a vector per user costs more than it tells.
pub const MAX_SIGNATURE_DIM: usize = 65_536;

/// Pairs are hashed with a different seed from items, so the pair (a, b)
/// does not land where some single item does by construction.
const PAIR_SALT: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finaliser: a fast bijection with full avalanche.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn add(v: &mut [f64], h: u64) {
    let slot = (h % v.len() as u64) as usize;
    // The top bit is independent of the slot (taken modulo dim from the low bits).
    let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
    v[slot] += sign;
}

/// The signature of `items` (in the order the user met them) as a unit vector
/// of `dim` values; all zeros for an empty sequence, which has no direction
/// and should not be clustered. `dim` must be in `1..=MAX_SIGNATURE_DIM`.
pub fn sequence_signature(items: &[i64], dim: usize) -> Result<Vec<f32>, RiskError> {
    if dim == 0 || dim > MAX_SIGNATURE_DIM {
        return Err(bad_parameter(format!("signature dim must be between 1 and {MAX_SIGNATURE_DIM}, not {dim}")));
    }
    let mut v = vec![0.0f64; dim];
    for &item in items {
        add(&mut v, mix(item as u64));
    }
    for w in items.windows(2) {
        add(&mut v, mix(mix(w[0] as u64 ^ PAIR_SALT).wrapping_add(w[1] as u64)));
    }
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        for x in v.iter_mut() {
            *x /= norm;
        }
    }
    Ok(v.into_iter().map(|x| x as f32).collect())
}

/// Cosine similarity of two signatures (0 when either is all zeros or the
/// lengths differ).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}
