//! `fit_gmm` and `GmmModel`: recovery, storage, determinism, settings, cancel.

mod common;

use std::cell::{Cell, RefCell};

use common::{directional_blobs, Gen};
use persona_cluster::{
    adjusted_rand_index, fit_gmm, ClusterError, GmmFit, GmmModel, GmmParams, GmmProgress, Hooks, Metric, SliceRows, ValidGmmParams,
};

/// `n` rows in clusters of unequal spread (0.3, 1, 2) and size, in `dim`
/// dimensions, centres 12 apart along distinct axes. Returns data and labels.
fn unequal_blobs(n: usize, dim: usize, seed: u64) -> (Vec<f32>, Vec<u32>) {
    let mut g = Gen::new(seed);
    let spreads = [0.3, 1.0, 2.0];
    let mut data = Vec::with_capacity(n * dim);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        // Sizes 1 : 2 : 3.
        let c = match i % 6 {
            0 => 0,
            1 | 2 => 1,
            _ => 2,
        };
        for p in 0..dim {
            let centre = if p == c { 12.0 } else { 0.0 };
            data.push((centre + spreads[c] * g.normal()) as f32);
        }
        labels.push(c as u32);
    }
    (data, labels)
}

fn params(k: Option<i64>, metric: &str) -> ValidGmmParams {
    GmmParams { k, k_min: 1, k_max: 5, metric, components_dim: 8, n_runs: 2, ..GmmParams::default() }.check().unwrap()
}

fn fit(data: &[f32], dim: usize, p: &ValidGmmParams) -> GmmFit {
    let source = SliceRows::new(data, dim, p.metric(), p.sample_size(), p.seed()).unwrap();
    fit_gmm(&source, p, &Hooks::NONE).unwrap()
}

fn labels_of(model: &GmmModel, data: &[f32]) -> Vec<u32> {
    model.score_rows(data).unwrap().labels
}

#[test]
fn a_planted_mixture_is_recovered_and_bic_finds_its_k() {
    let (data, truth) = unequal_blobs(1_800, 20, 7);
    let given = fit(&data, 20, &params(Some(3), "l2"));
    let ari = adjusted_rand_index(&labels_of(&given.model, &data), &truth).unwrap();
    assert!(ari > 0.9, "ARI {ari}");
    assert_eq!(given.candidates.len(), 1);
    let chosen = fit(&data, 20, &params(None, "l2"));
    assert_eq!(chosen.model.k(), 3, "{:?}", chosen.candidates);
    assert_eq!(chosen.candidates.iter().map(|c| c.k).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    // More components never fit the sample worse by much; BIC pays for them.
    let ll = |k: usize| chosen.candidates[k - 1].log_likelihood;
    assert!(ll(3) > ll(2) && ll(2) > ll(1));
}

#[test]
fn cosine_rows_are_normalised_first() {
    let (data, truth) = directional_blobs(1_200, 32, 4, 0.1, 3);
    let fitted = fit(&data, 32, &params(Some(4), "cosine"));
    let ari = adjusted_rand_index(&labels_of(&fitted.model, &data), &truth).unwrap();
    assert!(ari > 0.9, "ARI {ari}");
    // Length does not matter under cosine.
    let row = &data[..32];
    let longer: Vec<f32> = row.iter().map(|x| x * 7.0).collect();
    let (a, b) = (fitted.model.probabilities(row).unwrap(), fitted.model.probabilities(&longer).unwrap());
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 1e-9), "{a:?} {b:?}");
    assert!(matches!(fitted.model.probabilities(&[0.0; 32]), Err(ClusterError::ZeroVector { .. })));
}

#[test]
fn probabilities_are_finite_and_sum_to_one_even_far_away() {
    let (data, _) = unequal_blobs(900, 10, 2);
    let model = fit(&data, 10, &params(Some(3), "l2")).model;
    let far: Vec<f32> = (0..10).map(|i| 1e5 * (i as f32 - 4.5)).collect();
    for row in data.chunks(10).take(50).chain([far.as_slice()]) {
        let p = model.probabilities(row).unwrap();
        assert_eq!(p.len(), 3);
        assert!(p.iter().all(|v| v.is_finite() && *v >= 0.0));
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let best = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0 as u32;
        assert_eq!(model.predict(row).unwrap(), best);
    }
    let scores = model.score_rows(&data).unwrap();
    assert_eq!(scores.probabilities.len(), 900 * 3);
    assert_eq!(&scores.probabilities[3..6], model.probabilities(&data[10..20]).unwrap().as_slice());
    let mean = scores.log_density.iter().sum::<f64>() / 900.0;
    assert!((model.log_likelihood(&data).unwrap() - mean).abs() < 1e-12);
    assert!(model.log_likelihood(&far).unwrap() < mean - 100.0);
    assert_eq!(model.probabilities(&[1.0; 3]), Err(ClusterError::LengthMismatch { left: 3, right: 10 }));
    assert!(matches!(model.score_rows(&[f32::NAN; 10]), Err(ClusterError::NotFinite { .. })));
}

#[test]
fn parts_round_trip_and_corrupt_parts_are_refused() {
    let (data, _) = unequal_blobs(600, 6, 4);
    let model = fit(&data, 6, &params(Some(3), "l2")).model;
    let parts = model.to_parts();
    assert_eq!((parts.dim, parts.k, parts.components_dim), (6, 3, 6));
    assert_eq!(parts.projection.len(), 6 * 6);
    assert_eq!(parts.covariances.len(), 3 * 6 * 6);
    let back = GmmModel::from_parts(parts.clone()).unwrap();
    assert_eq!(back, model);
    assert_eq!(back.score_rows(&data).unwrap(), model.score_rows(&data).unwrap());

    let refused = |edit: &dyn Fn(&mut persona_cluster::GmmParts)| {
        let mut p = parts.clone();
        edit(&mut p);
        match GmmModel::from_parts(p) {
            Err(ClusterError::InvalidModel(m)) => m,
            other => panic!("accepted: {other:?}"),
        }
    };
    assert_eq!(refused(&|p| { p.means.pop(); }), "means has 17 values, expected 18");
    assert!(refused(&|p| p.projection.push(1.0)).starts_with("projection has 37"));
    assert!(refused(&|p| p.mean[2] = f64::NAN).contains("NaN or infinity at position 2"));
    assert!(refused(&|p| p.weights[0] = -0.1).contains("not positive"));
    assert!(refused(&|p| p.weights[0] += 0.1).contains("sum to"));
    assert!(refused(&|p| p.covariances[1] += 1.0).contains("not symmetric"));
    assert!(refused(&|p| p.covariances[0] = -1.0).contains("not positive definite"));
    assert!(refused(&|p| p.k = 0).contains("at least 1"));
    assert!(refused(&|p| p.components_dim = 7).contains("greater than dim"));
    assert!(refused(&|p| p.bic = f64::INFINITY).contains("finite"));
    assert!(refused(&|p| p.k = usize::MAX).contains("memory"));
}

#[test]
fn a_seed_gives_the_same_model_whatever_the_threads() {
    let (data, _) = unequal_blobs(900, 12, 9);
    let p = params(Some(3), "l2");
    let a = fit(&data, 12, &p);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let on_pool = |work: &mut (dyn FnMut() + Send)| pool.install(work);
    let source = SliceRows::new(&data, 12, Metric::L2, 5_000, 1).unwrap();
    let b = fit_gmm(&source, &p, &Hooks { parallel: &on_pool, ..Hooks::NONE }).unwrap();
    assert_eq!(a, b);
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    assert_eq!(single.install(|| a.model.score_rows(&data).unwrap()), a.model.score_rows(&data).unwrap());
}

#[test]
fn settings_that_do_not_fit_the_rows_are_named() {
    let (data, _) = unequal_blobs(30, 4, 1);
    let source = SliceRows::new(&data, 4, Metric::L2, 5_000, 1).unwrap();
    let err = |p: GmmParams| fit_gmm(&source, &p.check().unwrap(), &Hooks::NONE).unwrap_err();
    assert_eq!(
        err(GmmParams { k: Some(31), metric: "l2", ..GmmParams::default() }),
        ClusterError::InvalidSetting("k (31) is greater than the number of sample rows (30)".into())
    );
    assert_eq!(
        err(GmmParams { k_min: 40, k_max: 50, metric: "l2", ..GmmParams::default() }),
        ClusterError::InvalidSetting("k range 40..50 needs at least 40 sample rows, got 30".into())
    );
    let same = vec![1.0f32; 40];
    let flat = SliceRows::new(&same, 4, Metric::L2, 5_000, 1).unwrap();
    let e = fit_gmm(&flat, &params(Some(1), "l2"), &Hooks::NONE).unwrap_err();
    assert!(matches!(e, ClusterError::FitFailed(ref m) if m.contains("all the same")), "{e:?}");
}

#[test]
fn sample_size_bounds_the_rows_fitted() {
    let (data, _) = unequal_blobs(1_200, 5, 5);
    let p = GmmParams { k: Some(3), metric: "l2", sample_size: 300, ..GmmParams::default() }.check().unwrap();
    let source = SliceRows::new(&data, 5, Metric::L2, 5_000, 1).unwrap();
    let fitted = fit_gmm(&source, &p, &Hooks::NONE).unwrap();
    assert_eq!(fitted.model.parts().sample_rows, 300);
}

#[test]
fn progress_is_reported_and_a_stop_cancels() {
    let (data, _) = unequal_blobs(600, 6, 3);
    let source = SliceRows::new(&data, 6, Metric::L2, 5_000, 1).unwrap();
    let p = GmmParams { k: None, k_min: 2, k_max: 3, metric: "l2", n_runs: 2, ..GmmParams::default() }.check().unwrap();
    let log = RefCell::new(Vec::new());
    let progress = |e: GmmProgress| log.borrow_mut().push(e);
    fit_gmm(&source, &p, &Hooks { progress: &progress, ..Hooks::NONE }).unwrap();
    let log = log.into_inner();
    assert!(matches!(log[0], GmmProgress::Projected { rows: 600, dim: 6, components: 6, .. }));
    let runs = log.iter().filter(|e| matches!(e, GmmProgress::Run { outcome: Ok(_), .. })).count();
    assert_eq!(runs, 4);
    assert!(matches!(log.last(), Some(GmmProgress::ChoseK { .. })));

    // Stops at once, and after the first restart.
    let always = || true;
    assert_eq!(fit_gmm(&source, &p, &Hooks { stop: &always, ..Hooks::NONE }), Err(ClusterError::Cancelled));
    let asked = Cell::new(0);
    let later = || {
        asked.set(asked.get() + 1);
        asked.get() > 2
    };
    assert_eq!(fit_gmm(&source, &p, &Hooks { stop: &later, ..Hooks::NONE }), Err(ClusterError::Cancelled));
    assert_eq!(asked.get(), 3);
}
