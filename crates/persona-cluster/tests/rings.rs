//! `rings`: planted rings, noise, duplicates, agreement with plain DBSCAN, cancel.

mod common;

use std::cell::Cell;

use common::Gen;
use linfa::traits::Transformer;
use linfa::ParamGuard;
use linfa_clustering::Dbscan;
use linfa_nn::{distance::L2Dist, CommonNearestNeighbour};
use ndarray::Array2;
use persona_cluster::{adjusted_rand_index, rings, ClusterError, Hooks, Metric, RingParams, Rings, SliceRows, ValidRingParams};

fn params(eps: f64, min_points: i64, metric: &str) -> ValidRingParams {
    RingParams { eps, min_points, metric }.check().unwrap()
}

fn find(data: &[f32], dim: usize, p: &ValidRingParams) -> Rings {
    let source = SliceRows::new(data, dim, p.metric(), 1_000, 1).unwrap();
    rings(&source, p, &Hooks::NONE).unwrap()
}

/// `random` Gaussian rows, then `ring` rows within a tiny angle of one
/// direction, interleaved at every 50th position from row 7.
fn planted(random: usize, ring: usize, dim: usize, seed: u64) -> (Vec<f32>, Vec<bool>) {
    let mut g = Gen::new(seed);
    let centre: Vec<f64> = (0..dim).map(|_| g.normal()).collect();
    let mut data = Vec::new();
    let mut member = Vec::new();
    let (mut r, mut m) = (0, 0);
    while r + m < random + ring {
        let is_member = m < ring && ((r + m) % 50 == 7 || r == random);
        let length = 1.0 + g.uniform();
        for p in 0..dim {
            let x = if is_member { (centre[p] + 0.01 * g.normal()) * length } else { g.normal() };
            data.push(x as f32);
        }
        member.push(is_member);
        if is_member {
            m += 1;
        } else {
            r += 1;
        }
    }
    (data, member)
}

#[test]
fn a_planted_ring_is_found_among_random_rows() {
    let (data, member) = planted(2_000, 30, 64, 5);
    let found = find(&data, 64, &params(0.02, 5, "cosine"));
    assert_eq!(found.sizes, vec![30]);
    for (label, &m) in found.label.iter().zip(&member) {
        assert_eq!(*label, m.then_some(0));
    }
    assert_eq!(found.distinct_rows, 2_030);
    assert_eq!(found.candidate_rows, 30);
    // Too few rows for min_points: no ring, everything is noise.
    let strict = find(&data, 64, &params(0.02, 31, "cosine"));
    assert!(strict.sizes.is_empty() && strict.label.iter().all(Option::is_none));
}

#[test]
fn identical_rows_and_a_single_row() {
    let same = vec![0.5f32; 50 * 8];
    let all = find(&same, 8, &params(0.02, 5, "cosine"));
    assert_eq!((all.sizes.clone(), all.distinct_rows), (vec![50], 1));
    assert!(all.label.iter().all(|l| *l == Some(0)));
    let few = find(&same[..3 * 8], 8, &params(0.02, 5, "cosine"));
    assert!(few.sizes.is_empty() && few.label == vec![None; 3]);
    let one = find(&[1.0, 2.0, 3.0], 3, &params(0.5, 2, "l2"));
    assert_eq!(one, Rings { label: vec![None], sizes: vec![], distinct_rows: 1, candidate_rows: 0 });
    let zero = SliceRows::new(&[0.0, 0.0], 2, Metric::L2, 10, 1).unwrap();
    assert!(matches!(rings(&zero, &params(0.02, 2, "cosine"), &Hooks::NONE), Err(ClusterError::ZeroVector { .. })));
}

#[test]
fn rings_are_numbered_by_size_and_duplicates_count() {
    let dim = 16;
    let mut g = Gen::new(3);
    let mut data: Vec<f32> = (0..300 * dim).map(|_| g.normal() as f32).collect();
    // A small ring first, of three exact copies and a near copy of a row; then a larger one.
    let small: Vec<f32> = data[..dim].to_vec();
    for _ in 0..3 {
        data.extend_from_slice(&small);
    }
    data.extend(small.iter().map(|x| x + 1e-4));
    let big: Vec<f32> = (0..dim).map(|_| 10.0 + g.normal() as f32).collect();
    for _ in 0..8 {
        data.extend(big.iter().map(|x| x + 1e-3 * g.normal() as f32));
    }
    let found = find(&data, dim, &params(0.05, 4, "l2"));
    assert_eq!(found.sizes, vec![8, 5]);
    assert_eq!(found.label[0], Some(1));
    assert!(found.label[300..304].iter().all(|l| *l == Some(1)));
    assert!(found.label[304..].iter().all(|l| *l == Some(0)));
    assert_eq!(found.distinct_rows, 300 + 1 + 8);
}

#[test]
fn labels_are_plain_dbscans_on_every_row() {
    // Low dimension and overlapping blobs, so that rings have border rows,
    // and repeated rows.
    let dim = 3;
    let mut g = Gen::new(11);
    let mut data = Vec::new();
    for i in 0..1_500 {
        let c = (i % 4) as f64 * 2.0;
        let spread = if i % 4 == 3 { 2.0 } else { 0.3 };
        let row: Vec<f32> = (0..dim).map(|_| (c + spread * g.normal()) as f32).collect();
        let copies = if i % 97 == 0 { 4 } else { 1 };
        for _ in 0..copies {
            data.extend_from_slice(&row);
        }
    }
    let n = data.len() / dim;
    let (eps, min_points) = (0.25, 6);
    let plain = Dbscan::params_with(min_points, L2Dist, CommonNearestNeighbour::KdTree)
        .tolerance(eps as f32)
        .check()
        .unwrap()
        .transform(&Array2::from_shape_vec((n, dim), data.clone()).unwrap());
    let found = find(&data, dim, &params(eps, min_points as i64, "l2"));
    let noise = |l: &Option<u32>| l.is_none();
    assert_eq!(found.label.iter().map(noise).collect::<Vec<_>>(), plain.iter().map(Option::is_none).collect::<Vec<_>>());
    let ours: Vec<u32> = found.label.iter().flatten().copied().collect();
    let theirs: Vec<u32> = plain.iter().flatten().map(|&l| l as u32).collect();
    assert!(found.sizes.len() >= 3, "{:?}", found.sizes);
    assert_eq!(adjusted_rand_index(&ours, &theirs).unwrap(), 1.0);
}

#[test]
fn passes_give_the_same_rings_and_a_stop_cancels() {
    let (data, _) = planted(1_000, 20, 32, 8);
    let p = params(0.02, 5, "cosine");
    let source = SliceRows::new(&data, 32, Metric::Cosine, 100, 1).unwrap();
    let whole = rings(&source, &p, &Hooks::NONE).unwrap();
    let passes = rings(&source.clone().in_passes(64), &p, &Hooks::NONE).unwrap();
    assert_eq!(whole, passes);
    assert_eq!(whole.sizes, vec![20]);

    let always = || true;
    assert_eq!(rings(&source, &p, &Hooks { stop: &always, ..Hooks::NONE }), Err(ClusterError::Cancelled));
    let asked = Cell::new(0);
    let later = || {
        asked.set(asked.get() + 1);
        asked.get() > 5
    };
    assert_eq!(rings(&source, &p, &Hooks { stop: &later, ..Hooks::NONE }), Err(ClusterError::Cancelled));
    assert_eq!(asked.get(), 6);
}
