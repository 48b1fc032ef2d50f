//! Ranking maths for persona, free of Postgres: exact blocked top-k by inner
//! product, item-item recommendation models (item-kNN, EASE, transitions)
//! with recency-weighted scoring, and offline metrics and splits.

mod cholesky;
mod ease;
mod error;
mod interactions;
mod item_model;
mod knn;
mod matmul;
mod metrics;
mod recency;
mod scalar;
mod selection;
mod spd_inverse;
mod split;
mod topk;
mod transition;

pub use ease::{fit_ease, EaseConfig, Precision};
pub use error::RankError;
pub use interactions::{check_items, distinct_sorted, item_popularity, most_popular, popularity_scores};
pub use item_model::ItemItemModel;
pub use knn::{fit_item_knn, KnnConfig};
pub use metrics::{catalogue_coverage, hit_rate_at_k, ndcg_at_k, rank_of, recall_at_k};
pub use recency::{weighted_history, Recency};
pub use scalar::Scalar;
pub use selection::top_k_from_scores;
pub use spd_inverse::spd_inverse;
pub use split::{leave_last_out, sequences_from_events, LeaveLastOut};
pub use topk::{no_exclusions, top_k_blocked, top_k_blocked_with, BlockSizes};
pub use transition::{fit_transitions, TransitionConfig};
