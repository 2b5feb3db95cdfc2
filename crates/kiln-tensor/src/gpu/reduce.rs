//! Host side of `shaders/reduce.wgsl`: axis reductions and row-wise argmax.

use super::context::WORKGROUP;
use super::pipeline::{shader, Shader};
use super::{GpuBuffer, GpuContext};
use crate::kernels::{ReduceDims, ReduceOp};
use crate::Result;

const SHADER: Shader = shader!("reduce");

/// Output columns one reduction workgroup covers at most (`tx` in the WGSL).
const MAX_COLUMNS: usize = 32;

/// Below this many workgroups, long reductions are split so that the GPU fills.
const TARGET_WORKGROUPS: usize = 1024;

/// Fewest elements per invocation worth a workgroup of a split reduction.
const MIN_PER_INVOCATION: usize = 16;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ReduceParams {
    outer: u32,
    len: u32,
    inner: u32,
    tx: u32,
    splits: u32,
    chunk: u32,
    op: u32,
    _pad: u32,
}

/// Reduces `[outer, len, inner]` over the middle axis to `[outer, inner]`. Long rows with few
/// outputs are reduced in two passes: chunks to partials `[outer, splits, inner]`, then those.
pub(super) fn reduce(
    ctx: &GpuContext,
    op: ReduceOp,
    x: &GpuBuffer,
    d: ReduceDims,
) -> Result<GpuBuffer> {
    let tx = d.inner.next_power_of_two().min(MAX_COLUMNS);
    let groups = d.outer * d.inner.div_ceil(tx);
    let splits = d
        .len
        .div_ceil(MIN_PER_INVOCATION * WORKGROUP / tx)
        .min(TARGET_WORKGROUPS.div_ceil(groups.max(1)))
        .max(1);
    let chunk = d.len.div_ceil(splits);
    let out = ctx.alloc(d.outer * splits * d.inner)?;
    let p = ReduceParams {
        outer: d.outer as u32,
        len: d.len as u32,
        inner: d.inner as u32,
        tx: tx as u32,
        splits: splits as u32,
        chunk: chunk as u32,
        op: match op {
            ReduceOp::Sum => 0,
            ReduceOp::Max => 1,
        },
        _pad: 0,
    };
    let grid = ctx.grid(groups * splits);
    ctx.dispatch(&SHADER, "reduce", &[x, &out], bytemuck::bytes_of(&p), grid)?;
    if splits == 1 {
        return Ok(out);
    }
    let partials = ReduceDims { len: splits, ..d };
    reduce(ctx, op, &out, partials)
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ArgmaxParams {
    rows: u32,
    cols: u32,
}

/// Index of the first largest value of each row of `[rows, cols]`, as `f32`.
pub(super) fn argmax(
    ctx: &GpuContext,
    x: &GpuBuffer,
    rows: usize,
    cols: usize,
) -> Result<GpuBuffer> {
    let out = ctx.alloc(rows)?;
    let p = ArgmaxParams {
        rows: rows as u32,
        cols: cols as u32,
    };
    let grid = ctx.grid(rows);
    ctx.dispatch(&SHADER, "argmax", &[x, &out], bytemuck::bytes_of(&p), grid)?;
    Ok(out)
}
