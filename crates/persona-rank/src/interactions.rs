//! Checks and summaries of implicit-feedback histories: one list of item
//! indices per user, in time order, repeats allowed.

use crate::error::RankError;

/// Fails with `ItemOutOfRange` on the first item index `>= n_items`.
pub fn check_items<H: AsRef<[u32]>>(histories: &[H], n_items: usize) -> Result<(), RankError> {
    if u32::try_from(n_items).is_err() {
        return Err(RankError::TooLarge { what: "item count" });
    }
    for history in histories {
        if let Some(&item) = history.as_ref().iter().find(|&&i| i as usize >= n_items) {
            return Err(RankError::ItemOutOfRange { item, n_items });
        }
    }
    Ok(())
}

/// The distinct items of one history, ascending: the binary interaction row
/// the item-item models are fitted on.
pub fn distinct_sorted(history: &[u32]) -> Vec<u32> {
    let mut items = history.to_vec();
    items.sort_unstable();
    items.dedup();
    items
}

/// Per item, how many users interacted with it (repeats by one user count once).
pub fn item_popularity<H: AsRef<[u32]>>(
    histories: &[H],
    n_items: usize,
) -> Result<Vec<u32>, RankError> {
    check_items(histories, n_items)?;
    let mut counts = vec![0u32; n_items];
    for history in histories {
        for item in distinct_sorted(history.as_ref()) {
            counts[item as usize] = counts[item as usize].saturating_add(1);
        }
    }
    Ok(counts)
}

/// Popularity as a score vector (one score per item), for the popularity
/// baseline and as a tie-breaker.
pub fn popularity_scores<H: AsRef<[u32]>>(
    histories: &[H],
    n_items: usize,
) -> Result<Vec<f32>, RankError> {
    Ok(item_popularity(histories, n_items)?
        .into_iter()
        .map(|c| c as f32)
        .collect())
}

/// The `m` most popular items, most popular first, ties by index ascending.
pub fn most_popular(popularity: &[u32], m: usize) -> Vec<u32> {
    let mut order: Vec<u32> = (0..popularity.len() as u32).collect();
    order.sort_by(|&a, &b| {
        popularity[b as usize]
            .cmp(&popularity[a as usize])
            .then(a.cmp(&b))
    });
    order.truncate(m);
    order
}

/// Users of each item, as compressed rows: the users of item `i` are
/// `users[start[i] .. start[i+1]]`, each user once.
pub(crate) struct ItemUsers {
    pub start: Vec<usize>,
    pub users: Vec<u32>,
}

/// Inverts distinct user rows into [`ItemUsers`].
pub(crate) fn invert(rows: &[Vec<u32>], n_items: usize) -> Result<ItemUsers, RankError> {
    if u32::try_from(rows.len()).is_err() {
        return Err(RankError::TooLarge { what: "user count" });
    }
    let mut start = vec![0usize; n_items + 1];
    for row in rows {
        for &item in row {
            start[item as usize + 1] += 1;
        }
    }
    for i in 0..n_items {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut users = vec![0u32; start[n_items]];
    for (user, row) in rows.iter().enumerate() {
        for &item in row {
            users[fill[item as usize]] = user as u32;
            fill[item as usize] += 1;
        }
    }
    Ok(ItemUsers { start, users })
}
