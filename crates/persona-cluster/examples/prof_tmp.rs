use persona_cluster::{Lloyd, Metric};
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = stat.rsplit(')').next().unwrap();
    let f: Vec<&str> = after.split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) * 10.0
}
fn main() {
    let a: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (n, dim, k, steps) = (a[0], a[1], a[2], a[3]);
    let mut s = 1u64;
    let data: Vec<f32> = (0..n * dim).map(|i| { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); ((s >> 40) as f32 / (1u64 << 24) as f32) + ((i / dim) % k) as f32 * 0.3 }).collect();
    let init = data[..k * dim].to_vec();
    let mut l = Lloyd::new(&data, dim, init, Metric::L2).unwrap();
    let t = std::time::Instant::now();
    let c = cpu_ms();
    for _ in 0..steps { std::hint::black_box(l.step()); }
    println!("{:.1} ms/step wall, {:.1} cpu", t.elapsed().as_secs_f64() * 1e3 / steps as f64, (cpu_ms() - c) / steps as f64);
}
