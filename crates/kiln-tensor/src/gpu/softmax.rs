//! Host side of `shaders/softmax.wgsl`: row-wise log-softmax and the fused cross-entropy.

use super::pipeline::{shader, Shader};
use super::{reduce, GpuBuffer, GpuContext};
use crate::kernels::{ReduceDims, ReduceOp};
use crate::Result;

pub(super) const SHADER: Shader = shader!("softmax", requires: ["nan", "grid"]);

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    smoothing: f32,
    _pad: u32,
}

/// Row-wise log-softmax of `[rows, cols]`, one workgroup per row.
pub(super) fn log_softmax(
    ctx: &GpuContext,
    x: &GpuBuffer,
    rows: usize,
    cols: usize,
) -> Result<GpuBuffer> {
    let out = ctx.alloc(rows * cols)?;
    let p = Params {
        rows: rows as u32,
        cols: cols as u32,
        smoothing: 0.0,
        _pad: 0,
    };
    let grid = ctx.grid(rows);
    ctx.dispatch(
        &SHADER,
        "log_softmax",
        &[x, &out],
        bytemuck::bytes_of(&p),
        grid,
    )?;
    Ok(out)
}

/// `(mean loss [1], dlogits)` with label smoothing `smoothing`: one workgroup per row writes
/// the row's gradient and its loss divided by `rows`; a tree reduction sums those.
pub(super) fn cross_entropy(
    ctx: &GpuContext,
    logits: &GpuBuffer,
    labels: &[u32],
    rows: usize,
    cols: usize,
    smoothing: f32,
) -> Result<(GpuBuffer, GpuBuffer)> {
    let labels = ctx.upload(bytemuck::cast_slice(labels))?;
    let dlogits = ctx.alloc(rows * cols)?;
    let row_loss = ctx.alloc(rows)?;
    let p = Params {
        rows: rows as u32,
        cols: cols as u32,
        smoothing,
        _pad: 0,
    };
    let buffers = [logits, &labels, &dlogits, &row_loss];
    let grid = ctx.grid(rows);
    ctx.dispatch(
        &SHADER,
        "cross_entropy",
        &buffers,
        bytemuck::bytes_of(&p),
        grid,
    )?;
    let all = ReduceDims {
        outer: 1,
        len: rows,
        inner: 1,
    };
    let loss = reduce::reduce(ctx, ReduceOp::Sum, &row_loss, all)?;
    Ok((loss, dlogits))
}
