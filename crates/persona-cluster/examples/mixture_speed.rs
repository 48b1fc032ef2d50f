//! Times a Gaussian mixture fit and scoring, and a ring search, on
//! synthetic profile-like data.
//!
//! `cargo run -p persona-cluster --release --example mixture_speed [rows dim sample k ring_rows ring_dim]`
//! With no sizes: a 5,000-row sample of 100,000 × 450 rows for the mixture
//! (k = 8, 16 dimensions, 3 restarts), and 100,000 × 256 rows for rings,
//! uniform and then clustered.
//! Threads follow rayon (`RAYON_NUM_THREADS`, default one per core).

use std::time::Instant;

use persona_cluster::{fit_gmm, rings, GmmParams, GmmProgress, Hooks, Metric, RingParams, RingProgress, SliceRows};

/// SplitMix64 plus Box–Muller: reproducible data without extra crates.
struct Gaussian(u64);

impl Gaussian {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f32 {
        let u = self.uniform().max(1e-300);
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()) as f32
    }
}

/// Rows around `k` random directions, spread varying by cluster.
fn profiles(rows: usize, dim: usize, k: usize, g: &mut Gaussian) -> Vec<f32> {
    let centres: Vec<f32> = (0..k * dim).map(|_| g.next()).collect();
    let mut data = Vec::with_capacity(rows * dim);
    for r in 0..rows {
        let c = r % k;
        let spread = 0.3 + 0.2 * c as f32;
        data.extend((0..dim).map(|p| centres[c * dim + p] + spread * g.next()));
    }
    data
}

fn mixture(rows: usize, dim: usize, sample: usize, k: usize) {
    let mut g = Gaussian(42);
    let data = profiles(rows, dim, k, &mut g);
    let source = match SliceRows::new(&data, dim, Metric::Cosine, sample, 1) {
        Ok(s) => s,
        Err(e) => return eprintln!("source: {e}"),
    };
    let params = GmmParams { k: Some(k as i64), sample_size: sample as i64, ..GmmParams::default() };
    let params = match params.check() {
        Ok(p) => p,
        Err(e) => return eprintln!("settings: {e}"),
    };
    let progress = |p: GmmProgress| match p {
        GmmProgress::Projected { components, explained, seconds, .. } => {
            println!("  projection to {components} dimensions ({:.1}% of the variance): {seconds:.2} s", explained * 100.0)
        }
        GmmProgress::Run { run, outcome, seconds, .. } => println!("  restart {run}: {outcome:?}, {seconds:.2} s"),
        _ => {}
    };
    let started = Instant::now();
    let fitted = match fit_gmm(&source, &params, &Hooks { progress: &progress, ..Hooks::NONE }) {
        Ok(f) => f,
        Err(e) => return eprintln!("fit: {e}"),
    };
    println!("mixture fit on {sample} × {dim} (k = {k}): {:.2} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    match fitted.model.score_rows(&data) {
        Ok(scores) => println!(
            "scoring {rows} rows: {:.2} s ({} probabilities)",
            started.elapsed().as_secs_f64(),
            scores.probabilities.len()
        ),
        Err(e) => eprintln!("scoring: {e}"),
    }
}

/// `clustered`: rows around eight directions (the mixture's data) instead
/// of uniform ones, so that many rows sit a few eps apart.
fn ring_search(rows: usize, dim: usize, clustered: bool) {
    let mut g = Gaussian(7);
    let mut data: Vec<f32> = if clustered { profiles(rows, dim, 8, &mut g) } else { (0..rows * dim).map(|_| g.next()).collect() };
    // Fifty rings of twenty near copies each, written over random rows.
    for ring in 0..50 {
        let base: Vec<f32> = (0..dim).map(|_| g.next()).collect();
        for m in 0..20 {
            let r = (ring * 1_999 + m * 97) % rows;
            for p in 0..dim {
                data[r * dim + p] = base[p] + 0.01 * g.next();
            }
        }
    }
    let source = match SliceRows::new(&data, dim, Metric::Cosine, 1_000, 1) {
        Ok(s) => s,
        Err(e) => return eprintln!("source: {e}"),
    };
    let params = match RingParams::default().check() {
        Ok(p) => p,
        Err(e) => return eprintln!("settings: {e}"),
    };
    let progress = |p: RingProgress| match p {
        RingProgress::Read { distinct, seconds, .. } => println!("  read, {distinct} distinct rows: {seconds:.2} s"),
        RingProgress::Table { table, candidates, .. } if table % 8 == 0 => println!("  table {table}: {candidates} candidates"),
        _ => {}
    };
    let started = Instant::now();
    match rings(&source, &params, &Hooks { progress: &progress, ..Hooks::NONE }) {
        Ok(found) => println!(
            "rings on {rows} × {dim}{}: {:.2} s, {} rings (sizes {:?}...), {} candidate rows",
            if clustered { " (clustered)" } else { "" },
            started.elapsed().as_secs_f64(),
            found.sizes.len(),
            &found.sizes[..found.sizes.len().min(5)],
            found.candidate_rows
        ),
        Err(e) => eprintln!("rings: {e}"),
    }
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let arg = |i: usize, default: usize| args.get(i).copied().unwrap_or(default);
    mixture(arg(0, 100_000), arg(1, 450), arg(2, 5_000), arg(3, 8));
    ring_search(arg(4, 100_000), arg(5, 256), false);
    ring_search(arg(4, 100_000), arg(5, 256), true);
}
