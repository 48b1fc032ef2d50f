//! How well a score ranks the planted bots: AUC and precision at the number
//! of bots.

/// Area under the ROC curve of `scores` for the positives `bot` (ties count
/// one half, as in the Mann-Whitney U statistic).
pub fn auc(scores: &[f64], bot: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += (i..=j).filter(|&k| bot[order[k]]).count() as f64 * mid;
        i = j + 1;
    }
    let pos = bot.iter().filter(|&&b| b).count() as f64;
    let neg = bot.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return f64::NAN;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Share of bots among the `k` highest scores, with the users tied at the
/// cut counted pro rata (so that a tie cannot flatter the figure).
pub fn precision_at(scores: &[f64], bot: &[bool], k: usize) -> f64 {
    if k == 0 {
        return f64::NAN;
    }
    let mut s: Vec<f64> = scores.to_vec();
    s.sort_by(|a, b| b.total_cmp(a));
    let cut = s[k - 1];
    let above = scores.iter().zip(bot).filter(|(&x, _)| x > cut);
    let (n_above, bots_above) = above.fold((0usize, 0usize), |(n, b), (_, &is)| (n + 1, b + is as usize));
    let tied: Vec<bool> = scores.iter().zip(bot).filter(|(&x, _)| x == cut).map(|(_, &b)| b).collect();
    let take = (k - n_above) as f64;
    let tied_bots = tied.iter().filter(|&&b| b).count() as f64;
    (bots_above as f64 + take * tied_bots / tied.len() as f64) / k as f64
}
