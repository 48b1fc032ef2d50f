use persona_rank::{
    fit_ease, fit_item_knn, fit_transitions, item_popularity, most_popular, popularity_scores,
    weighted_history, EaseConfig, KnnConfig, Precision, RankError, Recency, TransitionConfig,
    EASE_MAX_ITEMS,
};

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn item_knn_is_cosine_of_user_sets() {
    // Item 0: users {0,1,2}; item 1: users {0,1}; item 2: users {2,3}; item 3: user {3}.
    let histories = vec![vec![0, 1], vec![1, 0, 0], vec![0, 2], vec![2, 3]];
    let model = fit_item_knn(
        &histories,
        4,
        &KnnConfig {
            neighbours: 10,
            shrink: 0.0,
        },
    )
    .expect("fit");
    assert!(close(
        model.weight(0, 1).expect("in range"),
        2.0 / (3.0f32 * 2.0).sqrt()
    ));
    assert!(close(
        model.weight(0, 2).expect("in range"),
        1.0 / (3.0f32 * 2.0).sqrt()
    ));
    assert!(close(
        model.weight(2, 3).expect("in range"),
        1.0 / 2.0f32.sqrt()
    ));
    assert_eq!(model.weight(1, 3), Ok(0.0));
    assert_eq!(model.weight(0, 0), Ok(0.0), "no self-similarity");
    let with_shrink = fit_item_knn(
        &histories,
        4,
        &KnnConfig {
            neighbours: 10,
            shrink: 1.0,
        },
    )
    .expect("fit");
    assert!(close(
        with_shrink.weight(0, 1).expect("in range"),
        2.0 / (6.0f32.sqrt() + 1.0)
    ));
    // Keeping one neighbour keeps the most similar.
    let one = fit_item_knn(
        &histories,
        4,
        &KnnConfig {
            neighbours: 1,
            shrink: 0.0,
        },
    )
    .expect("fit");
    assert_eq!(
        one.neighbours(0, 5).expect("in range"),
        vec![(1, 2.0 / 6.0f32.sqrt())]
    );
}

#[test]
fn transitions_count_what_follows() {
    let sequences = vec![vec![0, 1, 2], vec![0, 1], vec![0, 2]];
    let forward = TransitionConfig {
        window: 1,
        decay: 1.0,
        backward: 0.0,
        neighbours: 10,
    };
    let model = fit_transitions(&sequences, 3, &forward).expect("fit");
    // From 0: followed by 1 twice and 2 once.
    assert!(close(model.weight(0, 1).expect("in range"), 2.0 / 3.0));
    assert!(close(model.weight(0, 2).expect("in range"), 1.0 / 3.0));
    assert!(close(model.weight(1, 2).expect("in range"), 1.0));
    assert_eq!(model.weight(2, 0), Ok(0.0));
    let window = TransitionConfig {
        window: 2,
        decay: 0.5,
        backward: 0.0,
        neighbours: 10,
    };
    let model = fit_transitions(&sequences, 3, &window).expect("fit");
    // From 0: 1 (×2, step 1), 2 (step 2 in the first, ×0.5; step 1 in the last).
    assert!(close(model.weight(0, 1).expect("in range"), 2.0 / 3.5));
    assert!(close(model.weight(0, 2).expect("in range"), 1.5 / 3.5));
    let both = TransitionConfig {
        window: 1,
        decay: 1.0,
        backward: 1.0,
        neighbours: 10,
    };
    let model = fit_transitions(&sequences, 3, &both).expect("fit");
    assert!(close(model.weight(2, 0).expect("in range"), 0.5));
    assert!(fit_transitions(
        &sequences,
        3,
        &TransitionConfig {
            window: 0,
            ..forward
        }
    )
    .is_err());
}

#[test]
fn recency_weights_and_scoring() {
    let history = [4, 2, 4, 7];
    assert_eq!(
        weighted_history(&history, Recency::Uniform).expect("valid"),
        vec![(2, 1.0), (4, 1.0), (7, 1.0)]
    );
    assert_eq!(
        weighted_history(&history, Recency::LastN(2)).expect("valid"),
        vec![(4, 1.0), (7, 1.0)]
    );
    let exp = weighted_history(&history, Recency::Exponential { half_life: 1.0 }).expect("valid");
    // Item 4's latest occurrence is one step before the last.
    assert_eq!(exp, vec![(2, 0.25), (4, 0.5), (7, 1.0)]);
    assert!(matches!(
        weighted_history(&history, Recency::Exponential { half_life: 0.0 }),
        Err(RankError::InvalidParameter { .. })
    ));

    let sequences = vec![vec![0, 1], vec![0, 2], vec![1, 2]];
    let model = fit_transitions(
        &sequences,
        3,
        &TransitionConfig {
            window: 1,
            decay: 1.0,
            backward: 0.0,
            neighbours: 10,
        },
    )
    .expect("fit");
    let mut scores = vec![0.0f32; 3];
    model
        .accumulate_scores(&[(0, 2.0), (1, 1.0)], &mut scores)
        .expect("valid");
    assert_eq!(scores, vec![0.0, 1.0, 2.0]);
    assert!(matches!(
        model.accumulate_scores(&[(3, 1.0)], &mut scores),
        Err(RankError::ItemOutOfRange {
            item: 3,
            n_items: 3
        })
    ));
    assert!(matches!(
        model.accumulate_scores(&[], &mut [0.0; 2]),
        Err(RankError::ShapeMismatch { .. })
    ));
}

#[test]
fn popularity_counts_users_once() {
    let histories = vec![vec![1, 1, 2], vec![2], vec![0, 2]];
    assert_eq!(item_popularity(&histories, 3), Ok(vec![1, 1, 3]));
    assert_eq!(popularity_scores(&histories, 3), Ok(vec![1.0, 1.0, 3.0]));
    assert_eq!(most_popular(&[1, 1, 3], 2), vec![2, 0]);
    assert!(matches!(
        item_popularity(&histories, 2),
        Err(RankError::ItemOutOfRange { item: 2, .. })
    ));
}

#[test]
fn ease_refuses_catalogues_too_large_for_a_dense_fit() {
    let histories = vec![vec![0u32, 1]];
    let config = EaseConfig {
        lambda: 10.0,
        max_items: None,
        precision: Precision::F32,
    };
    assert!(matches!(
        fit_ease(&histories, EASE_MAX_ITEMS + 1, &config),
        Err(RankError::InvalidParameter {
            name: "max_items",
            ..
        })
    ));
    let limited = EaseConfig {
        max_items: Some(2),
        ..config
    };
    let model =
        fit_ease(&histories, EASE_MAX_ITEMS + 1, &limited).expect("fits the two popular items");
    assert!(model.is_modelled(1) && !model.is_modelled(2));
}
