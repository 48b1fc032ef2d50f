//! Ranking maths for persona, free of Postgres: exact blocked top-k by inner
//! product, item-item recommendation models (item-kNN, EASE, transitions)
//! with recency-weighted scoring, and offline metrics and splits.
//!
//! Next-item quality (examples/evaluate, full ranking, leave-last-out):
//! on Amazon Beauty the best simple model is EASE scored with recency
//! weights (half-life 2 items) plus transitions from the last items
//! (window 3, decay 0.5, half-life 0.5) at equal weight; order matters on
//! such data, so pure EASE or item-kNN lag well behind it.

mod cholesky;
mod ease;
mod error;
mod interactions;
mod item_model;
mod knn;
mod matmul;
mod metrics;
mod recency;
pub mod recommender;
mod scalar;
mod selection;
mod spd_inverse;
mod split;
mod stop;
mod topk;
mod transition;

pub use ease::{fit_ease, fit_ease_with, EaseConfig, Precision, EASE_MAX_ITEMS};
pub use error::RankError;
pub use interactions::{
    check_items, distinct_sorted, item_popularity, most_popular, popularity_scores,
};
pub use item_model::ItemItemModel;
pub use knn::{fit_item_knn, fit_item_knn_with, KnnConfig};
pub use metrics::{catalogue_coverage, hit_rate_at_k, ndcg_at_k, rank_of, recall_at_k};
pub use recency::{weighted_history, Recency};
pub use scalar::Scalar;
pub use selection::top_k_from_scores;
pub use spd_inverse::{spd_inverse, spd_inverse_with};
pub use split::{leave_last_out, sequences_from_events, LeaveLastOut};
pub use stop::{ShouldStop, NEVER};
pub use topk::{no_exclusions, top_k_blocked, top_k_blocked_with, BlockSizes};
pub use transition::{fit_transitions, fit_transitions_with, TransitionConfig};
