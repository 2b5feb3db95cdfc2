//! Host side of `shaders/pooling.wgsl`: 2-D max and average pooling and their gradients.

use super::pipeline::{shader, Shader};
use super::{GpuBuffer, GpuContext};
use crate::kernels::Pool2dDims;
use crate::Result;

pub(super) const SHADER: Shader = shader!("pooling", requires: ["nan", "grid"]);

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    planes: u32,
    h: u32,
    w: u32,
    kh: u32,
    kw: u32,
    stride_h: u32,
    stride_w: u32,
    pad_h: u32,
    pad_w: u32,
    oh: u32,
    ow: u32,
    _pad: u32,
}

impl From<Pool2dDims> for Params {
    fn from(d: Pool2dDims) -> Params {
        Params {
            planes: d.planes as u32,
            h: d.h as u32,
            w: d.w as u32,
            kh: d.kh as u32,
            kw: d.kw as u32,
            stride_h: d.stride.0 as u32,
            stride_w: d.stride.1 as u32,
            pad_h: d.pad.0 as u32,
            pad_w: d.pad.1 as u32,
            oh: d.oh as u32,
            ow: d.ow as u32,
            _pad: 0,
        }
    }
}

/// Runs `entry` on `inputs` then `outputs`, one invocation per element of the first output.
fn run(
    ctx: &GpuContext,
    entry: &str,
    inputs: &[&GpuBuffer],
    outputs: &[&GpuBuffer],
    d: Pool2dDims,
) -> Result<()> {
    let buffers: Vec<&GpuBuffer> = inputs.iter().chain(outputs).copied().collect();
    let p = Params::from(d);
    let grid = ctx.grid_for(outputs[0].len());
    ctx.dispatch(&SHADER, entry, &buffers, bytemuck::bytes_of(&p), grid)
}

/// `(y, argmax)` of max pooling.
pub(super) fn max_pool2d(
    ctx: &GpuContext,
    x: &GpuBuffer,
    d: Pool2dDims,
) -> Result<(GpuBuffer, GpuBuffer)> {
    let len = d.planes * d.oh * d.ow;
    let (y, argmax) = (ctx.alloc(len)?, ctx.alloc(len)?);
    run(ctx, "max_pool2d", &[x], &[&y, &argmax], d)?;
    Ok((y, argmax))
}

/// Gradient of max pooling with respect to its input.
pub(super) fn max_pool2d_backward(
    ctx: &GpuContext,
    gy: &GpuBuffer,
    argmax: &GpuBuffer,
    d: Pool2dDims,
) -> Result<GpuBuffer> {
    let gx = ctx.alloc(d.planes * d.h * d.w)?;
    run(ctx, "max_pool2d_backward", &[gy, argmax], &[&gx], d)?;
    Ok(gx)
}

/// Average pooling.
pub(super) fn avg_pool2d(ctx: &GpuContext, x: &GpuBuffer, d: Pool2dDims) -> Result<GpuBuffer> {
    let y = ctx.alloc(d.planes * d.oh * d.ow)?;
    run(ctx, "avg_pool2d", &[x], &[&y], d)?;
    Ok(y)
}

/// Gradient of average pooling with respect to its input.
pub(super) fn avg_pool2d_backward(
    ctx: &GpuContext,
    gy: &GpuBuffer,
    d: Pool2dDims,
) -> Result<GpuBuffer> {
    let gx = ctx.alloc(d.planes * d.h * d.w)?;
    run(ctx, "avg_pool2d_backward", &[gy], &[&gx], d)?;
    Ok(gx)
}
