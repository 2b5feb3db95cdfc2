//! Chapter 5: a tiled matrix product, first as loops on the CPU, then in WGSL
//! (`src/exercises/ch05_matmul_tiled.wgsl`).
//!
//! Tests: `cargo test --release --manifest-path book/workbook/Cargo.toml ch05`. Both versions
//! are compared with kiln's `matmul` on sizes that break tiling: 1, primes, one past a tile.
//! The shader runs through your chapter 4 `run_compute` (GPU tests skip without an adapter
//! unless `KILN_REQUIRE_GPU=1`).

/// The tiled shader you write in `src/exercises/ch05_matmul_tiled.wgsl`.
pub const MATMUL_TILED_WGSL: &str = include_str!("ch05_matmul_tiled.wgsl");

/// `C = A · Bᵀ` with `A` `[m, k]`, `B` `[n, k]` and `C` `[m, n]`, all row-major, computed as
/// the tiled shader computes it: for each 16 x 16 block of `C` (one workgroup), walk `k` in
/// steps of 16; at each step copy a 16 x 16 tile of `A` (rows of the block) and one of `B`
/// (columns of the block) into local arrays, zero outside the matrices, then let each output
/// of the block add the 16 products of its row of the `A` tile with its row of the `B` tile.
///
/// Hint: five loops, `block_row`, `block_col`, `k0` (steps of 16), then the loads over the
/// tile's `(y, x)` and the products over `(y, x, p)`: the invocations of one workgroup become
/// the inner loops, and a barrier becomes the boundary between two loop nests. Only the final
/// store checks that `(row, col)` is inside `C`.
pub fn matmul_tiled_cpu(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    todo!()
}
