//! The caller's side of a long computation: cancel, progress, and where the
//! parallel work runs. Every driver of the crate takes one.

use crate::{ClusterError, Progress};

/// The caller's side of a long computation. `P` is what the computation
/// reports: [`Progress`] for K-Means ([`train`](crate::train)),
/// [`GmmProgress`](crate::GmmProgress) for mixtures,
/// [`RingProgress`](crate::RingProgress) for rings.
pub struct Hooks<'a, P = Progress> {
    /// Asked between steps and between chunks of a pass; `true` ends the
    /// computation with [`ClusterError::Cancelled`].
    pub stop: &'a dyn Fn() -> bool,
    /// Told what happened.
    pub progress: &'a dyn Fn(P),
    /// Runs one block of parallel work and returns when it is done: by
    /// default on the calling thread, in rayon's current pool; a caller with
    /// a pool of its own (whose threads must not be the caller's) runs it there.
    pub parallel: &'a dyn Fn(&mut (dyn FnMut() + Send)),
}

impl<P> Hooks<'static, P> {
    /// Never stops, reports nothing, runs parallel work in place.
    pub const NONE: Hooks<'static, P> = Hooks { stop: &|| false, progress: &|_| {}, parallel: &|work| work() };
}

impl<P> Hooks<'_, P> {
    /// [`ClusterError::Cancelled`] when the caller says stop.
    pub(crate) fn check(&self) -> Result<(), ClusterError> {
        if (self.stop)() {
            Err(ClusterError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// `work()` through [`Hooks::parallel`].
    pub(crate) fn run<R: Send>(&self, work: impl FnOnce() -> R + Send) -> Result<R, ClusterError> {
        let mut work = Some(work);
        let mut out = None;
        (self.parallel)(&mut || {
            if let Some(w) = work.take() {
                out = Some(w());
            }
        });
        out.ok_or(ClusterError::InvalidParameter { name: "parallel hook", reason: "must run the work it is given" })
    }
}
