//! The GPU device: WGSL compute shaders from `shaders/`, run through `wgpu`.
//!
//! # Runtime
//!
//! One [`GpuContext`](context::GpuContext) per process, created on first use
//! ([`GpuContext::get`](context::GpuContext::get)), picks the best adapter (hardware before
//! software) and opens it with the adapter's real limits. Tensor memory is a [`GpuBuffer`]:
//! `f32` elements in a storage buffer taken from a pool and returned to it on drop.
//!
//! # Writing a GPU kernel
//!
//! 1. Put the WGSL in `shaders/<family>.wgsl` and name it in Rust with
//!    `shader!("<family>")` ([`pipeline::shader`]); every file there is validated by `naga` in
//!    the tests.
//! 2. Bind storage buffers as `@group(0) @binding(0..n)`, in the order the host passes them, and
//!    the parameters (if any) as `var<uniform>` at `@binding(n)`: a struct of 4-byte scalars
//!    mirrored by a `#[repr(C)]` `bytemuck::Pod` struct on the host (at most 256 bytes). Element
//!    counts come from the parameters: a buffer may be longer than its tensor. Several entry
//!    points may share a file and reuse binding numbers; each entry point must use every
//!    binding it is given (its bind group layout is derived from what it uses).
//! 3. On the host:
//!    ```ignore
//!    let out = ctx.alloc(len)?; // uninitialized, pooled
//!    let p = Params { len: len as u32, .. };
//!    ctx.dispatch(&shader!("family"), "entry", &[x, &out], bytemuck::bytes_of(&p),
//!                 ctx.grid(len.div_ceil(256)))?;
//!    ```
//!    [`grid`](context::GpuContext::grid) folds a workgroup count over `x` and `y` to stay under
//!    the 65535-per-dimension limit; the shader recovers the linear workgroup index as
//!    `wid.x + wid.y * nwg.x` (`@builtin(workgroup_id)`, `@builtin(num_workgroups)`) and must
//!    bounds-check against its length.
//!
//! Dispatches are recorded into one command encoder and submitted every 64 dispatches or at a
//! sync point (a read-back); nothing waits per operation. Commands run in the order recorded,
//! so a kernel may read buffers written by earlier ones, and a dropped tensor's buffer may be
//! reused at once. Pipelines are compiled once per `(shader, entry point)`.

mod batch_norm;
mod buffer;
pub(crate) mod context;
mod conv;
mod device_select;
mod elementwise;
mod kernels;
mod layout;
mod matmul;
mod optim;
pub(crate) mod pipeline;
mod random;
mod reduce;
mod softmax;

pub use buffer::GpuBuffer;
pub(crate) use context::GpuContext;
pub use device_select::{adapter_summary, default_device, test_device};
pub use kernels::GpuKernels;
