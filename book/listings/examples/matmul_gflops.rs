//! Measures the GFLOP/s table of chapter 5 on whatever adapter wgpu opens:
//!
//!     cargo run --release --manifest-path book/listings/Cargo.toml --example matmul_gflops
//!
//! Arguments: matrix sizes (default 256 512 1024). Prints the adapter, then one Markdown table
//! row per kernel of the chapter's H100 table (naive, tiled and kiln's), ready to paste into
//! `book/src/ch05-matmul.md`, and a last row for kiln's CPU matrix product on the same machine.

use kiln_book_listings::matmul::{cpu_gflops, gflops, gpu_and_sizes, Kernel};

fn main() {
    let (gpu, sizes) = gpu_and_sizes(&[256, 512, 1024]);
    println!("adapter: {}", gpu.adapter);
    println!(
        "CPU threads: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let header: Vec<String> = sizes.iter().map(|n| format!("n = {n}")).collect();
    println!("| kernel | {} |", header.join(" | "));
    println!("|---|{}", "---:|".repeat(sizes.len()));
    for kernel in [Kernel::Naive, Kernel::Tiled, Kernel::RegisterBlocked] {
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
