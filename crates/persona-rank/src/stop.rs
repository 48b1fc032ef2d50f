//! Stopping long computations early.
//!
//! The dense EASE inverse is O(m³): minutes at 20,000 items. A caller
//! (a database backend whose user pressed cancel) must be able to end it
//! within a fraction of a second, so the long functions take a check that
//! they call between blocks of work, from whichever thread runs the block.

use crate::error::RankError;

/// Asked between blocks of work; `true` makes the computation return
/// [`RankError::Cancelled`]. Called from worker threads, often: it should be
/// an atomic load, never a blocking call.
pub type ShouldStop<'a> = &'a (dyn Fn() -> bool + Sync);

/// A check that never stops, for callers with nothing to cancel.
pub const NEVER: ShouldStop<'static> = &|| false;

/// `Err(Cancelled)` once `stop` says so.
pub(crate) fn check(stop: ShouldStop<'_>) -> Result<(), RankError> {
    if stop() {
        Err(RankError::Cancelled)
    } else {
        Ok(())
    }
}
