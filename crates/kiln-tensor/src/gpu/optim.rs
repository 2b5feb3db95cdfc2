//! Host side of `shaders/optim.wgsl`: Adam/AdamW and SGD steps in place.

use super::pipeline::{shader, Shader};
use super::{GpuBuffer, GpuContext};
use crate::kernels::{AdamStep, SgdStep};
use crate::Result;

pub(super) const SHADER: Shader = shader!("optim", requires: ["grid"]);

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct AdamParams {
    len: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    decoupled: u32,
    step_size: f32,
    inv_root_c2: f32,
}

/// One Adam/AdamW step on `param` and its moments.
pub(super) fn adam(
    ctx: &GpuContext,
    param: &GpuBuffer,
    grad: &GpuBuffer,
    m: &GpuBuffer,
    v: &GpuBuffer,
    hp: AdamStep,
) -> Result<()> {
    let t = hp.exponent();
    let p = AdamParams {
        len: param.len() as u32,
        lr: hp.lr,
        beta1: hp.beta1,
        beta2: hp.beta2,
        eps: hp.eps,
        weight_decay: hp.weight_decay,
        decoupled: hp.decoupled.into(),
        // In f32, as the CPU computes them.
        step_size: hp.lr / (1.0 - hp.beta1.powi(t)),
        inv_root_c2: 1.0 / (1.0 - hp.beta2.powi(t)).sqrt(),
    };
    let grid = ctx.grid_for(param.len());
    ctx.dispatch(
        &SHADER,
        "adam",
        &[param, grad, m, v],
        bytemuck::bytes_of(&p),
        grid,
    )
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct SgdParams {
    len: u32,
    lr: f32,
    momentum: f32,
    weight_decay: f32,
    nesterov: u32,
}

/// One SGD step on `param`, with momentum when a velocity buffer is given.
pub(super) fn sgd(
    ctx: &GpuContext,
    param: &GpuBuffer,
    grad: &GpuBuffer,
    velocity: Option<&GpuBuffer>,
    hp: SgdStep,
) -> Result<()> {
    let p = SgdParams {
        len: param.len() as u32,
        lr: hp.lr,
        momentum: hp.momentum,
        weight_decay: hp.weight_decay,
        nesterov: hp.nesterov.into(),
    };
    let grid = ctx.grid_for(param.len());
    let bytes = bytemuck::bytes_of(&p);
    match velocity {
        Some(v) => ctx.dispatch(&SHADER, "sgd_momentum", &[param, grad, v], bytes, grid),
        None => ctx.dispatch(&SHADER, "sgd", &[param, grad], bytes, grid),
    }
}
