//! Training without holding the data: exact passes over chunks, mini-batches.

mod common;

use common::{blobs, directional_blobs, sq_inertia};
use persona_cluster::{fit, kmeans_plus_plus, ClusterError, KMeansConfig, Lloyd, Metric, MiniBatch, PassAccumulator};

/// Runs `steps` Lloyd steps in memory and as chunked passes, side by side,
/// and checks they agree exactly. Returns how many clusters came up empty.
fn passes_match_lloyd(data: &[f32], dim: usize, initial: Vec<f32>, metric: Metric, chunk_rows: usize, steps: usize) -> usize {
    let k = initial.len() / dim;
    let mut lloyd = Lloyd::new(data, dim, initial.clone(), metric).unwrap();
    let mut centroids = initial;
    let mut empty = 0;
    for _ in 0..steps {
        let stats = lloyd.step();
        let mut pass = PassAccumulator::new(k, dim, metric).unwrap();
        let mut chunk_sum = 0.0;
        for chunk in data.chunks(chunk_rows * dim) {
            chunk_sum += pass.add_chunk(chunk, &centroids).unwrap();
        }
        let outcome = pass.finish(&centroids).unwrap();
        assert_eq!(outcome.centroids, lloyd.centroids(), "centroids differ after step {}", stats.iteration);
        assert!((outcome.inertia - stats.inertia).abs() <= 1e-9 * stats.inertia);
        assert!((outcome.inertia - chunk_sum).abs() <= 1e-9 * stats.inertia);
        assert_eq!(outcome.empty_clusters.len(), stats.empty_clusters);
        assert_eq!(outcome.max_centroid_shift, stats.max_centroid_shift);
        assert_eq!(outcome.rows as usize, data.len() / dim);
        empty += stats.empty_clusters;
        centroids = outcome.centroids;
    }
    empty
}

#[test]
fn chunked_passes_give_the_lloyd_step() {
    let (data, _) = blobs(20_000, 12, 6, 5.0, 21);
    let initial = kmeans_plus_plus(&data, 12, 6, Metric::L2, 3).unwrap();
    // Chunks that cut across the kernel's blocks and parallel leaves.
    passes_match_lloyd(&data, 12, initial.clone(), Metric::L2, 777, 4);
    passes_match_lloyd(&data, 12, initial, Metric::L2, 9000, 2);
}

#[test]
fn chunked_passes_match_under_cosine_and_with_empty_clusters() {
    let (data, _) = directional_blobs(5000, 10, 3, 0.2, 22);
    let mut initial = kmeans_plus_plus(&data, 10, 3, Metric::Cosine, 4).unwrap();
    // Two copies of one seed: one of them is bound to end up empty.
    let duplicate = initial[..10].to_vec();
    initial.extend_from_slice(&duplicate);
    assert!(passes_match_lloyd(&data, 10, initial, Metric::Cosine, 1234, 3) >= 1);
}

#[test]
fn mini_batch_gets_close_to_lloyd() {
    let dim = 8;
    let (data, _) = blobs(40_000, dim, 6, 8.0, 23);
    let full = fit(&data, dim, &KMeansConfig { k: 6, n_init: 1, seed: 9, ..KMeansConfig::default() }).unwrap();
    // Seeded from a sample, as a caller streaming a big table would.
    let sample = &data[..2000 * dim];
    let seeds = kmeans_plus_plus(sample, dim, 6, Metric::L2, 9).unwrap();
    let mut mini = MiniBatch::new(seeds, dim, Metric::L2).unwrap();
    for _epoch in 0..3 {
        for batch in data.chunks(1024 * dim) {
            let batch_inertia = mini.update(batch).unwrap();
            assert!(batch_inertia >= 0.0);
        }
    }
    assert_eq!(mini.counts().iter().sum::<u64>(), 3 * 40_000);
    let mini_inertia = sq_inertia(&data, dim, mini.centroids());
    let ratio = mini_inertia / full.inertia;
    assert!(ratio < 1.03, "mini-batch inertia {mini_inertia} vs Lloyd {} (ratio {ratio})", full.inertia);
}

#[test]
fn out_of_core_errors() {
    assert!(matches!(PassAccumulator::new(0, 2, Metric::L2), Err(ClusterError::InvalidK { .. })));
    assert_eq!(PassAccumulator::new(2, 0, Metric::L2).err(), Some(ClusterError::ZeroDimension));
    let mut pass = PassAccumulator::new(2, 2, Metric::L2).unwrap();
    let centroids = [0.0, 0.0, 1.0, 1.0];
    assert!(matches!(pass.add_chunk(&[1.0, 2.0, 3.0], &centroids), Err(ClusterError::RaggedData { .. })));
    assert!(matches!(pass.add_chunk(&[1.0, 2.0], &centroids[..2]), Err(ClusterError::CentroidShape { .. })));
    assert!(matches!(pass.add_chunk(&[f32::NAN, 2.0], &centroids), Err(ClusterError::NotFinite { .. })));
    pass.add_chunk(&[1.0, 2.0], &centroids).unwrap();
    assert_eq!(pass.rows_seen(), 1);
    // One row cannot feed two clusters.
    assert!(matches!(pass.finish(&centroids), Err(ClusterError::InvalidK { k: 2, rows: 1 })));
    let mut mini = MiniBatch::new(vec![1.0, 0.0, 0.0, 1.0], 2, Metric::Cosine).unwrap();
    assert!(matches!(mini.update(&[0.0, 0.0]), Err(ClusterError::ZeroVector { row: 0 })));
    assert!(matches!(MiniBatch::new(vec![1.0], 2, Metric::L2), Err(ClusterError::CentroidShape { .. })));
}
