//! Host side of `shaders/layer_norm.wgsl`: one workgroup per row for the forward pass and the
//! input gradient; the parameter gradients sum blocks of rows per column, then the blocks.

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
    chunk: u32,
}

/// Rows per block of the parameter gradients' first pass.
const ROWS_PER_BLOCK: usize = 64;

impl Params {
    fn new(d: LnDims, eps: f32) -> Params {
        Params {
            rows: d.rows as u32,
            cols: d.cols as u32,
            eps,
            chunk: ROWS_PER_BLOCK as u32,
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
    let blocks = d.rows.div_ceil(ROWS_PER_BLOCK);
    let partials = ctx.alloc(2 * blocks * d.cols)?;
    let buffers = [x, mean, rstd, gy, &partials];
    let grid = ctx.grid_for(blocks * d.cols);
    ctx.dispatch(&SHADER, "params_partial", &buffers, params, grid)?;
    let (dgamma, dbeta) = (ctx.alloc(d.cols)?, ctx.alloc(d.cols)?);
    let buffers = [&partials, &dgamma, &dbeta];
    let grid = ctx.grid_for(d.cols);
    ctx.dispatch(&SHADER, "params_finalize", &buffers, params, grid)?;
    Ok((gx, dgamma, dbeta))
}
