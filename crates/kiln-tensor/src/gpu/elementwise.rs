//! Host side of `shaders/fill.wgsl` and `shaders/elementwise.wgsl`.

use super::pipeline::shader;
use super::{GpuBuffer, GpuContext};
use crate::Result;

/// Invocations per workgroup of the one-element-per-invocation kernels.
pub(super) const WORKGROUP: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct FillParams {
    len: u32,
    value: f32,
}

/// `len` elements, all `value`.
pub(super) fn fill(ctx: &GpuContext, len: usize, value: f32) -> Result<GpuBuffer> {
    let out = ctx.alloc(len)?;
    let p = FillParams {
        len: len as u32,
        value,
    };
    ctx.dispatch(
        &shader!("fill"),
        "fill",
        &[&out],
        bytemuck::bytes_of(&p),
        ctx.grid(len.div_ceil(WORKGROUP)),
    )?;
    Ok(out)
}
