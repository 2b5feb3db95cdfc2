//! Chapter 4: a folded dispatch grid, a ReLU shader (`src/exercises/ch04_relu.wgsl`), and host
//! code that runs any one-output compute shader with `wgpu`.
//!
//! Tests: `cargo test --release --manifest-path book/workbook/Cargo.toml ch04`. The shader is
//! validated with naga on any machine; the GPU tests need an adapter (lavapipe will do): without
//! one they print `skipped: no GPU adapter` and pass, unless `KILN_REQUIRE_GPU=1`.

use crate::Gpu;

/// The ReLU shader you write in `src/exercises/ch04_relu.wgsl`.
pub const RELU_WGSL: &str = include_str!("ch04_relu.wgsl");

/// Workgroups for `count` workgroups' worth of work, as `[x, y, 1]` with `x` and `y` at most
/// `max_per_dim` (a dispatch dimension is limited, to 65535 on most adapters): `[count, 1, 1]`
/// when that fits, otherwise `x = max_per_dim` and just enough rows `y` that `x * y >= count`.
/// A shader recovers the linear workgroup index as `wid.x + wid.y * nwg.x`, and skips the
/// spare workgroups of the last row. `count` must be at most `max_per_dim²`.
///
/// Hint: `div_ceil`. kiln's `GpuContext::grid` does this with the adapter's limit.
pub fn workgroup_grid(count: usize, max_per_dim: u32) -> [u32; 3] {
    todo!()
}

/// Runs the entry point `entry` of the WGSL source `wgsl` once over `grid` workgroups and
/// returns its output.
///
/// Bindings of `@group(0)`, in order: each of `inputs` as a `var<storage, read>
/// array<f32>` (bindings `0..inputs.len()`), then the output, a `var<storage, read_write>
/// array<f32>` of `output_len` zeros (binding `inputs.len()`), then `params` as the bytes of a
/// `var<uniform>` block (binding `inputs.len() + 1`), zero-padded to a multiple of 16 bytes.
/// Empty inputs and outputs are bound as one element (a binding cannot be empty).
///
/// Hint: the five steps of chapter 4's `saxpy` (`book/listings/src/first_shader.rs`): buffers
/// (`DeviceExt::create_buffer_init`; the output needs `COPY_SRC` to be read back), a shader
/// module and a compute pipeline with `layout: None`, a bind group with one entry per buffer,
/// a compute pass that dispatches `grid`, and `gpu.read_back`. A bad shader makes wgpu panic
/// with its validation report, which is what you want in a test.
pub fn run_compute(
    gpu: &Gpu,
    wgsl: &str,
    entry: &str,
    inputs: &[&[f32]],
    output_len: usize,
    params: &[u8],
    grid: [u32; 3],
) -> Vec<f32> {
    todo!()
}
