//! Leave-last-out evaluation splits over time-ordered histories.

/// Per user: the training prefix, and the held-out validation (second to
/// last) and test (last) items when the history is long enough.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveLastOut {
    pub train: Vec<Vec<u32>>,
    pub validation: Vec<Option<u32>>,
    pub test: Vec<Option<u32>>,
}

impl LeaveLastOut {
    /// What the model may see when predicting the test item: the training
    /// prefix followed by the validation item.
    pub fn test_history(&self, user: usize) -> Vec<u32> {
        let mut history = self.train.get(user).cloned().unwrap_or_default();
        if let Some(Some(item)) = self.validation.get(user) {
            history.push(*item);
        }
        history
    }

    /// Every user's [`test_history`](Self::test_history).
    pub fn test_histories(&self) -> Vec<Vec<u32>> {
        (0..self.train.len())
            .map(|u| self.test_history(u))
            .collect()
    }
}

/// Holds out the last item of each history as test and the one before as
/// validation, keeping at least `min_train` items for training: a user with
/// fewer than `min_train + 1` items is all training; with exactly
/// `min_train + 1`, training and test only.
pub fn leave_last_out<H: AsRef<[u32]>>(sequences: &[H], min_train: usize) -> LeaveLastOut {
    let mut split = LeaveLastOut {
        train: Vec::with_capacity(sequences.len()),
        validation: Vec::with_capacity(sequences.len()),
        test: Vec::with_capacity(sequences.len()),
    };
    for seq in sequences {
        let seq = seq.as_ref();
        let len = seq.len();
        let (train_len, validation, test) = if len >= min_train + 2 {
            (len - 2, Some(seq[len - 2]), Some(seq[len - 1]))
        } else if len == min_train + 1 {
            (len - 1, None, Some(seq[len - 1]))
        } else {
            (len, None, None)
        };
        split.train.push(seq[..train_len].to_vec());
        split.validation.push(validation);
        split.test.push(test);
    }
    split
}

/// Time-ordered item sequences from `(user, item, time)` events, users
/// `0 .. n_users`; events at the same time are ordered by item index so the
/// order does not depend on input order. Events of users `>= n_users` are
/// dropped.
pub fn sequences_from_events(events: &[(u32, u32, i64)], n_users: usize) -> Vec<Vec<u32>> {
    let mut per_user: Vec<Vec<(i64, u32)>> = vec![Vec::new(); n_users];
    for &(user, item, time) in events {
        if let Some(list) = per_user.get_mut(user as usize) {
            list.push((time, item));
        }
    }
    per_user
        .into_iter()
        .map(|mut list| {
            list.sort_unstable();
            list.into_iter().map(|(_, item)| item).collect()
        })
        .collect()
}
