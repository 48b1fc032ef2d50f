//! The shared slots behind `persona.progress`: one per backend that runs a
//! persona job, each written by that backend alone and read by any session
//! under a seqlock. Pure Rust (std atomics only), so that it is testable
//! without a server.
//!
//! Slots are claimed by pid with a compare-and-swap rather than indexed by
//! `pgprocno`. The area's size is fixed when persona is compiled
//! (`shmem::Area<T>` reserves `size_of::<T>()`), while the number of PGPROCs
//! follows max_connections, max_worker_processes and max_prepared_transactions
//! at start-up; a slot is only held while a backend runs a persona job, and
//! a thousand concurrent persona jobs (each a CPU-bound training or scan) is
//! far beyond what any server runs. Should every slot be taken, a job runs
//! unreported rather than failing. All-zero bytes are a free slot.

use std::sync::atomic::{fence, AtomicI32, AtomicI64, AtomicU32, AtomicU64, Ordering};

pub const SLOTS: usize = 1024;
/// Bytes kept of a job name, a phase and a unit (longer ones are cut at a
/// character boundary).
pub const JOB_BYTES: usize = 32;
pub const PHASE_BYTES: usize = 96;
pub const UNIT_BYTES: usize = 16;

/// Up to `8 * W` bytes of UTF-8, NUL-padded, in words that can be read while
/// they are written (the seqlock discards such a read).
#[repr(C)]
struct Text<const W: usize>([AtomicU64; W]);

impl<const W: usize> Text<W> {
    fn store(&self, s: &str) {
        let bytes = s.as_bytes();
        for (i, word) in self.0.iter().enumerate() {
            let mut w = [0u8; 8];
            for (j, b) in w.iter_mut().enumerate() {
                *b = bytes.get(i * 8 + j).copied().unwrap_or(0);
            }
            word.store(u64::from_le_bytes(w), Ordering::Relaxed);
        }
    }

    fn load(&self) -> Vec<u8> {
        let mut bytes: Vec<u8> = self.0.iter().flat_map(|w| w.load(Ordering::Relaxed).to_le_bytes()).collect();
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        bytes.truncate(end);
        bytes
    }
}

/// `s` cut to at most `max` bytes at a character boundary, and before any NUL
/// (which would end it early when read back).
pub fn fit(s: &str, max: usize) -> &str {
    let s = s.split('\0').next().unwrap_or("");
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[repr(C)]
struct Slot {
    /// Pid of the backend that claimed the slot, 0 when free. Only claiming
    /// and releasing touch it; readers take the pid from `pid`, written under
    /// the seqlock with the rest.
    owner: AtomicI32,
    /// Even when the row is stable, odd while its owner writes it.
    seq: AtomicU32,
    pid: AtomicI32,
    database: AtomicU32,
    role: AtomicU32,
    has_total: AtomicU32,
    done: AtomicI64,
    total: AtomicI64,
    started: AtomicI64,
    counting_since: AtomicI64,
    updated: AtomicI64,
    /// Empty (first byte 0) when the slot shows no job.
    job: Text<{ JOB_BYTES / 8 }>,
    phase: Text<{ PHASE_BYTES / 8 }>,
    unit: Text<{ UNIT_BYTES / 8 }>,
}

/// One row of `persona.progress` as stored. Times are Postgres timestamps
/// (microseconds since 2000-01-01 UTC).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Row {
    pub pid: i32,
    pub database: u32,
    pub role: u32,
    pub job: String,
    pub phase: String,
    pub unit: String,
    pub done: i64,
    pub total: Option<i64>,
    pub started: i64,
    /// Start of the current count, for the rate (a new phase restarts it).
    pub counting_since: i64,
    pub updated: i64,
}

/// The shared area: zero-filled by the postmaster, never constructed in Rust.
#[repr(C)]
pub struct Slots {
    slots: [Slot; SLOTS],
}

impl Slots {
    /// Claims a free slot for `pid` (non-zero), starting the search at a
    /// place that depends on the pid so that backends rarely contend.
    pub fn claim(&self, pid: i32) -> Option<usize> {
        let start = pid.unsigned_abs() as usize % SLOTS;
        (0..SLOTS).map(|k| (start + k) % SLOTS).find(|&i| {
            self.slots[i].owner.compare_exchange(0, pid, Ordering::Acquire, Ordering::Relaxed).is_ok()
        })
    }

    /// Writes the row of slot `i`, which the caller claimed. One writer per
    /// slot (its owner, on its backend thread), so the counter needs no CAS.
    pub fn publish(&self, i: usize, row: &Row) {
        let s = &self.slots[i];
        let seq = s.seq.load(Ordering::Relaxed);
        s.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        // Orders the odd counter before the data: a reader that sees any of
        // the new data also sees the counter changed.
        fence(Ordering::Release);
        s.pid.store(row.pid, Ordering::Relaxed);
        s.database.store(row.database, Ordering::Relaxed);
        s.role.store(row.role, Ordering::Relaxed);
        s.has_total.store(u32::from(row.total.is_some()), Ordering::Relaxed);
        s.done.store(row.done, Ordering::Relaxed);
        s.total.store(row.total.unwrap_or(0), Ordering::Relaxed);
        s.started.store(row.started, Ordering::Relaxed);
        s.counting_since.store(row.counting_since, Ordering::Relaxed);
        s.updated.store(row.updated, Ordering::Relaxed);
        s.job.store(fit(&row.job, JOB_BYTES));
        s.phase.store(fit(&row.phase, PHASE_BYTES));
        s.unit.store(fit(&row.unit, UNIT_BYTES));
        s.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// Empties slot `i` and gives it back.
    pub fn release(&self, i: usize) {
        self.publish(i, &Row::default());
        self.slots[i].owner.store(0, Ordering::Release);
    }

    /// A consistent copy of slot `i`'s row, or None when it shows no job.
    pub fn read(&self, i: usize) -> Option<Row> {
        let s = &self.slots[i];
        if s.owner.load(Ordering::Relaxed) == 0 {
            return None;
        }
        // A write is a few dozen stores with no call in between; a reader
        // that keeps meeting one (its owner descheduled mid-write) yields,
        // and after very many tries leaves the row out rather than spin on.
        for attempt in 0..100_000u32 {
            if attempt > 100 {
                std::thread::yield_now();
            }
            let before = s.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let job = s.job.load();
            let row = Row {
                pid: s.pid.load(Ordering::Relaxed),
                database: s.database.load(Ordering::Relaxed),
                role: s.role.load(Ordering::Relaxed),
                job: String::new(),
                phase: String::new(),
                unit: String::new(),
                done: s.done.load(Ordering::Relaxed),
                total: None,
                started: s.started.load(Ordering::Relaxed),
                counting_since: s.counting_since.load(Ordering::Relaxed),
                updated: s.updated.load(Ordering::Relaxed),
            };
            let (has_total, total) = (s.has_total.load(Ordering::Relaxed), s.total.load(Ordering::Relaxed));
            let (phase, unit) = (s.phase.load(), s.unit.load());
            // Orders the data loads before the second look at the counter.
            fence(Ordering::Acquire);
            if s.seq.load(Ordering::Relaxed) != before {
                continue;
            }
            if job.is_empty() {
                return None;
            }
            // The bytes were written whole as UTF-8 and are unchanged: lossy
            // conversion never replaces anything here.
            let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
            return Some(Row {
                job: text(job),
                phase: text(phase),
                unit: text(unit),
                total: (has_total != 0).then_some(total),
                ..row
            });
        }
        None
    }

    /// Every row shown, in slot order.
    pub fn rows(&self) -> impl Iterator<Item = Row> + '_ {
        (0..SLOTS).filter_map(|i| self.read(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zeroed() -> Box<Slots> {
        let layout = std::alloc::Layout::new::<Slots>();
        // SAFETY: every field is an atomic integer, for which all-zero bytes
        // are a valid value: the same state the postmaster's area starts in.
        unsafe { Box::from_raw(std::alloc::alloc_zeroed(layout).cast::<Slots>()) }
    }

    fn row(pid: i32, n: i64) -> Row {
        Row {
            pid,
            database: 5,
            role: 10,
            job: "kmeans_train".into(),
            phase: format!("run 1/3, iteration {n}"),
            unit: "iterations".into(),
            done: n,
            total: Some(n * 2),
            started: 1,
            counting_since: 2,
            updated: n,
        }
    }

    #[test]
    fn zero_is_empty_and_release_empties() {
        let s = zeroed();
        assert_eq!(s.rows().count(), 0);
        let i = s.claim(42).unwrap();
        assert_eq!(s.read(i), None, "claimed but not yet written");
        s.publish(i, &row(42, 7));
        assert_eq!(s.rows().collect::<Vec<_>>(), vec![row(42, 7)]);
        s.release(i);
        assert_eq!(s.rows().count(), 0);
        assert_eq!(s.claim(43), Some(43 % SLOTS));
    }

    #[test]
    fn claims_until_full() {
        let s = zeroed();
        let mut taken: Vec<usize> = (1..=SLOTS as i32).map(|p| s.claim(p).unwrap()).collect();
        assert_eq!(s.claim(99_999), None);
        taken.sort_unstable();
        taken.dedup();
        assert_eq!(taken.len(), SLOTS);
    }

    #[test]
    fn fit_cuts_at_characters_and_nul() {
        assert_eq!(fit("abc", 2), "ab");
        assert_eq!(fit("aé", 2), "a");
        assert_eq!(fit("a\0b", 8), "a");
        assert_eq!(fit(&"x".repeat(200), PHASE_BYTES).len(), PHASE_BYTES);
    }

    #[test]
    fn readers_never_see_a_torn_row() {
        let s: &'static Slots = Box::leak(zeroed());
        let i = s.claim(7).unwrap();
        let writer = std::thread::spawn(move || {
            for n in 0..200_000 {
                s.publish(i, &row(7, n));
            }
        });
        let mut seen = 0;
        while !writer.is_finished() {
            if let Some(r) = s.read(i) {
                assert_eq!(r, row(7, r.done));
                seen += 1;
            }
        }
        writer.join().unwrap();
        assert!(seen > 0);
    }
}
