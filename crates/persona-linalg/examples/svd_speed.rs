//! Speed of the truncated SVD on a synthetic shop: 200,000 users x 20,000
//! items, 4,000,000 events, k = 64 with the default oversampling and power
//! passes. Run with `cargo run --release -p persona-linalg --example svd_speed`;
//! three arguments `USERS ITEMS EVENTS` change the size.

use std::time::Instant;

use persona_linalg::{truncated_svd, SparseRows, SvdParams};

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("a number")).collect();
    let (users, items, events) = match args[..] {
        [u, i, e] => (u, i, e),
        _ => (200_000, 20_000, 4_000_000),
    };
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    // Users fall in 50 taste groups; most events hit the group's items, and
    // item popularity is skewed (a squared uniform), as in a real shop.
    let t0 = Instant::now();
    let triplets: Vec<(u32, u32, f32)> = (0..events)
        .map(|_| {
            let u = (next() % users as u64) as u32;
            let skew = |x: u64| ((x % 1_000_000) as f64 / 1e6).powi(2);
            let item = if next() % 4 != 0 {
                let group = u64::from(u % 50);
                let within = (skew(next()) * (items / 50) as f64) as u64;
                (group * (items / 50) as u64 + within) as u32
            } else {
                (skew(next()) * items as f64) as u32
            };
            (u, item, 1.0 + (next() % 3) as f32)
        })
        .collect();
    let a = SparseRows::from_triplets(users, items, &triplets).expect("matrix");
    drop(triplets);
    let build = t0.elapsed().as_secs_f64();
    let p = SvdParams::default().check(users, items).expect("params");
    let t1 = Instant::now();
    let svd = truncated_svd(&a, &p, &|| false).expect("svd");
    let fit = t1.elapsed().as_secs_f64();
    println!(
        "{users} x {items}, {} nonzeros, k = {}: build {build:.2} s, svd {fit:.2} s, explained share {:.3}, sigma[0] {:.1}, sigma[k-1] {:.2}",
        a.nnz(),
        svd.k,
        svd.explained_share(),
        svd.singular_values[0],
        svd.singular_values[svd.k - 1]
    );
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM")) {
            println!("peak memory: {}", line.trim_start_matches("VmHWM:").trim());
        }
    }
}
