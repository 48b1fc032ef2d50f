/// Groups input positions into batches of similar token length.
///
/// A batch is padded to its longest member, so mixing a 10-token search query
/// with a 250-token review wastes 96% of the work on padding. Sorting by
/// length first (as sentence-transformers' `encode` does) keeps padding small.
/// Returns batches of original positions; callers scatter results back, so the
/// output order of the whole call is still the input order.
///
/// Longest first, so that the first batch tells the caller the worst-case
/// memory and time per batch early; ties keep input order, so the plan is
/// deterministic.
pub fn plan_batches(token_lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let batch_size = batch_size.max(1);
    let mut order: Vec<usize> = (0..token_lengths.len()).collect();
    order.sort_by(|&a, &b| token_lengths[b].cmp(&token_lengths[a]).then(a.cmp(&b)));
    order.chunks(batch_size).map(<[usize]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::plan_batches;

    #[test]
    fn batches_cover_every_position_once_longest_first() {
        let lengths = [3, 10, 2, 10, 7];
        let plan = plan_batches(&lengths, 2);
        assert_eq!(plan, vec![vec![1, 3], vec![4, 0], vec![2]]);
        let mut all: Vec<usize> = plan.concat();
        all.sort();
        assert_eq!(all, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn zero_batch_size_means_one_per_batch_and_empty_input_gives_no_batches() {
        assert_eq!(plan_batches(&[1, 2], 0), vec![vec![1], vec![0]]);
        assert!(plan_batches(&[], 8).is_empty());
    }
}
