//! Host side of `shaders/dropout.wgsl`: dropout masks that match the CPU's bit for bit.

use super::pipeline::{shader, Shader};
use super::{GpuBuffer, GpuContext};
use crate::Result;

pub(super) const SHADER: Shader = shader!("dropout", requires: ["grid"]);

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    p: f32,
    keep: f32,
    seed_lo: u32,
    seed_hi: u32,
}

/// `0` where `uniform_hash(seed, i) < p`, else `1 / (1 - p)`.
pub(super) fn dropout_mask(ctx: &GpuContext, len: usize, p: f32, seed: u64) -> Result<GpuBuffer> {
    let out = ctx.alloc(len)?;
    let params = Params {
        len: len as u32,
        p,
        keep: 1.0 / (1.0 - p),
        seed_lo: seed as u32,
        seed_hi: (seed >> 32) as u32,
    };
    let grid = ctx.grid_for(len);
    ctx.dispatch(
        &SHADER,
        "dropout_mask",
        &[&out],
        bytemuck::bytes_of(&params),
        grid,
    )?;
    Ok(out)
}
