//! Measures every matrix-product kernel of chapter 5 at several sizes on whatever adapter wgpu
//! opens, and kiln's CPU product on the same machine:
//!
//!     cargo run --release --manifest-path book/listings/Cargo.toml --bin matmul_ladder > book/src/results/matmul_ladder.csv
//!
//! Arguments: matrix sizes (default 128 256 384 512 768 1024). Prints CSV, `kernel,n,gflops`
//! with the kernel names quoted, between comment lines naming the adapter, the CPU and the load
//! average at the start and the end. Each value is the best of three measurements of about a
//! second. `book/src/figures/make_figures.py` turns the file into the chapter's table
//! (`book/src/results/matmul_ladder.md`) and its GFLOP/s-vs-n chart.

use kiln_book_listings::matmul::{cpu_gflops, gflops, gpu_and_sizes, KERNELS};

/// The CPU's model, from `/proc/cpuinfo` where there is one.
fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let threads = std::thread::available_parallelism().map_or(0, |n| n.get());
    match (field("model name"), field("cpu family"), field("model")) {
        (Some(name), Some(family), Some(model)) => {
            format!("{threads} threads of {name}, family {family} model {model}")
        }
        _ => format!("{threads} threads, CPU model unknown"),
    }
}

/// The 1-minute load average, from `/proc/loadavg` where there is one.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// The best of three measurements: other work on the machine only ever slows a run down.
fn best_of_three(measure: impl Fn() -> f64) -> f64 {
    (0..3).map(|_| measure()).fold(0.0, f64::max)
}

fn main() {
    let (gpu, sizes) = gpu_and_sizes(&[128, 256, 384, 512, 768, 1024]);
    println!("# adapter: {}", gpu.adapter);
    println!("# machine: {}", cpu_model());
    // Other work on the machine slows every kernel down: the load says how much there was.
    println!("# load at start: {}", load());
    println!("kernel,n,gflops");
    // In the chapter's order, then the CPU.
    for kernel in KERNELS {
        for &n in &sizes {
            let g = best_of_three(|| gflops(&gpu, kernel, n, 1.0));
            println!("\"{}\",{n},{g:.2}", kernel.name());
        }
    }
    for &n in &sizes {
        let g = best_of_three(|| cpu_gflops(n, 1.0));
        println!("\"kiln CPU GEMM (gemm crate, every core)\",{n},{g:.2}");
    }
    println!("# load at end: {}", load());
}
