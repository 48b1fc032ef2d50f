//! Risk scores that say why, for persona, with no Postgres in sight.
//!
//! A K-Means distance says a user is unlike its segment, which a one-off gift
//! buyer is too. This crate scores what abuse looks like instead, each signal
//! against the same shop's users (robust z-scores on a log scale; refunds as a
//! binomial surprise at the shop's rate), and keeps every signal that counted
//! as a [`Reason`] with the user's value, the shop's typical one and a sentence
//! in English and in Chinese.
//!
//! * Per user: [`UserSignals`], from the events by [`signals_from_events`]
//!   (or by SQL aggregates computing the same), event type names mapped by
//!   [`EventTypes`].
//! * Rings: [`sequence_signature`] of each user's item sequence, for a
//!   clustering (DBSCAN) elsewhere whose ring sizes come back in
//!   [`UserSignals::ring`].
//! * Scoring: [`score`] with [`RiskParams`], checked by [`RiskParams::check`].
//!
//! Everything a caller can get wrong comes back as a [`RiskError`]; nothing
//! here panics on input.

#![warn(missing_docs)]

mod error;
mod events;
mod params;
mod reason;
mod robust;
mod score;
mod signals;
mod signature;

pub use error::RiskError;
pub use events::{peak_window_events, signals_from_events, Event, EventKind, EventTypes};
pub use params::{RiskParams, MAX_WINDOW_SECS};
pub use reason::{Reason, ReasonKind, Risk};
pub use score::score;
pub use signals::UserSignals;
pub use signature::{cosine, sequence_signature, MAX_SIGNATURE_DIM};
