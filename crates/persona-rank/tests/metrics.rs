use persona_rank::{
    catalogue_coverage, hit_rate_at_k, leave_last_out, ndcg_at_k, rank_of, recall_at_k,
    sequences_from_events, RankError,
};

#[test]
fn hit_rate_and_ndcg_by_hand() {
    let ranked = [5, 3, 9, 1];
    assert_eq!(rank_of(&ranked, 9, 10), Some(2));
    assert_eq!(hit_rate_at_k(&ranked, 9, 3), 1.0);
    assert_eq!(hit_rate_at_k(&ranked, 9, 2), 0.0);
    assert_eq!(hit_rate_at_k(&ranked, 7, 10), 0.0);
    assert_eq!(ndcg_at_k(&ranked, 5, 10), 1.0);
    assert!((ndcg_at_k(&ranked, 3, 10) - 1.0 / 3f64.log2()).abs() < 1e-12);
    assert!((ndcg_at_k(&ranked, 1, 10) - 1.0 / 5f64.log2()).abs() < 1e-12);
    assert_eq!(ndcg_at_k(&ranked, 1, 3), 0.0);
    assert_eq!(ndcg_at_k(&ranked, 5, 0), 0.0);
}

#[test]
fn recall_and_coverage_by_hand() {
    let ranked = [5, 3, 9, 1];
    assert_eq!(recall_at_k(&ranked, &[3, 1, 8, 3], 10), Ok(2.0 / 3.0));
    assert_eq!(recall_at_k(&ranked, &[3, 1], 1), Ok(0.0));
    assert!(matches!(
        recall_at_k(&ranked, &[], 10),
        Err(RankError::InvalidParameter { .. })
    ));
    let lists = vec![vec![0, 1], vec![1, 2], vec![]];
    assert_eq!(catalogue_coverage(&lists, 6), Ok(0.5));
    assert!(matches!(
        catalogue_coverage(&lists, 2),
        Err(RankError::ItemOutOfRange { item: 2, .. })
    ));
    assert!(catalogue_coverage(&lists, 0).is_err());
}

#[test]
fn leave_last_out_holds_out_the_tail() {
    let sequences = vec![vec![1, 2, 3, 4], vec![5, 6, 7], vec![8, 9], vec![10]];
    let split = leave_last_out(&sequences, 1);
    assert_eq!(split.train, vec![vec![1, 2], vec![5], vec![8], vec![10]]);
    assert_eq!(split.validation, vec![Some(3), Some(6), None, None]);
    assert_eq!(split.test, vec![Some(4), Some(7), Some(9), None]);
    assert_eq!(split.test_history(0), vec![1, 2, 3]);
    assert_eq!(split.test_history(2), vec![8]);
    assert_eq!(split.test_history(9), Vec::<u32>::new());
    let strict = leave_last_out(&sequences, 2);
    assert_eq!(strict.test, vec![Some(4), Some(7), None, None]);
    assert_eq!(strict.validation, vec![Some(3), None, None, None]);
}

#[test]
fn events_become_time_ordered_sequences() {
    let events = [
        (0, 7, 30),
        (1, 1, 5),
        (0, 3, 10),
        (0, 9, 30),
        (0, 2, 30),
        (5, 1, 1),
    ];
    let sequences = sequences_from_events(&events, 2);
    assert_eq!(sequences, vec![vec![3, 2, 7, 9], vec![1]]);
}
