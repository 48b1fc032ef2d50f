//! Full-ranking leave-last-out evaluation of a scoring function.

use rayon::prelude::*;

use persona_rank::{
    catalogue_coverage, distinct_sorted, hit_rate_at_k, ndcg_at_k, top_k_from_scores, RankError,
};

pub const K: usize = 10;

#[derive(Debug, Clone, Copy, Default)]
pub struct Quality {
    pub hr: f64,
    pub ndcg: f64,
    pub users: usize,
    pub coverage: f64,
}

/// Ranks every item for each user with a target, excluding the user's own
/// history, and averages HR@K and NDCG@K. `score` adds a user's scores into
/// a zeroed vector with one entry per item.
pub fn evaluate<F>(
    histories: &[Vec<u32>],
    targets: &[Option<u32>],
    n_items: usize,
    score: F,
) -> Result<Quality, RankError>
where
    F: Fn(&[u32], &mut [f32]) -> Result<(), RankError> + Sync,
{
    let per_user: Vec<(f64, f64, Vec<u32>)> = histories
        .par_iter()
        .zip(targets)
        .filter_map(|(h, t)| t.map(|t| (h, t)))
        .map_init(
            || vec![0.0f32; n_items],
            |scores, (history, target)| {
                scores.iter_mut().for_each(|s| *s = 0.0);
                score(history, scores)?;
                let seen = distinct_sorted(history);
                let top = top_k_from_scores(scores, K, &seen, None)?;
                let ranked: Vec<u32> = top.iter().map(|p| p.0).collect();
                Ok((
                    hit_rate_at_k(&ranked, target, K),
                    ndcg_at_k(&ranked, target, K),
                    ranked,
                ))
            },
        )
        .collect::<Result<_, RankError>>()?;
    let users = per_user.len().max(1);
    let lists: Vec<&Vec<u32>> = per_user.iter().map(|p| &p.2).collect();
    Ok(Quality {
        hr: per_user.iter().map(|p| p.0).sum::<f64>() / users as f64,
        ndcg: per_user.iter().map(|p| p.1).sum::<f64>() / users as f64,
        users: per_user.len(),
        coverage: catalogue_coverage(&lists, n_items)?,
    })
}
