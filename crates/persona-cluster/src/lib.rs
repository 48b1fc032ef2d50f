//! K-Means and segment maths for persona, with no Postgres in sight.
//!
//! Data is row-major `&[f32]` with an explicit `dim`. Everything a caller can
//! get wrong comes back as a [`ClusterError`]; nothing here panics on input.
//!
//! * Seeding: [`kmeans_plus_plus`], or [`random_rows`].
//! * Training in memory, one step per call: [`Lloyd`]; or all at once: [`fit`].
//! * The whole training of segments, with cancel and progress callbacks,
//!   over any [`RowSource`] (rows in memory, or read in passes): [`train`],
//!   whose settings [`TrainParams::check`] checks once.
//! * Training out of core: [`PassAccumulator`] (exact Lloyd, one pass over
//!   the table per step) or [`MiniBatch`] (Sculley's web-scale k-means).
//! * Scoring: [`assign`] (nearest and second-nearest centroid),
//!   [`anomaly_score`] against a cluster's [`Spread`].
//! * Choosing and judging: [`silhouette`], [`choose_k`],
//!   [`adjusted_rand_index`], [`normalized_mutual_info`].
//! * Stable ids across retraining: [`hungarian_min_cost`], [`match_centroids`].
//! * Explaining segments: [`class_tfidf`].
//! * Soft segments: [`fit_gmm`], a Gaussian mixture (linfa's EM) on a
//!   whitening principal-component reduction of the sample, settings checked
//!   by [`GmmParams::check`]; the [`GmmModel`] it gives is plain numbers
//!   ([`GmmParts`]) to store, reload and score anywhere; [`mixture_segments`]
//!   turns its scores into segments with centres, distances and spreads.
//! * Rings of near-identical rows: [`rings`], linfa's DBSCAN with region
//!   queries from LSH buckets, settings checked by [`RingParams::check`].
//!
//! Parallel work runs on rayon's current pool: the global one, or the one a
//! caller enters with `ThreadPool::install` (for [`train`], the one its
//! [`Hooks::parallel`] enters). Results do not depend on the number of threads.

#![warn(missing_docs)]

mod accumulate;
mod agreement;
mod anomaly;
mod assign;
mod data;
mod driver;
mod error;
mod fit;
mod gmm;
mod gmm_model;
mod gmm_params;
mod hooks;
mod kernel;
mod lloyd;
mod lsh;
mod matching;
mod nearest;
mod minibatch;
mod mixture_segments;
mod params;
mod pass;
mod projection;
mod ring_index;
mod ring_params;
mod rings;
mod rng;
mod seeding;
mod silhouette;
mod source;
mod tfidf;

pub use agreement::{adjusted_rand_index, normalized_mutual_info};
pub use anomaly::{anomaly_score, cluster_spreads, Spread};
pub use assign::{assign, Assignment};
pub use data::normalize_rows;
pub use driver::{train, Progress, Segmentation};
pub use gmm::{fit_gmm, GmmCandidate, GmmFit, GmmProgress};
pub use gmm_model::{GmmModel, GmmParts, MixtureScores};
pub use gmm_params::{GmmParams, ValidGmmParams, MAX_COMPONENTS_DIM, MAX_GMM_K};
pub use hooks::Hooks;
pub use error::ClusterError;
pub use fit::{choose_k, fit, KCandidate, KChoice, KMeansConfig, KMeansResult};
pub use lloyd::{IterationStats, Lloyd};
pub use matching::{hungarian_min_cost, match_centroids};
pub use minibatch::MiniBatch;
pub use mixture_segments::{assign_soft, mixture_segments, SoftAssignment, SoftSegmentation};
pub use params::{Init, TrainParams, ValidTrainParams, MAX_ITER, MAX_N_INIT, MAX_SAMPLE_SIZE};
pub use pass::{PassAccumulator, PassOutcome};
pub use ring_params::{RingParams, ValidRingParams, MAX_MIN_POINTS};
pub use rings::{rings, RingProgress, Rings};
pub use seeding::{kmeans_plus_plus, random_rows};
pub use silhouette::silhouette;
pub use source::{FirstRead, KeptRows, RowSource, SliceRows};
pub use tfidf::class_tfidf;

/// How distance between a row and a centroid is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Euclidean. Inertia sums squared distances; reported distances are
    /// plain Euclidean.
    L2,
    /// Spherical k-means: rows are L2-normalised (zero rows are an error),
    /// centroids are renormalised after every update, and distance is
    /// `1 - cos`, in `[0, 2]`; inertia sums it.
    Cosine,
}
