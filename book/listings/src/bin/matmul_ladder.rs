//! Measures every matrix-product kernel of chapter 5, the ladder's two steps included, at
//! several sizes on whatever adapter wgpu opens, and kiln's CPU product on the same machine:
//!
//!     cargo run --release --manifest-path book/listings/Cargo.toml --bin matmul_ladder > book/src/results/matmul_ladder.csv
//!
//! Arguments: matrix sizes (default 128 256 384 512 768 1024). Prints CSV, `kernel,n,gflops`
//! with the kernel names quoted, between comment lines naming the adapter, the CPU and the load
//! average at the start and the end. Each
//! value is the best of three measurements of about a second, because other work on the
//! machine only ever slows a run down. `book/src/figures/make_figures.py` turns the file into the chapter's table
//! (`book/src/results/matmul_ladder.md`) and its GFLOP/s-vs-n chart.

use kiln_book_listings::matmul::{self, KERNELS};
use kiln_book_listings::{ladder, Gpu};

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

/// A row of the table: a kernel's name and how to measure it at size `n`.
type Row<'a> = (&'static str, Box<dyn Fn(usize) -> f64 + 'a>);

fn best_of_three(measure: impl Fn() -> f64) -> f64 {
    (0..3).map(|_| measure()).fold(0.0, f64::max)
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse().expect("sizes are integers"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![128, 256, 384, 512, 768, 1024]
    } else {
        sizes
    };
    let gpu = Gpu::open()
        .expect("no GPU adapter (on Linux without a GPU: apt-get install mesa-vulkan-drivers)");
    println!("# adapter: {}", gpu.adapter);
    println!("# machine: {}", cpu_model());
    // Other work on the machine slows every kernel down: the load says how much there was.
    println!("# load at start: {}", load());
    println!("kernel,n,gflops");
    // In the chapter's order: naive, tiled, the ladder's two steps, kiln's, then the CPU.
    let [naive, tiled, kiln] = KERNELS;
    let gpu = &gpu;
    let mut rows: Vec<Row> = Vec::new();
    for kernel in [naive, tiled] {
        rows.push((
            kernel.name(),
            Box::new(move |n| matmul::gflops(gpu, kernel, n, 1.0)),
        ));
    }
    for step in ladder::STEPS {
        rows.push((
            step.name(),
            Box::new(move |n| ladder::gflops(gpu, step, n, 1.0)),
        ));
    }
    rows.push((
        kiln.name(),
        Box::new(move |n| matmul::gflops(gpu, kiln, n, 1.0)),
    ));
    rows.push((
        "kiln CPU GEMM (gemm crate, every core)",
        Box::new(|n| matmul::cpu_gflops(n, 1.0)),
    ));
    for (name, measure) in &rows {
        for &n in &sizes {
            println!("\"{name}\",{n},{:.2}", best_of_three(|| measure(n)));
        }
    }
    println!("# load at end: {}", load());
}
