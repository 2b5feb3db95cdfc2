// Exercise (chapter 5): C = A · Bᵀ with A [m, k], B [n, k] (a dense layer's weight, stored
// [out, in]) and C [m, n], all row-major, in 16 x 16 tiles staged in workgroup memory.
//
// The interface that the tests bind (through your `run_compute`) and check:
//   @group(0) @binding(0)  a: var<storage, read> array<f32>         [m, k]
//   @group(0) @binding(1)  b: var<storage, read> array<f32>         [n, k]
//   @group(0) @binding(2)  c: var<storage, read_write> array<f32>   [m, n]
//   @group(0) @binding(3)  dims: var<uniform>, a struct of m, n, k: u32 (in that order)
//   entry point `main`, @workgroup_size(16, 16); workgroup (x, y) computes the block of C at
//   rows 16y.., columns 16x..; two workgroup arrays of (at least) 16 x 16 f32, and barriers.
//
// Hints:
// - Start from chapter 5's `matmul_tiled.wgsl`. What changes is the B tile: element (kk, col)
//   of Bᵀ is b[col * k + kk]. Let invocation (x, y) load the value at k index k0 + x of row y
//   of each tile, so that neighbouring invocations read neighbouring addresses of both
//   operands; then the products read the B tile by column (b_tile[lid.x][p]).
// - Every invocation must reach every barrier: no early return; out of range, load zeros and
//   skip only the final store.

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    // `todo()` is not WGSL: like Rust's `todo!()`, it keeps this stub from compiling until you
    // replace it with the kernel (and declare the bindings and tiles above).
    todo();
}
