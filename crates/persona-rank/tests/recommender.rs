//! The recommender SQL serves: scoring, the automatic choice on sequential
//! and unordered shops, large catalogues, the category cap, bad input.

use persona_rank::recommender::{
    choose, fit, rank_batch, split_last, train, Ask, Given, Method, Params, Reason, Recommender,
    UserInput, Validation,
};
use persona_rank::{item_popularity, RankError, NEVER};

/// A tiny deterministic generator (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn model(histories: &[Vec<u32>], n: usize, params: Params) -> Recommender {
    let pop = item_popularity(histories, n).unwrap();
    let fitted = fit(histories, n, &params, NEVER).unwrap();
    let mut rec = Recommender::new(
        params,
        (0..n as i64).map(|i| 100 + i).collect(),
        pop.iter().map(|&c| c as f32).collect(),
    );
    rec.set_lists(fitted.main, fitted.next);
    rec
}

fn items(lists: &[Vec<(u32, f32, Reason)>]) -> Vec<Vec<u32>> {
    lists
        .iter()
        .map(|l| l.iter().map(|r| r.0).collect())
        .collect()
}

#[test]
fn excludes_seen_fills_from_popularity_and_honours_the_mask() {
    let histories = vec![vec![0, 1, 2], vec![0, 1], vec![0, 2], vec![3, 4]];
    let p = Params {
        method: Method::Knn,
        half_life: 0.0,
        transition_weight: 0.0,
        ..Params::default()
    };
    let rec = model(&histories, 5, p);
    let users: Vec<UserInput> = [vec![0], vec![], vec![0, 1, 2, 3]]
        .into_iter()
        .map(|h| UserInput {
            history: h,
            ..UserInput::default()
        })
        .collect();
    let ask = Ask {
        k: 3,
        exclude_seen: true,
        allow: None,
        reasons: true,
    };
    let got = rank_batch(&rec, &users, &ask, &Default::default()).unwrap();
    let ids = items(&got);
    assert_eq!(ids[0][..2], [1, 2]);
    assert!(matches!(got[0][0].2, Reason::Related(0)));
    // No history: popularity alone, ties by index.
    assert_eq!(ids[1], vec![0, 1, 2]);
    assert!(got[1].iter().all(|r| r.2 == Reason::Popular));
    // One unseen item left: one result, not k.
    assert_eq!(ids[2], vec![4]);
    let allow = [true, false, true, true, true];
    let masked = rank_batch(
        &rec,
        &users[..1],
        &Ask {
            allow: Some(&allow),
            ..ask
        },
        &Default::default(),
    )
    .unwrap();
    assert!(!items(&masked)[0].contains(&1));
    let bad = [UserInput {
        history: vec![9],
        ..UserInput::default()
    }];
    assert!(matches!(
        rank_batch(&rec, &bad, &ask, &Default::default()),
        Err(RankError::ItemOutOfRange { .. })
    ));
}

/// Users walk chains: item i is followed by i + 1 (the next item is what
/// order tells), in 30 chains of 10 items.
fn sequential_shop(rng: &mut Rng) -> (Vec<Vec<u32>>, usize) {
    let n = 300;
    let histories = (0..1500)
        .map(|_| {
            let chain = rng.below(30) as u32 * 10;
            let start = rng.below(4) as u32;
            let len = 4 + rng.below(5) as u32;
            (start..(start + len).min(10)).map(|p| chain + p).collect()
        })
        .collect();
    (histories, n)
}

/// Users pick items of their taste group in no order at all.
fn unordered_shop(rng: &mut Rng) -> (Vec<Vec<u32>>, usize) {
    let n = 300;
    let histories = (0..1500)
        .map(|_| {
            let group = rng.below(10) as u32 * 30;
            let len = 8 + rng.below(12);
            let mut h: Vec<u32> = Vec::new();
            while h.len() < len {
                let i = group + rng.below(30) as u32;
                if !h.contains(&i) {
                    h.push(i);
                }
            }
            h
        })
        .collect();
    (histories, n)
}

#[test]
fn the_choice_follows_the_shop() {
    let auto = Given {
        search: true,
        ..Given::default()
    };
    let (seq, n) = sequential_shop(&mut Rng(7));
    let (p, s) = choose(&seq, n, &Params::default(), &auto, NEVER).unwrap();
    assert!(
        p.half_life > 0.0 && p.half_life <= 4.0 || p.transition_weight > 0.0,
        "sequential shop: {}",
        s.summary()
    );
    assert!(s.chosen.ndcg > 2.0 * s.popularity_ndcg, "{}", s.summary());
    let (uno, n) = unordered_shop(&mut Rng(11));
    let (p, s) = choose(
        &uno,
        n,
        &Params {
            validation: Validation::Random,
            ..Params::default()
        },
        &auto,
        NEVER,
    )
    .unwrap();
    assert_eq!(p.transition_weight, 0.0, "unordered shop: {}", s.summary());
    assert!(
        p.half_life == 0.0 || p.half_life >= 8.0,
        "unordered shop: {}",
        s.summary()
    );
    assert!(s.chosen.ndcg > s.popularity_ndcg, "{}", s.summary());
    // Every candidate is recorded, the chosen one among the best.
    let best = s.candidates.iter().map(|c| c.ndcg).fold(f64::MIN, f64::max);
    assert_eq!(s.chosen.ndcg, best);
}

#[test]
fn given_parameters_are_kept() {
    let (seq, n) = sequential_shop(&mut Rng(3));
    let (params, given) = Params::from_options(
        Some(Method::Knn),
        &serde_json::json!({"half_life": 0, "transition_weight": 0}),
    )
    .unwrap();
    let (p, s) = choose(&seq, n, &params, &given, NEVER).unwrap();
    assert_eq!(
        (p.method, p.half_life, p.transition_weight),
        (Method::Knn, 0.0, 0.0)
    );
    assert!(
        !s.searched.contains(&"method".to_owned()) && !s.searched.contains(&"half_life".to_owned())
    );
    // Search off: the parameters as given, no choice.
    let (params, given) =
        Params::from_options(None, &serde_json::json!({"search": false})).unwrap();
    let t = train(&seq, n, &params, &given, NEVER).unwrap();
    assert!(t.selection.is_none());
    assert_eq!(t.params, Params::default());
}

#[test]
fn large_catalogues_blend_knn_beyond_the_dense_limit() {
    let (histories, n) = unordered_shop(&mut Rng(5));
    let base = Params {
        max_items: 60,
        validation: Validation::Random,
        ..Params::default()
    };
    let (p, _) = choose(
        &histories,
        n,
        &base,
        &Given {
            search: true,
            ..Given::default()
        },
        NEVER,
    )
    .unwrap();
    assert_ne!(
        p.method,
        Method::Ease,
        "EASE alone cannot score items beyond its limit"
    );
    // A blend scores items outside the EASE subset through item-kNN.
    let rec = model(
        &histories,
        n,
        Params {
            method: Method::Blend,
            max_items: 60,
            half_life: 0.0,
            transition_weight: 0.0,
            ..Params::default()
        },
    );
    let tail = (0..n as u32)
        .filter(|&i| !rec.main.row(i).0.is_empty())
        .count();
    assert!(tail > 200, "{tail} items have neighbours");
}

#[test]
fn the_category_cap_limits_each_category() {
    let (histories, n) = unordered_shop(&mut Rng(9));
    let params = Params {
        method: Method::Knn,
        half_life: 0.0,
        transition_weight: 0.0,
        max_per_category: 2,
        ..Params::default()
    };
    let mut rec = model(&histories, n, params);
    rec.set_categories((0..n).map(|i| Some(format!("c{}", i % 7))).collect());
    let users: Vec<UserInput> = histories
        .iter()
        .take(50)
        .map(|h| UserInput {
            history: h.clone(),
            ..UserInput::default()
        })
        .collect();
    let lists = rank_batch(
        &rec,
        &users,
        &Ask {
            k: 10,
            exclude_seen: true,
            allow: None,
            reasons: true,
        },
        &Default::default(),
    )
    .unwrap();
    for l in &lists {
        assert_eq!(l.len(), 10);
        for c in 0..7 {
            assert!(l.iter().filter(|r| r.0 as usize % 7 == c).count() <= 2);
        }
    }
}

#[test]
fn cancel_and_bad_input() {
    let (histories, n) = sequential_shop(&mut Rng(1));
    let auto = Given {
        search: true,
        ..Given::default()
    };
    assert!(matches!(
        choose(&histories, n, &Params::default(), &auto, &|| true),
        Err(RankError::Cancelled)
    ));
    assert!(train(&[vec![5]], 3, &Params::default(), &auto, NEVER).is_err());
    assert!(fit(
        &histories,
        n,
        &Params {
            lambda: -1.0,
            ..Params::default()
        },
        NEVER
    )
    .is_err());
    // Leave-last-out never trains on the target.
    let split = split_last(&histories);
    for (h, t) in split.train.iter().zip(&split.test) {
        assert!(t.iter().all(|i| !h.contains(i)));
    }
}

#[test]
fn popularity_when_histories_say_nothing_more() {
    // Every user draws items by popularity alone (about 1/i), independently.
    let mut rng = Rng(13);
    let n = 300usize;
    let weights: Vec<f64> = (1..=n).map(|i| 1.0 / i as f64).collect();
    let total: f64 = weights.iter().sum();
    let histories: Vec<Vec<u32>> = (0..3000)
        .map(|_| {
            let mut h: Vec<u32> = Vec::new();
            while h.len() < 6 {
                let mut x = (rng.next() % 1_000_000) as f64 / 1_000_000.0 * total;
                let mut i = 0;
                while i + 1 < n && x > weights[i] {
                    x -= weights[i];
                    i += 1;
                }
                if !h.contains(&(i as u32)) {
                    h.push(i as u32);
                }
            }
            h
        })
        .collect();
    let (p, s) = choose(
        &histories,
        n,
        &Params::default(),
        &Given {
            search: true,
            ..Given::default()
        },
        NEVER,
    )
    .unwrap();
    assert_eq!(p.method, Method::Popularity, "{}", s.summary());
    // Its lists are popularity's, with that reason.
    let rec = model(&histories, n, p);
    let users = [UserInput {
        history: vec![0, 5],
        ..UserInput::default()
    }];
    let got = rank_batch(
        &rec,
        &users,
        &Ask {
            k: 3,
            exclude_seen: true,
            allow: None,
            reasons: true,
        },
        &Default::default(),
    )
    .unwrap();
    assert_eq!(items(&got)[0], vec![1, 2, 3]);
    assert!(got[0].iter().all(|r| r.2 == Reason::Popular));
}
