//! In-memory k-means: quality, determinism, monotonicity, cosine mode, errors.

mod common;

use common::{blobs, directional_blobs};
use persona_cluster::{
    adjusted_rand_index, assign, fit, kmeans_plus_plus, ClusterError, KMeansConfig, Lloyd, Metric,
};

fn config(k: usize, metric: Metric) -> KMeansConfig {
    KMeansConfig { k, n_init: 3, seed: 11, metric, ..KMeansConfig::default() }
}

#[test]
fn planted_blobs_are_recovered() {
    let (data, truth) = blobs(3000, 8, 5, 20.0, 1);
    let result = fit(&data, 8, &config(5, Metric::L2)).unwrap();
    let ari = adjusted_rand_index(&truth, &result.labels).unwrap();
    assert!(ari >= 0.99, "ARI {ari}");
    assert!(result.iterations >= 1 && result.n_init_best < 3);
    // Labels agree with a fresh assignment to the final centroids.
    let assigned = assign(&data, 8, &result.centroids, Metric::L2).unwrap();
    assert!(assigned.iter().zip(&result.labels).all(|(a, &l)| a.label == l));
}

#[test]
fn same_seed_same_result_whatever_the_pool() {
    let (data, _) = blobs(20_000, 6, 7, 6.0, 2);
    let cfg = config(7, Metric::L2);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| fit(&data, 6, &cfg).unwrap())
    };
    let one = run(1);
    let two = run(2);
    let three = run(3);
    assert_eq!(one, two);
    assert_eq!(one, three);
    assert_eq!(kmeans_plus_plus(&data, 6, 7, Metric::L2, 5).unwrap(), kmeans_plus_plus(&data, 6, 7, Metric::L2, 5).unwrap());
    assert_ne!(kmeans_plus_plus(&data, 6, 7, Metric::L2, 5).unwrap(), kmeans_plus_plus(&data, 6, 7, Metric::L2, 6).unwrap());
}

#[test]
fn lloyd_inertia_never_increases() {
    // Overlapping blobs, so that it takes many steps to settle.
    let (data, _) = blobs(4000, 5, 12, 3.0, 3);
    let seeds = kmeans_plus_plus(&data, 5, 9, Metric::L2, 1).unwrap();
    let mut lloyd = Lloyd::new(&data, 5, seeds, Metric::L2).unwrap();
    let mut previous = f64::INFINITY;
    for _ in 0..40 {
        let stats = lloyd.step();
        assert!(stats.inertia <= previous * (1.0 + 1e-6), "{} after {}", stats.inertia, previous);
        previous = stats.inertia;
    }
    assert_eq!(lloyd.iteration(), 40);
    // At a fixed point, another step moves nothing.
    let relabelled = lloyd.relabel();
    assert!(relabelled <= previous * (1.0 + 1e-6));
}

#[test]
fn empty_cluster_is_reseeded_with_the_farthest_row() {
    let data = [0.0, 0.0, 0.0, 1.0, 10.0, 0.0, 10.0, 1.0, 30.0, 0.0];
    // The second centroid is nowhere near any row and ends up empty.
    let mut lloyd = Lloyd::new(&data, 2, vec![5.0, 0.5, 1000.0, 1000.0], Metric::L2).unwrap();
    let stats = lloyd.step();
    assert_eq!(stats.empty_clusters, 1);
    // (30, 0) is farthest from the mean it was assigned to and moves over.
    assert_eq!(&lloyd.centroids()[2..4], &[30.0, 0.0]);
    assert_eq!(lloyd.labels(), &[0, 0, 0, 0, 1]);
    assert_eq!(lloyd.distances()[4], 0.0);
}

#[test]
fn cosine_mode_ignores_length() {
    let (data, truth) = directional_blobs(2000, 16, 4, 0.15, 4);
    let result = fit(&data, 16, &config(4, Metric::Cosine)).unwrap();
    let ari = adjusted_rand_index(&truth, &result.labels).unwrap();
    assert!(ari >= 0.99, "ARI {ari}");
    for c in result.centroids.chunks(16) {
        let norm: f32 = c.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "centroid norm {norm}");
    }
    // Inertia sums 1 - cos. Noise of 0.15 per coordinate in 16 dimensions
    // tilts rows by about 1 - 1/sqrt(1 + 16 * 0.15^2) = 0.14 each.
    let per_row = result.inertia / 2000.0;
    assert!((0.10..0.18).contains(&per_row), "mean 1 - cos {per_row}");
    // Scaling rows changes nothing.
    let scaled: Vec<f32> = data.iter().map(|x| x * 3.0).collect();
    assert_eq!(fit(&scaled, 16, &config(4, Metric::Cosine)).unwrap().labels, result.labels);
    let assigned = assign(&data, 16, &result.centroids, Metric::Cosine).unwrap();
    assert!(assigned.iter().all(|a| (0.0..=2.0).contains(&a.distance) && a.distance <= a.second_distance));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let data = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let ok = config(2, Metric::L2);
    assert_eq!(fit(&data, 2, &KMeansConfig { k: 0, ..ok.clone() }), Err(ClusterError::InvalidK { k: 0, rows: 3 }));
    assert_eq!(fit(&data, 2, &KMeansConfig { k: 4, ..ok.clone() }), Err(ClusterError::InvalidK { k: 4, rows: 3 }));
    assert_eq!(fit(&data, 4, &ok), Err(ClusterError::RaggedData { len: 6, dim: 4 }));
    assert_eq!(fit(&data, 0, &ok), Err(ClusterError::ZeroDimension));
    assert_eq!(fit(&[], 2, &ok), Err(ClusterError::EmptyData));
    assert_eq!(fit(&[1.0, f32::NAN, 0.0, 0.0], 2, &ok), Err(ClusterError::NotFinite { row: 0, column: 1 }));
    assert_eq!(fit(&[1.0, f32::INFINITY], 1, &ok), Err(ClusterError::NotFinite { row: 1, column: 0 }));
    assert_eq!(fit(&[1.0, 0.0, 0.0, 0.0], 2, &config(1, Metric::Cosine)), Err(ClusterError::ZeroVector { row: 1 }));
    assert!(matches!(fit(&data, 2, &KMeansConfig { max_iter: 0, ..ok.clone() }), Err(ClusterError::InvalidParameter { .. })));
    assert!(matches!(fit(&data, 2, &KMeansConfig { n_init: 0, ..ok.clone() }), Err(ClusterError::InvalidParameter { .. })));
    assert!(matches!(fit(&data, 2, &KMeansConfig { tol: f64::NAN, ..ok.clone() }), Err(ClusterError::InvalidParameter { .. })));
    assert!(matches!(Lloyd::new(&data, 2, vec![1.0, 2.0, 3.0], Metric::L2), Err(ClusterError::CentroidShape { .. })));
    assert!(matches!(Lloyd::new(&data, 2, vec![], Metric::L2), Err(ClusterError::CentroidShape { .. })));
    assert!(matches!(Lloyd::new(&data, 2, vec![0.0; 8], Metric::L2), Err(ClusterError::InvalidK { k: 4, rows: 3 })));
    assert!(matches!(Lloyd::new(&data, 2, vec![f32::NAN, 0.0], Metric::L2), Err(ClusterError::NotFinite { .. })));
    assert!(matches!(kmeans_plus_plus(&data, 2, 0, Metric::L2, 1), Err(ClusterError::InvalidK { .. })));
    assert!(matches!(assign(&data, 2, &[1.0], Metric::L2), Err(ClusterError::CentroidShape { .. })));
    // Messages are readable.
    assert_eq!(ClusterError::InvalidK { k: 4, rows: 3 }.to_string(), "k = 4 must be between 1 and the number of rows (3)");
}

#[test]
fn duplicate_rows_and_k_equal_rows_do_not_break() {
    let data = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    let result = fit(&data, 2, &config(3, Metric::L2)).unwrap();
    assert_eq!(result.inertia, 0.0);
    let distinct = [0.0, 1.0, 2.0];
    let result = fit(&distinct, 1, &config(3, Metric::L2)).unwrap();
    assert_eq!(result.inertia, 0.0);
    let mut labels = result.labels.clone();
    labels.sort();
    assert_eq!(labels, vec![0, 1, 2]);
}

#[test]
fn owned_and_borrowed_lloyd_agree() {
    let (data, _) = directional_blobs(3000, 8, 3, 0.2, 5);
    let seeds = kmeans_plus_plus(&data, 8, 3, Metric::Cosine, 2).unwrap();
    let mut borrowed = Lloyd::new(&data, 8, seeds.clone(), Metric::Cosine).unwrap();
    let mut owned = Lloyd::from_vec(data.clone(), 8, seeds, Metric::Cosine).unwrap();
    let first = borrowed.step();
    assert_eq!(first.moved, 3000);
    assert_eq!(first, owned.step());
    let mut last = first;
    for _ in 0..30 {
        last = borrowed.step();
        assert_eq!(last, owned.step());
        if last.moved == 0 {
            break;
        }
    }
    assert_eq!(last.moved, 0);
    assert_eq!(last.max_centroid_shift, 0.0);
    assert_eq!(borrowed.labels(), owned.labels());
    assert_eq!(borrowed.centroids(), owned.centroids());
}
