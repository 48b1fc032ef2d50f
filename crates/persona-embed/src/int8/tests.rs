//! The int8 layer against the plain f32 product on odd shapes, the VNNI and
//! portable paths against each other, and (ignored) its speed against gemm's
//! f32 product: `cargo test --release -p persona-embed int8 -- --ignored --nocapture`.

use std::time::Instant;

use super::*;
use crate::kernels::tests::random;

/// x (rows x inputs) W^T for W (outputs x inputs), in f64 for a clean reference.
fn reference(x: &[f32], w: &[f32], rows: usize, inputs: usize, outputs: usize) -> Vec<f32> {
    let mut out = vec![0f32; rows * outputs];
    for r in 0..rows {
        for o in 0..outputs {
            let xr = &x[r * inputs..(r + 1) * inputs];
            let wo = &w[o * inputs..(o + 1) * inputs];
            out[r * outputs + o] = xr.iter().zip(wo).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum::<f64>() as f32;
        }
    }
    out
}

fn relative_error(got: &[f32], want: &[f32]) -> f64 {
    let diff: f64 = got.iter().zip(want).map(|(g, w)| (f64::from(*g) - f64::from(*w)).powi(2)).sum();
    let norm: f64 = want.iter().map(|w| f64::from(*w).powi(2)).sum();
    (diff / norm).sqrt()
}

const ROWS_: [usize; 4] = [1, 3, 77, 300];
const SHAPES: [(usize, usize); 4] = [(384, 384), (1536, 1152), (17, 33), (384, 1152)];

/// Every shape, with activations that are symmetric or one-sided (as after
/// GELU), against the f32 product.
fn check_accuracy(label: &str) {
    for (s, &(inputs, outputs)) in SHAPES.iter().enumerate() {
        let w = random(outputs * inputs, 10 + s as u64, 0.05);
        let layer = Int8Linear::new(&w, vec![0.0; outputs], inputs);
        for (k, &rows) in ROWS_.iter().enumerate() {
            for one_sided in [false, true] {
                let mut x = random(rows * inputs, 100 + (s * 10 + k) as u64, 3.0);
                if one_sided {
                    x.iter_mut().for_each(|v| *v = v.max(-0.17));
                }
                let want = reference(&x, &w, rows, inputs, outputs);
                let mut got = vec![f32::NAN; rows * outputs];
                layer.apply(&x, &mut got, false);
                let err = relative_error(&got, &want);
                println!(
                    "{label} rows {rows} in {inputs} out {outputs} one-sided {one_sided}: relative error {err:.2e}"
                );
                assert!(err < 2e-2, "{label} rows {rows} in {inputs} out {outputs}: {err}");
            }
        }
    }
}

#[test]
fn int8_accuracy_and_paths_agree() {
    check_accuracy(if kernels::vnni() { "vnni" } else { "portable" });
    // Every shape and row count, accumulating into a random start.
    let outputs_of_every_shape = || {
        let mut all = Vec::new();
        for (s, &(inputs, outputs)) in SHAPES.iter().enumerate() {
            let layer = Int8Linear::new(&random(outputs * inputs, 20 + s as u64, 0.1), random(outputs, 1, 1.0), inputs);
            for &rows in &ROWS_ {
                let x = random(rows * inputs, 30 + rows as u64, 2.0);
                let mut out = random(rows * outputs, 40, 1.0);
                layer.apply(&x, &mut out, true);
                all.push(out);
            }
        }
        all
    };
    let fast = outputs_of_every_shape();
    // The only test that forces the fallback, and it resets it at once.
    kernels::force_portable(true);
    assert!(!kernels::vnni());
    let slow = outputs_of_every_shape();
    let portable_ok = std::panic::catch_unwind(|| check_accuracy("portable"));
    kernels::force_portable(false);
    assert!(portable_ok.is_ok());
    for (a, b) in fast.iter().zip(&slow) {
        assert!(a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits()), "vnni and portable outputs differ");
    }
}

#[test]
fn int8_accumulate_adds_to_out() {
    let (rows, inputs, outputs) = (5, 40, 50);
    let w = random(outputs * inputs, 3, 0.2);
    let layer = Int8Linear::new(&w, vec![0.0; outputs], inputs);
    let x = random(rows * inputs, 4, 1.0);
    let mut plain = vec![0f32; rows * outputs];
    layer.apply(&x, &mut plain, false);
    let start = random(rows * outputs, 5, 10.0);
    let mut summed = start.clone();
    layer.apply(&x, &mut summed, true);
    for ((s, p), b) in summed.iter().zip(&plain).zip(&start) {
        assert_eq!(*s, b + p);
    }
}

#[test]
fn int8_zero_rows_and_columns_give_zeros() {
    let (rows, inputs, outputs) = (4, 23, 21);
    let mut w = random(outputs * inputs, 6, 0.3);
    w[7 * inputs..8 * inputs].fill(0.0);
    let layer = Int8Linear::new(&w, vec![0.0; outputs], inputs);
    let mut x = random(rows * inputs, 7, 1.0);
    x[2 * inputs..3 * inputs].fill(0.0);
    let mut out = vec![f32::NAN; rows * outputs];
    layer.apply(&x, &mut out, false);
    assert!(out.iter().all(|v| v.is_finite()));
    assert!(out[2 * outputs..3 * outputs].iter().all(|&v| v == 0.0));
    assert!((0..rows).all(|r| out[r * outputs + 7] == 0.0));
    let want = reference(&x, &w, rows, inputs, outputs);
    assert!(relative_error(&out, &want) < 2e-2);
}

#[test]
fn int8_odd_arguments_do_not_panic() {
    let layer = Int8Linear::new(&[1.0, 2.0], vec![0.5; 3], 4);
    assert_eq!((layer.inputs(), layer.bias()), (4, &[0.5; 3][..]));
    let mut out = vec![9.0; 7];
    layer.apply(&[1.0; 9], &mut out, false);
    assert_eq!(&out[6..], &[9.0]);
    layer.apply(&[], &mut out, true);
    let empty = Int8Linear::new(&[], Vec::new(), 0);
    empty.apply(&[1.0], &mut out, false);
    let none = Int8Linear::new(&[], vec![0.0; 2], 0);
    let mut two = vec![3.0; 4];
    none.apply(&[], &mut two, false);
    assert_eq!(two, [0.0; 4]);
    let wild = Int8Linear::new(&[f32::NAN, f32::INFINITY, -1e38, 1.0], vec![0.0; 2], 2);
    wild.apply(&[f32::NAN, f32::INFINITY, 1e38, -1e38], &mut two, false);
}

/// out (rows x outputs) += x W^T with gemm on W^T stored (in, out) row-major,
/// split by output columns across the pool as bert.rs does (which also adds
/// to a bias already in out, as the int8 layer is timed doing).
fn f32_product(x: &[f32], weight_t: &[f32], out: &mut [f32], inputs: usize, outputs: usize) {
    let rows = x.len() / inputs;
    let threads = rayon::current_num_threads().max(1);
    let step = outputs.div_ceil(threads).next_multiple_of(16).min(outputs);
    let dst = Shared(out.as_mut_ptr());
    (0..outputs.div_ceil(step)).into_par_iter().for_each(|part| {
        // The whole wrapper, not its non-Send field, is what the closure must capture.
        #[allow(clippy::redundant_locals)]
        let dst = dst;
        let first = part * step;
        let width = step.min(outputs - first);
        // SAFETY: x is rows x inputs, out rows x outputs, W^T inputs x
        // outputs; this part alone writes columns first..first+width of out.
        unsafe {
            gemm::gemm(
                rows,
                width,
                inputs,
                dst.0.add(first),
                1,
                outputs as isize,
                true,
                x.as_ptr(),
                1,
                inputs as isize,
                weight_t.as_ptr().add(first),
                1,
                outputs as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            )
        }
    });
}

/// Best of several runs of `f`, in GFLOP/s for a rows x inputs x outputs product.
fn gflops(rows: usize, inputs: usize, outputs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let runs = (2e10 / (2.0 * (rows * inputs * outputs) as f64)).clamp(3.0, 500.0) as usize;
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let start = Instant::now();
        f();
        best = best.min(start.elapsed().as_secs_f64());
    }
    2.0 * (rows * inputs * outputs) as f64 / best / 1e9
}

#[test]
#[ignore]
fn int8_speed() {
    // One thread as well as the whole pool: on a shared machine the pool's
    // figures swing with whatever else runs, a single thread's much less.
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    single.install(|| speed("1 thread"));
    speed(&format!("{} threads", rayon::current_num_threads()));
}

fn speed(label: &str) {
    println!("{label}, vnni {}", kernels::vnni());
    for rows in [78, 2464] {
        for (inputs, outputs) in [(384, 1152), (384, 1536), (1536, 384)] {
            let w = random(outputs * inputs, 1, 0.05);
            let mut weight_t = vec![0f32; w.len()];
            for o in 0..outputs {
                for i in 0..inputs {
                    weight_t[i * outputs + o] = w[o * inputs + i];
                }
            }
            let layer = Int8Linear::new(&w, vec![0.0; outputs], inputs);
            let x = random(rows * inputs, 2, 1.0);
            let mut out = vec![0f32; rows * outputs];
            let f32_rate = gflops(rows, inputs, outputs, || f32_product(&x, &weight_t, &mut out, inputs, outputs));
            let int8_rate = gflops(rows, inputs, outputs, || layer.apply(&x, &mut out, true));
            println!(
                "rows {rows:5} in {inputs:5} out {outputs:5}: f32 gemm {f32_rate:7.1} GFLOP/s, int8 {int8_rate:7.1} GOP/s, x{:.2}",
                int8_rate / f32_rate
            );
        }
    }
}
