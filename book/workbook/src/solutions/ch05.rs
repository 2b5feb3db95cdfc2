//! Chapter 5, solutions: a tiled matrix product, first as loops on the CPU, then in WGSL.

/// The tiled shader of [`crate::ch05`] (`src/solutions/ch05_matmul_tiled.wgsl`).
pub const MATMUL_TILED_WGSL: &str = include_str!("ch05_matmul_tiled.wgsl");

/// `C = A · Bᵀ` with `A` `[m, k]`, `B` `[n, k]` and `C` `[m, n]`, all row-major, computed as
/// the tiled shader computes it: for each 16 x 16 block of `C` (one workgroup), walk `k` in
/// steps of 16; at each step copy a 16 x 16 tile of `A` (rows of the block) and one of `B`
/// (columns of the block) into local arrays, zero outside the matrices, then let each output
/// of the block add the 16 products of its row of the `A` tile with its row of the `B` tile.
pub fn matmul_tiled_cpu(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    const T: usize = 16;
    assert_eq!((a.len(), b.len()), (m * k, n * k), "operand sizes");
    let mut c = vec![0.0; m * n];
    for block_row in (0..m).step_by(T) {
        for block_col in (0..n).step_by(T) {
            let mut sum = [[0.0f32; T]; T];
            for k0 in (0..k).step_by(T) {
                // The loads: invocation (x, y) of the workgroup copies element x of row y of
                // each tile; past the edges it stores 0.
                let mut a_tile = [[0.0f32; T]; T];
                let mut b_tile = [[0.0f32; T]; T];
                for y in 0..T {
                    for x in 0..T {
                        let (row, b_row, kk) = (block_row + y, block_col + y, k0 + x);
                        if kk < k {
                            if row < m {
                                a_tile[y][x] = a[row * k + kk];
                            }
                            if b_row < n {
                                b_tile[y][x] = b[b_row * k + kk];
                            }
                        }
                    }
                }
                // (barrier) The products: invocation (x, y) owns output (y, x) of the block.
                for y in 0..T {
                    for x in 0..T {
                        for p in 0..T {
                            sum[y][x] += a_tile[y][p] * b_tile[x][p];
                        }
                    }
                }
            }
            for y in 0..T.min(m - block_row) {
                for x in 0..T.min(n - block_col) {
                    c[(block_row + y) * n + block_col + x] = sum[y][x];
                }
            }
        }
    }
    c
}
