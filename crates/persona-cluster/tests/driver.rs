//! `train`, the one driver: restarts, callbacks, settings, passes.

mod common;

use std::cell::{Cell, RefCell};

use common::{blobs, directional_blobs};
use persona_cluster::{
    fit, train, ClusterError, Hooks, KMeansConfig, Metric, Progress, RowSource, Segmentation, SliceRows, TrainParams,
    ValidTrainParams,
};

fn params(k: Option<i64>, metric: &str, n_init: i64, seed: u64) -> ValidTrainParams {
    TrainParams { k, k_min: 2, k_max: 6, metric, init: "k-means++", n_init, max_iter: 100, tol: 1e-4, seed, sample_size: 5_000 }
        .check()
        .unwrap()
}

fn source(data: &[f32], dim: usize, metric: Metric, seed: u64) -> SliceRows<'_> {
    SliceRows::new(data, dim, metric, 5_000, seed).unwrap()
}

/// Trains and records every progress event.
fn train_logged(rows: &dyn RowSource, p: &ValidTrainParams) -> (Segmentation, Vec<Progress>) {
    let log = RefCell::new(Vec::new());
    let progress = |e: Progress| log.borrow_mut().push(e);
    let hooks = Hooks { progress: &progress, ..Hooks::NONE };
    let out = train(rows, p, &hooks).unwrap();
    (out, log.into_inner())
}

/// Inertia after each step of run `run`.
fn run_inertias(log: &[Progress], run: usize) -> Vec<f64> {
    log.iter()
        .filter_map(|e| match *e {
            Progress::Iteration { run: r, inertia, .. } if r == run => Some(inertia),
            _ => None,
        })
        .collect()
}

#[test]
fn restarts_are_fits_restarts_with_derived_seeds() {
    let (data, _) = blobs(600, 4, 5, 6.0, 11);
    let (out, log) = train_logged(&source(&data, 4, Metric::L2, 3), &params(Some(5), "l2", 3, 3));
    let reference = fit(&data, 4, &KMeansConfig { k: 5, n_init: 3, seed: 3, max_iter: 100, tol: 1e-4, metric: Metric::L2 }).unwrap();
    assert_eq!(out.centroids, reference.centroids);
    assert_eq!(out.iterations, reference.iterations);
    let labels: Vec<u32> = out.assignments.iter().map(|a| a.label).collect();
    assert_eq!(labels, reference.labels);
    assert!((out.inertia - reference.inertia).abs() <= 1e-6 * reference.inertia);
    // Three runs, each reported; seed 4's first run is not seed 3's second.
    assert!((1..=3).all(|r| !run_inertias(&log, r).is_empty()));
    let (_, next) = train_logged(&source(&data, 4, Metric::L2, 4), &params(Some(5), "l2", 3, 4));
    assert_ne!(run_inertias(&log, 2), run_inertias(&next, 1));
}

#[test]
fn progress_comes_in_order_and_k_is_chosen() {
    let (data, _) = blobs(400, 3, 4, 8.0, 5);
    let (out, log) = train_logged(&source(&data, 3, Metric::L2, 1), &params(None, "l2", 2, 1));
    assert_eq!(log.first(), Some(&Progress::Started { rows: 400, dim: 3, in_memory: true }));
    assert_eq!(log.last(), Some(&Progress::Scored));
    let tried: Vec<usize> = log.iter().filter_map(|e| if let Progress::Candidate { k, .. } = e { Some(*k) } else { None }).collect();
    assert_eq!(tried, vec![2, 3, 4, 5, 6]);
    assert!(log.contains(&Progress::ChoseK { k: out.k, sample_rows: 400 }));
    assert_eq!(out.k, 4);
    assert_eq!(out.candidates.len(), 5);
    assert!(out.silhouette.is_some_and(|s| s > 0.5));
    assert_eq!(out.assignments.len(), 400);
    assert_eq!(out.spreads.len(), 4);
}

#[test]
fn a_stop_ends_the_training_with_cancelled() {
    let (data, _) = blobs(300, 2, 3, 5.0, 2);
    for passes in [false, true] {
        let rows = source(&data, 2, Metric::L2, 1);
        let rows = if passes { rows.in_passes(50) } else { rows };
        let asked = Cell::new(0);
        let stop = || {
            asked.set(asked.get() + 1);
            asked.get() > 3
        };
        let hooks = Hooks { stop: &stop, ..Hooks::NONE };
        assert_eq!(train(&rows, &params(Some(3), "l2", 1, 1), &hooks), Err(ClusterError::Cancelled));
        assert_eq!(asked.get(), 4);
    }
}

#[test]
fn passes_give_the_in_memory_answer() {
    for metric in [Metric::L2, Metric::Cosine] {
        let (data, _) = if metric == Metric::L2 { blobs(900, 5, 4, 5.0, 8) } else { directional_blobs(900, 5, 4, 0.2, 8) };
        let p = params(Some(4), metric.name(), 1, 7);
        let (memory, _) = train_logged(&source(&data, 5, metric, 7), &p);
        let (passes, log) = train_logged(&source(&data, 5, metric, 7).in_passes(128), &p);
        assert!(!passes.in_memory && memory.in_memory);
        assert!(log.iter().any(|e| matches!(e, Progress::Pass { .. })));
        assert_eq!(memory.iterations, passes.iterations);
        let labels = |s: &Segmentation| s.assignments.iter().map(|a| a.label).collect::<Vec<_>>();
        assert_eq!(labels(&memory), labels(&passes));
        assert!((memory.inertia - passes.inertia).abs() <= 1e-6 * memory.inertia, "{metric:?}");
        for (a, b) in memory.centroids.iter().zip(&passes.centroids) {
            assert!((a - b).abs() <= 1e-5);
        }
    }
}

#[test]
fn settings_that_do_not_fit_the_data_are_refused() {
    let (data, _) = blobs(20, 2, 2, 5.0, 1);
    let p = |k| TrainParams { k, k_min: 2, k_max: 6, metric: "l2", init: "random", n_init: 1, max_iter: 10, tol: 0.0, seed: 1, sample_size: 1 };
    let rows = SliceRows::new(&data, 2, Metric::L2, 1, 1).unwrap();
    let err = |s: &dyn RowSource, p: TrainParams| train(s, &p.check().unwrap(), &Hooks::NONE).unwrap_err().to_string();
    assert_eq!(err(&rows, p(Some(21))), "k (21) is greater than the number of rows (20)");
    assert_eq!(err(&rows, p(None)), "k range 2..6 needs at least 2 rows, got 1");
    assert_eq!(err(&rows.clone().in_passes(4), p(Some(2))), "sample_size (1) must be at least k (2) when training in passes");
    assert!(train(&rows, &p(Some(2)).check().unwrap(), &Hooks::NONE).is_ok());
    let empty = SliceRows::new(&data[..0], 2, Metric::L2, 3, 1);
    assert_eq!(empty.unwrap_err(), ClusterError::EmptyData);
}

/// A source whose later passes lose a row, as a table changed between reads would.
struct Shrinking<'a>(SliceRows<'a>, Cell<usize>);

impl RowSource for Shrinking<'_> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn rows(&self) -> usize {
        self.0.rows()
    }
    fn in_memory(&self) -> Option<&[f32]> {
        None
    }
    fn sample(&self) -> &[f32] {
        self.0.sample()
    }
    fn pass(&self, each: &mut dyn FnMut(&[f32]) -> Result<(), ClusterError>) -> Result<(), ClusterError> {
        self.1.set(self.1.get() + 1);
        let dim = self.dim();
        let data = self.0.in_memory().unwrap();
        let keep = if self.1.get() > 1 { data.len() - dim } else { data.len() };
        each(&data[..keep])
    }
}

#[test]
fn hooks_run_work_where_they_are_told_and_sources_are_checked() {
    let (data, _) = blobs(500, 3, 3, 5.0, 4);
    let rows = source(&data, 3, Metric::L2, 2);
    let p = params(Some(3), "l2", 2, 2);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let on_pool = |work: &mut (dyn FnMut() + Send)| pool.install(work);
    let hooks = Hooks { parallel: &on_pool, ..Hooks::NONE };
    assert_eq!(train(&rows, &p, &hooks).unwrap(), train(&rows, &p, &Hooks::NONE).unwrap());
    let idle = |_: &mut (dyn FnMut() + Send)| {};
    let broken = Hooks { parallel: &idle, ..Hooks::NONE };
    assert!(matches!(train(&rows, &p, &broken), Err(ClusterError::InvalidParameter { .. })));
    let shrinking = Shrinking(rows, Cell::new(0));
    let err = train(&shrinking, &params(Some(3), "l2", 1, 2), &Hooks::NONE).unwrap_err();
    assert_eq!(err, ClusterError::SourceChanged { expected: 500, got: 499 });
}
