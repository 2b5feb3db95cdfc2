//! Host side of `shaders/reduce.wgsl`: axis reductions and row-wise argmax.

use super::header::{op_codes, WORKGROUP};
use super::occupancy::splits;
use super::pipeline::{shader, Shader};
use super::{GpuBuffer, GpuContext};
use crate::kernels::{ReduceDims, ReduceOp};
use crate::Result;

pub(super) const SHADER: Shader = shader!("reduce", requires: ["nan", "grid"]);

op_codes! {
    /// What `reduce` in `shaders/reduce.wgsl` combines values with.
    ReduceCode {
        Sum => "REDUCE_SUM",
        Max => "REDUCE_MAX",
    }
}

/// Adjacent columns one workgroup covers at least (when `inner` has them), for coalescing.
const COALESCE: usize = 32;

/// Fewest elements per invocation worth a workgroup of a split reduction.
const MIN_PER_INVOCATION: usize = 16;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    outer: u32,
    len: u32,
    inner: u32,
    tx: u32,
    splits: u32,
    chunk: u32,
    op: u32,
    _pad: u32,
}

/// Layout of the workgroups over `d`: `tx` outputs of `WORKGROUP / tx` lanes each, and, when
/// `target` (workgroups that fill the GPU) is given and few outputs have long rows, `len` split
/// into chunks ([`splits`]). Returns the parameters and the workgroup count.
fn plan(d: ReduceDims, op: ReduceCode, target: Option<usize>) -> (Params, usize) {
    let columns = d.inner.next_power_of_two().min(COALESCE);
    let lanes = d.len.next_power_of_two().clamp(1, WORKGROUP / columns);
    let tx = WORKGROUP / lanes;
    let blocks = (d.outer * d.inner).div_ceil(tx);
    let splits = target.map_or(1, |t| splits(t, blocks, d.len, MIN_PER_INVOCATION * lanes));
    let p = Params {
        outer: d.outer as u32,
        len: d.len as u32,
        inner: d.inner as u32,
        tx: tx as u32,
        splits: splits as u32,
        chunk: d.len.div_ceil(splits) as u32,
        op: op.code(),
        _pad: 0,
    };
    (p, blocks * splits)
}

/// Reduces `[outer, len, inner]` over the middle axis to `[outer, inner]`. Long rows with few
/// outputs are reduced in two passes: chunks to partials `[outer, splits, inner]`, then those.
pub(super) fn reduce(
    ctx: &GpuContext,
    op: ReduceOp,
    x: &GpuBuffer,
    d: ReduceDims,
) -> Result<GpuBuffer> {
    let code = match op {
        ReduceOp::Sum => ReduceCode::Sum,
        ReduceOp::Max => ReduceCode::Max,
    };
    let (p, groups) = plan(d, code, Some(ctx.target_workgroups(WORKGROUP)));
    let splits = p.splits as usize;
    let out = ctx.alloc(d.outer * splits * d.inner)?;
    let grid = ctx.grid(groups);
    ctx.dispatch(&SHADER, "reduce", &[x, &out], bytemuck::bytes_of(&p), grid)?;
    if splits == 1 {
        return Ok(out);
    }
    reduce(ctx, op, &out, ReduceDims { len: splits, ..d })
}

/// Index of the first largest value of each row of `[rows, cols]`, as `f32`.
pub(super) fn argmax(
    ctx: &GpuContext,
    x: &GpuBuffer,
    rows: usize,
    cols: usize,
) -> Result<GpuBuffer> {
    let d = ReduceDims {
        outer: rows,
        len: cols,
        inner: 1,
    };
    let (p, groups) = plan(d, ReduceCode::Sum, None);
    let out = ctx.alloc(rows)?;
    let grid = ctx.grid(groups);
    ctx.dispatch(&SHADER, "argmax", &[x, &out], bytemuck::bytes_of(&p), grid)?;
    Ok(out)
}
