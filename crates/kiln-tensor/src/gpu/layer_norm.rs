//! Host side of `shaders/layer_norm.wgsl`: one workgroup per row for the forward pass and the
//! input gradient, one invocation per column for the parameter gradients.

use super::pipeline::{shader, Shader};
use super::{GpuBuffer, GpuContext};
use crate::kernels::LnDims;
use crate::Result;

pub(super) const SHADER: Shader = shader!("layer_norm", requires: ["grid"]);

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    eps: f32,
    _pad: u32,
}

impl Params {
    fn new(d: LnDims, eps: f32) -> Params {
        Params {
            rows: d.rows as u32,
            cols: d.cols as u32,
            eps,
            _pad: 0,
        }
    }
}

/// `(y, mean, rstd)`.
pub(super) fn forward(
    ctx: &GpuContext,
    x: &GpuBuffer,
    gamma: &GpuBuffer,
    beta: &GpuBuffer,
    eps: f32,
    d: LnDims,
) -> Result<(GpuBuffer, GpuBuffer, GpuBuffer)> {
    let y = ctx.alloc(d.rows * d.cols)?;
    let (mean, rstd) = (ctx.alloc(d.rows)?, ctx.alloc(d.rows)?);
    let p = Params::new(d, eps);
    let buffers = [x, gamma, beta, &y, &mean, &rstd];
    ctx.dispatch(
        &SHADER,
        "forward",
        &buffers,
        bytemuck::bytes_of(&p),
        ctx.grid(d.rows),
    )?;
    Ok((y, mean, rstd))
}

/// `(gx, dgamma, dbeta)`.
pub(super) fn backward(
    ctx: &GpuContext,
    gy: &GpuBuffer,
    x: &GpuBuffer,
    mean: &GpuBuffer,
    rstd: &GpuBuffer,
    gamma: &GpuBuffer,
    d: LnDims,
) -> Result<(GpuBuffer, GpuBuffer, GpuBuffer)> {
    let p = Params::new(d, 0.0);
    let params = bytemuck::bytes_of(&p);
    let gx = ctx.alloc(d.rows * d.cols)?;
    let buffers = [x, gamma, mean, rstd, gy, &gx];
    ctx.dispatch(&SHADER, "backward_data", &buffers, params, ctx.grid(d.rows))?;
    let (dgamma, dbeta) = (ctx.alloc(d.cols)?, ctx.alloc(d.cols)?);
    let buffers = [x, mean, rstd, gy, &dgamma, &dbeta];
    ctx.dispatch(
        &SHADER,
        "backward_params",
        &buffers,
        params,
        ctx.grid_for(d.cols),
    )?;
    Ok((gx, dgamma, dbeta))
}
