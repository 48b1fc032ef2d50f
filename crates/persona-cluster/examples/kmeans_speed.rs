//! Times Lloyd iterations on synthetic clustered data, for comparison with
//! FAISS k-means.
//!
//! `cargo run -p persona-cluster --release --example kmeans_speed [cosine] [rows dim k ...]`
//! With no sizes: 1M × 64 and 200k × 384, both with k = 20. Threads follow
//! rayon (`RAYON_NUM_THREADS`, default one per core).
//!
//! The FAISS side, on data of the same shape (centres ~ N(0, 3²), unit noise):
//!
//! ```text
//! faiss.omp_set_num_threads(T)
//! km = faiss.Kmeans(d, k, niter=10, seed=1, max_points_per_centroid=n, min_points_per_centroid=1)
//! km.train(x)   # per-iteration time: differences of km.iteration_stats[i]["time"]
//! ```
//!
//! `max_points_per_centroid=n` matters: by default FAISS trains on a sample of
//! 256 rows per centroid, not on the whole table.

use std::time::Instant;

use persona_cluster::{assign, kmeans_plus_plus, Lloyd, Metric};

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

/// `rows` points around `clusters` random centres (spread 1, centres ~N(0, 3²)).
fn clustered(rows: usize, dim: usize, clusters: usize, seed: u64) -> Vec<f32> {
    let mut g = Gaussian(seed);
    let centres: Vec<f32> = (0..clusters * dim).map(|_| 3.0 * g.next()).collect();
    let mut data = Vec::with_capacity(rows * dim);
    for r in 0..rows {
        let c = r % clusters;
        for p in 0..dim {
            data.push(centres[c * dim + p] + g.next());
        }
    }
    data
}

/// CPU time of the whole process in ms (Linux; 0 elsewhere). On a machine
/// shared with other work, CPU time per step is steadier than wall time.
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the parenthesised command name; utime and stime are the
    // 12th and 13th of those, in clock ticks of (almost always) 10 ms.
    let Some(after) = stat.rsplit(')').next() else { return 0.0 };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) * 10.0
}

const STEPS: usize = 10;

fn bench(rows: usize, dim: usize, k: usize, metric: Metric) {
    let data = clustered(rows, dim, k, 42);
    let started = Instant::now();
    let seeds = match kmeans_plus_plus(&data, dim, k, metric, 1) {
        Ok(seeds) => seeds,
        Err(e) => return eprintln!("seeding failed: {e}"),
    };
    let seeding_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut lloyd = match Lloyd::new(&data, dim, seeds, metric) {
        Ok(lloyd) => lloyd,
        Err(e) => return eprintln!("setup failed: {e}"),
    };
    let mut times = Vec::new();
    let cpu_before = cpu_ms();
    for _ in 0..STEPS {
        let started = Instant::now();
        let stats = lloyd.step();
        times.push(started.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(stats);
    }
    let cpu_per_step = (cpu_ms() - cpu_before) / STEPS as f64;
    times.sort_by(f64::total_cmp);
    let started = Instant::now();
    let scored = assign(&data, dim, lloyd.centroids(), metric).map(|a| a.len()).unwrap_or(0);
    let assign_ms = started.elapsed().as_secs_f64() * 1e3;
    println!(
        "{rows:>8} x {dim:<4} k={k:<3} {metric:?}: Lloyd step min {:.1} ms, median {:.1} ms (CPU {:.0} ms/step); k-means++ {:.0} ms; assign (top-2) {:.1} ms for {scored} rows; {} threads",
        times[0],
        times[times.len() / 2],
        cpu_per_step,
        seeding_ms,
        assign_ms,
        rayon::current_num_threads(),
    );
}

fn main() {
    let metric = if std::env::args().any(|a| a == "cosine") { Metric::Cosine } else { Metric::L2 };
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    if sizes.len() >= 3 {
        for triple in sizes.chunks_exact(3) {
            bench(triple[0], triple[1], triple[2], metric);
        }
        return;
    }
    bench(1_000_000, 64, 20, metric);
    bench(200_000, 384, 20, metric);
}
