//! `mixture_segments`: a mixture's scores as segments.

use persona_cluster::{adjusted_rand_index, fit_gmm, mixture_segments, normalize_rows, GmmParams, Hooks, SliceRows};

/// Three blobs 10 apart along distinct axes, with labels.
fn blobs(n: usize, dim: usize) -> (Vec<f32>, Vec<u32>) {
    let mut state = 7u64;
    let mut noise = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) as f32
    };
    let (mut data, mut labels) = (Vec::new(), Vec::new());
    for i in 0..n {
        let c = i % 3;
        for p in 0..dim {
            data.push(if p == c { 10.0 } else { 0.0 } + noise());
        }
        labels.push(c as u32);
    }
    (data, labels)
}

#[test]
fn segments_follow_the_mixture_and_probabilities_sum_to_one() {
    let (dim, n) = (6, 900);
    let (raw, truth) = blobs(n, dim);
    for metric in ["l2", "cosine"] {
        // Under cosine the rows come unit length, as a source's first read keeps them.
        let mut data = raw.clone();
        if metric == "cosine" {
            normalize_rows(&mut data, dim).unwrap();
        }
        let p = GmmParams { k: Some(3), metric, components_dim: 4, ..GmmParams::default() }.check().unwrap();
        let source = SliceRows::new(&data, dim, p.metric(), p.sample_size(), p.seed()).unwrap();
        let fit = fit_gmm(&source, &p, &Hooks::NONE).unwrap();
        let soft = mixture_segments(&data, dim, &fit.model).unwrap();
        let s = &soft.segmentation;
        assert_eq!((s.k, s.dim, s.assignments.len(), s.centroids.len()), (3, dim, n, 3 * dim));
        let labels: Vec<u32> = s.assignments.iter().map(|a| a.label).collect();
        assert_eq!(labels, soft.scores.labels);
        assert!(adjusted_rand_index(&truth, &labels).unwrap() > 0.99, "{metric}");
        for p in soft.scores.probabilities.chunks(3) {
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        for a in &s.assignments {
            assert!(a.distance.is_finite() && a.distance <= a.second_distance, "{metric}: {a:?}");
        }
        // Each centre sits on its blob's axis.
        for j in 0..3 {
            let c = &s.centroids[j * dim..(j + 1) * dim];
            let top = (0..dim).max_by(|&a, &b| c[a].total_cmp(&c[b])).unwrap();
            assert!(top < 3 && c[top] > 0.9 * c.iter().map(|x| x.abs()).sum::<f32>() / 1.2, "{metric}: {c:?}");
        }
        assert!(s.spreads.iter().all(|x| x.is_some()));
        assert!(s.inertia > 0.0);
        // A row of the wrong width is refused.
        assert!(mixture_segments(&data[..dim - 1], dim - 1, &fit.model).is_err());
    }
}
