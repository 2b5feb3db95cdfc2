//! Host side of `shaders/batch_norm.wgsl`: per-channel statistics and backward sums in two
//! tree-reduction passes, normalization and the input gradient elementwise. The tree is one of
//! two files compiled before it, picked per thread ([`super::with_subgroup_reductions`]).

use super::header::WORKGROUP;
use super::occupancy::splits;
use super::options::subgroup_reductions;
use super::pipeline::{shader, Shader};
use super::{GpuBuffer, GpuContext};
use crate::kernels::BnDims;
use crate::Result;

/// With the workgroup-memory tree of `shaders/tree_workgroup.wgsl` (the default).
pub(super) const SHADER: Shader =
    shader!("batch_norm", requires: ["nan", "grid", "tree_workgroup"]);
/// With the subgroup tree of `shaders/tree_subgroup.wgsl` ([`super::with_subgroup_reductions`]).
pub(super) const SHADER_SUBGROUPS: Shader = Shader {
    name: "batch_norm_subgroups",
    ..shader!("batch_norm", requires: ["nan", "grid", "tree_subgroup"])
};

/// The shader of the reductions: the one the calling thread asks for, or an error naming the
/// adapter when that takes subgroups and the device has none.
fn reduction_shader(ctx: &GpuContext) -> Result<&'static Shader> {
    if !subgroup_reductions() {
        return Ok(&SHADER);
    }
    let what = "batch_norm with subgroup reductions";
    ctx.require(wgpu::Features::SUBGROUP, "subgroups", what)?;
    Ok(&SHADER_SUBGROUPS)
}

/// Fewest values per invocation worth a workgroup of its own.
const MIN_PER_INVOCATION: usize = 16;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    c: u32,
    spatial: u32,
    splits: u32,
    chunk: u32,
    batch_stats: u32,
    eps: f32,
    _pad: u32,
}

impl Params {
    // ANCHOR: params_new
    /// Geometry of `d` with each channel's `n * spatial` values split into chunks, enough of
    /// them that `c * splits` workgroups fill the GPU ([`splits`]).
    fn new(ctx: &GpuContext, d: BnDims, eps: f32, batch_stats: bool) -> Params {
        let per_channel = d.n * d.spatial;
        let target = ctx.target_workgroups(WORKGROUP);
        let splits = splits(target, d.c, per_channel, MIN_PER_INVOCATION * WORKGROUP);
        Params {
            n: d.n as u32,
            c: d.c as u32,
            spatial: d.spatial as u32,
            splits: splits as u32,
            chunk: per_channel.div_ceil(splits) as u32,
            batch_stats: batch_stats.into(),
            eps,
            _pad: 0,
        }
    }
    // ANCHOR_END: params_new
}

/// Runs `partial_entry` on `inputs` (one workgroup per channel and chunk, writing a `vec4` per
/// pair), then `finalize_entry` to two per-channel outputs.
fn channel_sums(
    ctx: &GpuContext,
    p: &Params,
    (partial_entry, finalize_entry): (&str, &str),
    inputs: &[&GpuBuffer],
) -> Result<(GpuBuffer, GpuBuffer)> {
    let shader = reduction_shader(ctx)?;
    let c = p.c as usize;
    let partials = ctx.alloc(4 * c * p.splits as usize)?;
    let mut buffers = inputs.to_vec();
    buffers.push(&partials);
    let grid = ctx.grid(c * p.splits as usize);
    ctx.dispatch(shader, partial_entry, &buffers, bytemuck::bytes_of(p), grid)?;
    let (first, second) = (ctx.alloc(c)?, ctx.alloc(c)?);
    let buffers = [&partials, &first, &second];
    let grid = ctx.grid(c);
    ctx.dispatch(
        shader,
        finalize_entry,
        &buffers,
        bytemuck::bytes_of(p),
        grid,
    )?;
    Ok((first, second))
}

/// Per-channel mean and biased variance.
pub(super) fn stats(ctx: &GpuContext, x: &GpuBuffer, d: BnDims) -> Result<(GpuBuffer, GpuBuffer)> {
    let p = Params::new(ctx, d, 0.0, true);
    channel_sums(ctx, &p, ("stats_partial", "stats_finalize"), &[x])
}

/// `(x - mean) / sqrt(var + eps) * gamma + beta` per channel.
#[allow(clippy::too_many_arguments)]
pub(super) fn normalize(
    ctx: &GpuContext,
    x: &GpuBuffer,
    mean: &GpuBuffer,
    var: &GpuBuffer,
    gamma: &GpuBuffer,
    beta: &GpuBuffer,
    eps: f32,
    d: BnDims,
) -> Result<GpuBuffer> {
    let p = Params::new(ctx, d, eps, true);
    let y = ctx.alloc(x.len())?;
    let buffers = [x, mean, var, gamma, beta, &y];
    let grid = ctx.grid_for(x.len());
    ctx.dispatch(&SHADER, "normalize", &buffers, bytemuck::bytes_of(&p), grid)?;
    Ok(y)
}

/// `(gx, dgamma, dbeta)`: the per-channel sums `Σ gy x̂` and `Σ gy` by tree reductions, then
/// the input gradient elementwise (see `cpu/batch_norm.rs` for the formulas).
#[allow(clippy::too_many_arguments)]
pub(super) fn backward(
    ctx: &GpuContext,
    gy: &GpuBuffer,
    x: &GpuBuffer,
    mean: &GpuBuffer,
    var: &GpuBuffer,
    gamma: &GpuBuffer,
    eps: f32,
    d: BnDims,
    batch_stats: bool,
) -> Result<(GpuBuffer, GpuBuffer, GpuBuffer)> {
    let p = Params::new(ctx, d, eps, batch_stats);
    let entries = ("backward_partial", "backward_finalize");
    let (dgamma, dbeta) = channel_sums(ctx, &p, entries, &[x, mean, var, gy])?;
    let gx = ctx.alloc(x.len())?;
    let buffers = [x, mean, var, gamma, gy, &dgamma, &dbeta, &gx];
    let grid = ctx.grid_for(x.len());
    ctx.dispatch(
        &SHADER,
        "backward_data",
        &buffers,
        bytemuck::bytes_of(&p),
        grid,
    )?;
    Ok((gx, dgamma, dbeta))
}
