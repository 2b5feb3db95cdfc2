//! Host side of `shaders/reduce.wgsl`: axis reductions and row-wise argmax.

use super::header::{op_codes, WORKGROUP};
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

/// Below this many workgroups, long reductions are split so that the GPU fills.
const TARGET_WORKGROUPS: usize = 1024;

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

/// Layout of the workgroups over `d`: `tx` outputs of `256 / tx` lanes each, and `len` split
/// into `splits` chunks when few outputs have long rows. Returns the parameters and the
/// workgroup count.
fn plan(d: ReduceDims, op: ReduceCode, split: bool) -> (Params, usize) {
    let columns = d.inner.next_power_of_two().min(COALESCE);
    let lanes = d.len.next_power_of_two().clamp(1, WORKGROUP / columns);
    let tx = WORKGROUP / lanes;
    let blocks = (d.outer * d.inner).div_ceil(tx);
    let splits = if split {
        d.len
            .div_ceil(MIN_PER_INVOCATION * lanes)
            .min(TARGET_WORKGROUPS.div_ceil(blocks.max(1)))
            .max(1)
    } else {
        1
    };
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
    let (p, groups) = plan(d, code, true);
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
    let (p, groups) = plan(d, ReduceCode::Sum, false);
    let out = ctx.alloc(rows)?;
    let grid = ctx.grid(groups);
    ctx.dispatch(&SHADER, "argmax", &[x, &out], bytemuck::bytes_of(&p), grid)?;
    Ok(out)
}
