//! Long fits stop with `Cancelled` soon after their stop check says so.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::SplitMix;
use persona_rank::{
    fit_ease, fit_ease_with, fit_item_knn_with, fit_transitions_with, spd_inverse_with, EaseConfig,
    KnnConfig, Precision, RankError, TransitionConfig,
};

fn random_histories(users: usize, n_items: usize, per_user: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = SplitMix(seed);
    (0..users)
        .map(|_| {
            (0..per_user)
                .map(|_| rng.below(n_items as u64) as u32)
                .collect()
        })
        .collect()
}

const F32: EaseConfig = EaseConfig {
    lambda: 10.0,
    max_items: None,
    precision: Precision::F32,
};

#[test]
fn a_set_flag_stops_ease_with_cancelled() {
    let h = random_histories(2000, 600, 8, 1);
    let flag = AtomicBool::new(true);
    let stop = || flag.load(Ordering::Relaxed);
    assert_eq!(
        fit_ease_with(&h, 600, &F32, &stop).err(),
        Some(RankError::Cancelled)
    );
    // Unset, the same fit succeeds and equals the plain one.
    flag.store(false, Ordering::Relaxed);
    let with = fit_ease_with(&h, 600, &F32, &stop).expect("fits");
    let plain = fit_ease(&h, 600, &F32).expect("fits");
    for (i, j) in [(0u32, 1u32), (5, 300), (599, 2)] {
        assert_eq!(with.weight(i, j), plain.weight(i, j));
    }
}

#[test]
fn ease_asks_throughout_the_fit_not_only_at_its_start() {
    // Stop at the k-th question: every k up to the number of questions
    // asked in a whole fit must end in Cancelled, so none is asked only
    // before or after the work.
    let h = random_histories(3000, 700, 8, 2);
    let asked = AtomicUsize::new(0);
    fit_ease_with(&h, 700, &F32, &|| {
        asked.fetch_add(1, Ordering::Relaxed);
        false
    })
    .expect("fits");
    let total = asked.load(Ordering::Relaxed);
    // 700 items in 128-column blocks: dozens of blocks per stage.
    assert!(total > 50, "only {total} checks in a 700-item fit");
    for k in [1, 2, total / 4, total / 2, total - 1] {
        let n = AtomicUsize::new(0);
        let got = fit_ease_with(&h, 700, &F32, &|| {
            n.fetch_add(1, Ordering::Relaxed) + 1 >= k
        });
        assert_eq!(
            got.err(),
            Some(RankError::Cancelled),
            "stop at check {k} of {total}"
        );
    }
}

#[test]
fn ease_stops_within_a_fraction_of_a_second_of_the_flag() {
    // A fit of a few seconds, the flag set from another thread shortly
    // after it starts.
    // Large enough that the fit outlasts the flag on a fast idle machine.
    let n = 4000;
    let h = random_histories(8000, n, 10, 3);
    let flag = AtomicBool::new(false);
    let set_at = std::sync::Mutex::new(None);
    let (got, returned) = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(100));
            *set_at.lock().unwrap() = Some(Instant::now());
            flag.store(true, Ordering::Relaxed);
        });
        let got = fit_ease_with(&h, n, &F32, &|| flag.load(Ordering::Relaxed));
        (got, Instant::now())
    });
    let set_at = set_at
        .lock()
        .unwrap()
        .expect("the flag was set before the fit ended");
    assert_eq!(got.err(), Some(RankError::Cancelled));
    let lag = returned.duration_since(set_at);
    assert!(
        lag < Duration::from_millis(250),
        "stopped {lag:?} after the flag"
    );
}

#[test]
fn spd_inverse_knn_and_transitions_stop_too() {
    let stop = || true;
    assert_eq!(
        spd_inverse_with(vec![2.0f64, 0.0, 0.0, 2.0], 2, &stop).err(),
        Some(RankError::Cancelled)
    );
    let h = random_histories(500, 300, 6, 4);
    assert_eq!(
        fit_item_knn_with(&h, 300, &KnnConfig::default(), &stop).err(),
        Some(RankError::Cancelled)
    );
    assert_eq!(
        fit_transitions_with(&h, 300, &TransitionConfig::default(), &stop).err(),
        Some(RankError::Cancelled)
    );
    let never = || false;
    assert!(fit_item_knn_with(&h, 300, &KnnConfig::default(), &never).is_ok());
    assert!(fit_transitions_with(&h, 300, &TransitionConfig::default(), &never).is_ok());
}
