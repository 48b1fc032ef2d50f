mod common;

use common::SplitMix;
use persona_rank::{
    no_exclusions, top_k_blocked, top_k_blocked_with, top_k_from_scores, BlockSizes, RankError,
};

/// The reference: score every item, sort by (score desc, index asc), filter, truncate.
fn naive(
    queries: &[f32],
    items: &[f32],
    dim: usize,
    k: usize,
    exclude: &dyn Fn(usize) -> Vec<u32>,
    allow: Option<&[bool]>,
) -> Vec<Vec<(u32, f32)>> {
    let n_items = items.len() / dim;
    queries
        .chunks(dim)
        .enumerate()
        .map(|(q, query)| {
            let skip = exclude(q);
            let mut scored: Vec<(u32, f32)> = (0..n_items)
                .filter(|&i| allow.is_none_or(|a| a[i]) && !skip.contains(&(i as u32)))
                .map(|i| {
                    let s: f32 = query
                        .iter()
                        .zip(&items[i * dim..(i + 1) * dim])
                        .map(|(a, b)| a * b)
                        .sum();
                    (i as u32, s + 0.0)
                })
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            scored.truncate(k);
            scored
        })
        .collect()
}

fn random_matrix(rng: &mut SplitMix, rows: usize, dim: usize, range: i64) -> Vec<f32> {
    (0..rows * dim).map(|_| rng.small_int(range)).collect()
}

#[test]
fn matches_naive_exactly_across_block_edges() {
    let mut rng = SplitMix(7);
    for &(n_q, n_i, dim, k, range) in &[
        (37usize, 301usize, 5usize, 7usize, 3i64),
        (9, 50, 64, 10, 2),
        (64, 1000, 17, 25, 1),
        (5, 12, 3, 20, 2),
    ] {
        let queries = random_matrix(&mut rng, n_q, dim, range);
        let items = random_matrix(&mut rng, n_i, dim, range);
        let seen: Vec<Vec<u32>> = (0..n_q)
            .map(|_| {
                let mut s: Vec<u32> = (0..rng.below(8))
                    .map(|_| rng.below(n_i as u64) as u32)
                    .collect();
                s.sort_unstable();
                s
            })
            .collect();
        let expected = naive(&queries, &items, dim, k, &|q| seen[q].clone(), None);
        let exclude = |q: usize| -> &[u32] { &seen[q] };
        for blocks in [
            BlockSizes {
                queries: 1,
                items: 1,
            },
            BlockSizes {
                queries: 4,
                items: 7,
            },
            BlockSizes {
                queries: 16,
                items: 64,
            },
            BlockSizes::default(),
        ] {
            let got =
                top_k_blocked_with(&queries, n_q, &items, n_i, dim, k, &exclude, None, blocks)
                    .expect("valid input");
            assert_eq!(
                got, expected,
                "n_q {n_q} n_i {n_i} dim {dim} blocks {blocks:?}"
            );
        }
    }
}

#[test]
fn allow_mask_and_exclusions_still_return_k_when_available() {
    let mut rng = SplitMix(11);
    let (n_q, n_i, dim, k) = (20, 200, 8, 10);
    let queries = random_matrix(&mut rng, n_q, dim, 4);
    let items = random_matrix(&mut rng, n_i, dim, 4);
    let allow: Vec<bool> = (0..n_i).map(|i| i % 3 != 0).collect();
    // Exclude the 30 best allowed items of each query: the result must reach
    // further down rather than come back short.
    let best = naive(&queries, &items, dim, 30, &|_| Vec::new(), Some(&allow));
    let seen: Vec<Vec<u32>> = best
        .iter()
        .map(|list| {
            let mut s: Vec<u32> = list.iter().map(|p| p.0).collect();
            s.sort_unstable();
            s
        })
        .collect();
    let exclude = |q: usize| -> &[u32] { &seen[q] };
    let got =
        top_k_blocked(&queries, n_q, &items, n_i, dim, k, &exclude, Some(&allow)).expect("valid");
    let expected = naive(&queries, &items, dim, k, &|q| seen[q].clone(), Some(&allow));
    assert_eq!(got, expected);
    for (q, list) in got.iter().enumerate() {
        assert_eq!(list.len(), k);
        for &(item, _) in list {
            assert!(allow[item as usize]);
            assert!(!seen[q].contains(&item));
        }
    }
}

#[test]
fn returns_all_available_when_fewer_than_k() {
    let queries = vec![1.0, 0.0, 0.0, 1.0];
    let items = vec![1.0, 1.0, 2.0, 0.0, 0.0, 3.0, -1.0, -1.0];
    let allow = [true, true, false, true];
    let exclude = |q: usize| -> &'static [u32] {
        if q == 0 {
            &[0]
        } else {
            &[]
        }
    };
    let got = top_k_blocked(&queries, 2, &items, 4, 2, 10, &exclude, Some(&allow)).expect("valid");
    assert_eq!(got[0], vec![(1, 2.0), (3, -1.0)]);
    assert_eq!(got[1], vec![(0, 1.0), (1, 0.0), (3, -1.0)]);
}

#[test]
fn ties_break_by_item_index() {
    let queries = vec![1.0];
    let items = vec![2.0, 5.0, 5.0, 2.0, 5.0];
    let got = top_k_blocked(&queries, 1, &items, 5, 1, 4, &no_exclusions, None).expect("valid");
    assert_eq!(got[0], vec![(1, 5.0), (2, 5.0), (4, 5.0), (0, 2.0)]);
    let from_scores = top_k_from_scores(&items, 4, &[], None).expect("valid");
    assert_eq!(from_scores, got[0]);
}

#[test]
fn k_zero_and_empty_inputs() {
    let got = top_k_blocked(&[1.0, 2.0], 2, &[1.0], 1, 1, 0, &no_exclusions, None).expect("valid");
    assert_eq!(got, vec![Vec::new(), Vec::new()]);
    let got = top_k_blocked(&[], 0, &[1.0], 1, 1, 3, &no_exclusions, None).expect("valid");
    assert!(got.is_empty());
    let got = top_k_blocked(&[1.0], 1, &[], 0, 1, 3, &no_exclusions, None).expect("valid");
    assert_eq!(got, vec![Vec::new()]);
}

#[test]
fn bad_input_is_an_error() {
    let q = [1.0f32, 2.0];
    let it = [1.0f32, 2.0, 3.0, 4.0];
    assert!(matches!(
        top_k_blocked(&q, 2, &it, 2, 2, 1, &no_exclusions, None),
        Err(RankError::ShapeMismatch {
            what: "queries",
            ..
        })
    ));
    assert!(matches!(
        top_k_blocked(&q, 1, &it, 3, 2, 1, &no_exclusions, None),
        Err(RankError::ShapeMismatch { what: "items", .. })
    ));
    assert!(matches!(
        top_k_blocked(&q, 1, &it, 2, 0, 1, &no_exclusions, None),
        Err(RankError::InvalidParameter { name: "dim", .. })
    ));
    assert!(matches!(
        top_k_blocked(&[f32::NAN, 1.0], 1, &it, 2, 2, 1, &no_exclusions, None),
        Err(RankError::NonFinite {
            what: "queries",
            index: 0
        })
    ));
    assert!(matches!(
        top_k_blocked(
            &q,
            1,
            &[1.0, 2.0, f32::INFINITY, 0.0],
            2,
            2,
            1,
            &no_exclusions,
            None
        ),
        Err(RankError::NonFinite {
            what: "items",
            index: 2
        })
    ));
    assert!(matches!(
        top_k_blocked(&q, 1, &it, 2, 2, 1, &no_exclusions, Some(&[true])),
        Err(RankError::ShapeMismatch {
            what: "allow mask",
            ..
        })
    ));
    let unsorted = |_q: usize| -> &'static [u32] { &[1, 0] };
    assert!(matches!(
        top_k_blocked(&q, 1, &it, 2, 2, 1, &unsorted, None),
        Err(RankError::UnsortedExclusion { query: 0 })
    ));
    assert!(matches!(
        top_k_blocked_with(
            &q,
            1,
            &it,
            2,
            2,
            1,
            &no_exclusions,
            None,
            BlockSizes {
                queries: 0,
                items: 4
            }
        ),
        Err(RankError::InvalidParameter { .. })
    ));
    assert!(top_k_from_scores(&[1.0, 2.0], 1, &[1, 0], None).is_err());
    let message = RankError::UnsortedExclusion { query: 3 }.to_string();
    assert!(message.contains("query 3"), "{message}");
}
