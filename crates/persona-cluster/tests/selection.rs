//! Choosing k, matching ids across retraining, explaining and scoring segments.

mod common;

use common::{blobs, Gen};
use persona_cluster::{
    anomaly_score, assign, choose_k, class_tfidf, cluster_spreads, fit, hungarian_min_cost, match_centroids,
    silhouette, KMeansConfig, Metric,
};

#[test]
fn silhouette_picks_the_planted_k() {
    let (data, truth) = blobs(800, 4, 4, 15.0, 31);
    let config = KMeansConfig { n_init: 2, seed: 3, ..KMeansConfig::default() };
    let choice = choose_k(&data, 4, 2, 7, &config).unwrap();
    assert_eq!(choice.best_k, 4, "{:?}", choice.candidates);
    assert_eq!(choice.candidates.iter().map(|c| c.k).collect::<Vec<_>>(), vec![2, 3, 4, 5, 6, 7]);
    // Inertia falls as k grows.
    assert!(choice.candidates.windows(2).all(|w| w[1].inertia <= w[0].inertia * 1.0001));
    let planted = silhouette(&data, 4, &truth, 4, Metric::L2).unwrap();
    assert!(planted > 0.7, "silhouette {planted}");
    assert!(choose_k(&data, 4, 1, 3, &config).is_err());
    assert!(choose_k(&data, 4, 3, 800, &config).is_err());
}

/// Lowest total cost over all injective row → column maps, by enumeration.
fn brute_force(cost: &[f64], rows: usize, cols: usize) -> f64 {
    fn go(cost: &[f64], rows: usize, cols: usize, row: usize, used: &mut Vec<bool>, skips_left: usize) -> f64 {
        if row == rows {
            return 0.0;
        }
        let mut best = f64::INFINITY;
        if skips_left > 0 {
            best = go(cost, rows, cols, row + 1, used, skips_left - 1);
        }
        for c in 0..cols {
            if !used[c] {
                used[c] = true;
                best = best.min(cost[row * cols + c] + go(cost, rows, cols, row + 1, used, skips_left));
                used[c] = false;
            }
        }
        best
    }
    // With more rows than columns, exactly rows - cols rows stay unmatched.
    go(cost, rows, cols, 0, &mut vec![false; cols], rows.saturating_sub(cols))
}

#[test]
fn hungarian_matches_brute_force() {
    let mut g = Gen::new(41);
    for trial in 0..300 {
        let rows = 1 + trial % 6;
        let cols = 1 + (trial / 6) % 6;
        // Integers make ties common, which the solver must survive.
        let cost: Vec<f64> = (0..rows * cols)
            .map(|_| if trial % 2 == 0 { (g.uniform() * 10.0).floor() } else { g.uniform() * 100.0 - 50.0 })
            .collect();
        let assignment = hungarian_min_cost(&cost, rows, cols).unwrap();
        let mut used = vec![false; cols];
        let mut total = 0.0;
        for (r, column) in assignment.iter().enumerate() {
            if let Some(c) = *column {
                assert!(!used[c], "column {c} used twice");
                used[c] = true;
                total += cost[r * cols + c];
            }
        }
        assert_eq!(assignment.iter().flatten().count(), rows.min(cols));
        let best = brute_force(&cost, rows, cols);
        assert!((total - best).abs() < 1e-9, "{rows}x{cols}: {total} vs {best}");
    }
}

#[test]
fn retrained_segments_keep_their_ids() {
    let (data, _) = blobs(3000, 6, 5, 12.0, 51);
    let first = fit(&data, 6, &KMeansConfig { k: 5, seed: 1, ..KMeansConfig::default() }).unwrap();
    // Retrain on a different sample with a different seed: labels get permuted.
    let second = fit(&data[..2000 * 6], 6, &KMeansConfig { k: 5, seed: 99, ..KMeansConfig::default() }).unwrap();
    let mapping = match_centroids(&second.centroids, &first.centroids, 6, Metric::L2).unwrap();
    let mut seen: Vec<usize> = mapping.iter().map(|m| m.unwrap()).collect();
    for (new_id, old_id) in seen.iter().enumerate() {
        // Matched centroids are the same blob: close to each other.
        let a = &second.centroids[new_id * 6..new_id * 6 + 6];
        let b = &first.centroids[old_id * 6..old_id * 6 + 6];
        let gap: f32 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f32>().sqrt();
        assert!(gap < 1.0, "segment {new_id} matched {old_id} at distance {gap}");
    }
    seen.sort();
    assert_eq!(seen, vec![0, 1, 2, 3, 4]);
}

#[test]
fn outliers_score_high() {
    let (mut data, _) = blobs(2000, 3, 3, 20.0, 61);
    let result = fit(&data, 3, &KMeansConfig { k: 3, seed: 2, ..KMeansConfig::default() }).unwrap();
    let assigned = assign(&data, 3, &result.centroids, Metric::L2).unwrap();
    let labels: Vec<u32> = assigned.iter().map(|a| a.label).collect();
    let distances: Vec<f32> = assigned.iter().map(|a| a.distance).collect();
    let spreads = cluster_spreads(&labels, &distances, 3).unwrap();
    let typical = assigned
        .iter()
        .map(|a| anomaly_score(f64::from(a.distance), spreads[a.label as usize].as_ref().unwrap()).abs())
        .filter(|z| *z > 3.5)
        .count();
    assert!(typical < 40, "{typical} of 2000 Gaussian rows flagged");
    // A row 8 units from the nearest centroid, where members sit ~1.5 away.
    let c = &result.centroids[..3];
    data.clear();
    data.extend_from_slice(&[c[0] + 8.0, c[1], c[2]]);
    let far = assign(&data, 3, &result.centroids, Metric::L2).unwrap()[0];
    let spread = spreads[far.label as usize].unwrap();
    assert!(anomaly_score(f64::from(far.distance), &spread) > 6.0);
    assert!(far.second_distance > far.distance);
}

#[test]
fn class_tfidf_finds_class_specific_words() {
    let docs = vec![
        (0u32, "Espresso and coffee beans every morning, great coffee today"),
        (0, "Loves coffee, espresso machines and a good cafe"),
        (0, "Coffee subscription, great espresso"),
        (1, "Football match today, great goal by the striker"),
        (1, "Watches football every weekend, goal highlights"),
        (1, "Football tickets and a goal celebration"),
        (2, "Writes Rust and Python code today"),
        (2, "Python notebooks, Rust compiler, great code"),
        (2, "Rust crates and Python packages for code"),
    ];
    let top = class_tfidf(docs.iter().map(|(c, t)| (*c, *t)), 3, 3, 1).unwrap();
    let words = |c: usize| top[c].iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>();
    assert_eq!(words(0)[0], "coffee");
    assert!(words(0).contains(&"espresso"));
    assert_eq!(words(1)[0], "football");
    assert!(words(1).contains(&"goal"));
    assert!(words(2).iter().all(|w| ["rust", "python", "code"].contains(w)), "{:?}", words(2));
    // "great" and "today" appear everywhere: never a class's top word.
    assert!(top.iter().all(|t| t[0].0 != "great" && t[0].0 != "today"));
    // Owned strings work too; an unused class gets an empty list.
    let owned = vec![(1u32, String::from("solo words remain"))];
    let out = class_tfidf(owned, 2, 5, 1).unwrap();
    assert!(out[0].is_empty() && out[1].len() == 3);
}
