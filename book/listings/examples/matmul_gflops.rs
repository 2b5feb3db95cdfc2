//! Measures the GFLOP/s table of chapter 5 on whatever adapter wgpu opens:
//!
//!     cargo run --release --manifest-path book/listings/Cargo.toml --example matmul_gflops
//!
//! Arguments: matrix sizes (default 256 512 1024). Prints the adapter, then one Markdown table
//! row per kernel, ready to paste into `book/src/ch05-matmul.md`, and a last row for kiln's CPU
//! matrix product on the same machine.

use kiln_book_listings::matmul::{cpu_gflops, gflops, KERNELS};
use kiln_book_listings::Gpu;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse().expect("sizes are integers"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![256, 512, 1024]
    } else {
        sizes
    };
    let gpu = Gpu::open()
        .expect("no GPU adapter (on Linux without a GPU: apt-get install mesa-vulkan-drivers)");
    println!("adapter: {}", gpu.adapter);
    println!(
        "CPU threads: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let header: Vec<String> = sizes.iter().map(|n| format!("n = {n}")).collect();
    println!("| kernel | {} |", header.join(" | "));
    println!("|---|{}", "---:|".repeat(sizes.len()));
    for kernel in KERNELS {
        let cells: Vec<String> = sizes
            .iter()
            .map(|&n| format!("{:.1}", gflops(&gpu, kernel, n, 2.0)))
            .collect();
        println!("| {} | {} |", kernel.name(), cells.join(" | "));
    }
    let cells: Vec<String> = sizes
        .iter()
        .map(|&n| format!("{:.1}", cpu_gflops(n, 2.0)))
        .collect();
    println!("| kiln CPU GEMM (for comparison) | {} |", cells.join(" | "));
}
