//! The GPU device: WGSL compute shaders from `shaders/`, run through `wgpu`.
//!
//! # Runtime
//!
//! One `GpuContext` per process, created on first use
//! (`GpuContext::get`), picks the best adapter (hardware before
//! software) and opens it with the adapter's real limits. Tensor memory is a `GpuBuffer`:
//! `f32` elements in a storage buffer taken from a pool and returned to it on drop.
//!
//! # Writing a GPU kernel
//!
//! 1. Put the WGSL in `shaders/<family>.wgsl` and name it in Rust with
//!    `shader!("<family>", requires: [..])` (`pipeline::shader`), listing the shared files it
//!    is compiled after (`grid` for the index helpers, `nan` for the NaN helpers), which the
//!    file names in a header line `// requires: grid.wgsl, nan.wgsl`. Constants shared with
//!    the host (`WG`, op codes, tile shapes) are not written in WGSL: a header generated from
//!    the Rust constants declares them (`header`). Add the shader to `compiled_shaders`:
//!    `kernel_tests/shaders.rs` validates each one, as compiled, with `naga`, and checks that
//!    every file of `shaders/` is part of one.
//! 2. Bind storage buffers as `@group(0) @binding(0..n)`, in the order the host passes them, and
//!    the parameters (if any) as `var<uniform>` at `@binding(n)`: a struct of 4-byte scalars
//!    mirrored by a `#[repr(C)]` `bytemuck::Pod` struct on the host (at most 256 bytes). Element
//!    counts come from the parameters: a buffer may be longer than its tensor. Several entry
//!    points may share a file and reuse binding numbers; each entry point must use every
//!    binding it is given (its bind group layout is derived from what it uses).
//! 3. On the host:
//!    ```text
//!    let out = ctx.alloc(len)?; // uninitialized, pooled
//!    let p = Params { len: len as u32, .. };
//!    ctx.dispatch(&shader!("family"), "entry", &[x, &out], bytemuck::bytes_of(&p),
//!                 ctx.grid_for(len))?;
//!    ```
//!    `ctx.grid_for` sizes one invocation per element
//!    (`@workgroup_size(WG)`, index `linear_index(gid, nwg)`);
//!    `ctx.grid` takes a workgroup count (one workgroup per row, say),
//!    recovered in the shader as `workgroup_index(wid, nwg)`. Both fold the count over `x` and `y`
//!    to stay under the 65535-per-dimension limit, so shaders bounds-check their index.
//!
//! Dispatches are recorded into one compute pass of one command encoder and submitted at a
//! sync point (a read-back), after 1024 commands (more than the 160 or so of a training step of
//! the example's model: a step is one submission), or once its uploads hold 256 MiB of staging
//! memory. Uploads are copies recorded in the batch, so they do not force a submission.
//! Nothing waits per operation. Commands run in the order recorded, so a kernel may read
//! buffers written by earlier ones, and a dropped tensor's buffer may be reused at once. Pipelines are compiled once per `(shader, entry
//! point)`; bind groups are cached by what they bind, and the pool hands out the oldest free
//! buffer of a size class, so a repeated step that starts its own batch (a read-back per step)
//! binds the same buffers and creates no bind groups. [`profile`] times every kernel with
//! timestamp queries.

mod batch_norm;
mod bind_groups;
mod buffer;
pub(crate) mod context;
mod conv;
mod device_select;
mod elementwise;
mod error_scope;
mod header;
mod kernels;
mod layer_norm;
mod layout;
mod matmul;
mod occupancy;
mod optim;
mod options;
pub(crate) mod pipeline;
mod pooling;
mod profile;
mod random;
mod readback;
mod reduce;
mod softmax;

pub(crate) use buffer::GpuBuffer;
pub(crate) use context::GpuContext;
pub use device_select::{adapter_summary, default_device, init, DeviceChoice, DEVICE_VAR};
pub(crate) use kernels::GpuKernels;
pub use options::{
    matmul_precision, subgroup_reductions, with_matmul_precision, with_subgroup_reductions,
    MatmulPrecision,
};
pub use pipeline::compiled_shaders;
pub use profile::{profile, GpuProfile, KernelTime};

/// Locks `mutex`, recovering it from a panic in another holder. The runtime's shared state
/// (the batch being recorded, the pools and caches, counters) stays consistent between
/// statements, so one panic does not turn every later GPU call, or the drop of a GPU tensor
/// while unwinding (an abort), into another.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
