//! The recommender persona serves from SQL: parameters, training (with the
//! automatic choice of what the caller leaves open), scoring with reasons,
//! and evaluation protocols. The Postgres layer only reads rows into
//! [`UserInput`]s and catalogue indices and writes the results.

mod evaluate;
mod fit;
mod model;
mod params;
mod score;
mod select;

pub use evaluate::{
    figures, popular_lists, split_after, split_key, split_last, split_random, Figures, Split,
};
pub use fit::{fit, Fitted};
pub use model::{unit, Lists, Mat, Recommender, Rows};
pub use params::{Given, Method, Params, Validation};
pub use score::{rank_batch, similar_items, Ask, Reason, Rec, UserInput};
pub use select::{choose, Candidate, Selection, LAMBDA_FULL_ITEMS, VALIDATION_USERS};

use crate::error::RankError;
use crate::stop::ShouldStop;

/// What training produced: the parameters used, the fitted lists, and the
/// choice when one was made.
#[derive(Debug, Clone)]
pub struct Trained {
    pub params: Params,
    pub fitted: Fitted,
    pub selection: Option<Selection>,
    /// Seconds of the final fit alone (the choice's cost is measured against it).
    pub fit_seconds: f64,
}

/// Whether training will search: something is left open and the caller did
/// not turn the search off.
pub fn will_search(params: &Params, given: &Given) -> bool {
    given.search && params.method != Method::Vectors
}

/// Trains on time-ordered histories over `n` items: chooses what `given`
/// leaves open on validation items held out of `histories` (unless
/// `given.search` is off), then fits on all of them.
pub fn train(
    histories: &[Vec<u32>],
    n: usize,
    params: &Params,
    given: &Given,
    stop: ShouldStop<'_>,
) -> Result<Trained, RankError> {
    let (params, selection) = if will_search(params, given) {
        let (p, s) = choose(histories, n, params, given, stop)?;
        (p, Some(s))
    } else {
        (params.clone(), None)
    };
    let t = std::time::Instant::now();
    let fitted = fit(histories, n, &params, stop)?;
    Ok(Trained {
        params,
        fitted,
        selection,
        fit_seconds: t.elapsed().as_secs_f64(),
    })
}
