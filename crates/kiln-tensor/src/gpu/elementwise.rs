//! Host side of `shaders/fill.wgsl` and `shaders/elementwise.wgsl`.

use super::layout::{collapse, contiguous_strides, MAX_RANK};
use super::pipeline::{shader, Shader};
use super::{GpuBuffer, GpuContext};
use crate::kernels::{BinaryOp, UnaryOp};
use crate::{Result, Shape};

const FILL: Shader = shader!("fill");
const ELEMENTWISE: Shader = shader!("elementwise", requires: ["nan"]);

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct FillParams {
    len: u32,
    value: f32,
}

/// `len` elements, all `value`.
pub(super) fn fill(ctx: &GpuContext, len: usize, value: f32) -> Result<GpuBuffer> {
    let out = ctx.alloc(len)?;
    let p = FillParams {
        len: len as u32,
        value,
    };
    let groups = ctx.grid_for(len);
    ctx.dispatch(&FILL, "fill", &[&out], bytemuck::bytes_of(&p), groups)?;
    Ok(out)
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct UnaryParams {
    len: u32,
    op: u32,
    scalar: f32,
}

/// `op(x)` elementwise.
pub(super) fn unary(ctx: &GpuContext, op: UnaryOp, x: &GpuBuffer) -> Result<GpuBuffer> {
    // Codes of `apply_unary` in the WGSL.
    let (code, scalar) = match op {
        UnaryOp::Neg => (0, 0.0),
        UnaryOp::Exp => (1, 0.0),
        UnaryOp::Log => (2, 0.0),
        UnaryOp::Sqrt => (3, 0.0),
        UnaryOp::Relu => (4, 0.0),
        UnaryOp::Sigmoid => (5, 0.0),
        UnaryOp::Tanh => (6, 0.0),
        UnaryOp::Step => (7, 0.0),
        UnaryOp::Powf(p) => (8, p),
        UnaryOp::AddScalar(c) => (9, c),
        UnaryOp::MulScalar(c) => (10, c),
    };
    let out = ctx.alloc(x.len())?;
    let p = UnaryParams {
        len: x.len() as u32,
        op: code,
        scalar,
    };
    let groups = ctx.grid_for(x.len());
    ctx.dispatch(
        &ELEMENTWISE,
        "unary",
        &[x, &out],
        bytemuck::bytes_of(&p),
        groups,
    )?;
    Ok(out)
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct BinaryParams {
    len: u32,
    op: u32,
    rank: u32,
    _pad: u32,
    dims: [u32; MAX_RANK],
    a_strides: [u32; MAX_RANK],
    b_strides: [u32; MAX_RANK],
}

/// Strides of an operand of shape `shape` broadcast to `out` (NumPy rules, checked by the
/// caller): 0 along broadcast axes.
fn broadcast_strides(shape: &Shape, out: &Shape) -> Vec<usize> {
    let own = contiguous_strides(shape.dims());
    let lead = out.rank() - shape.rank();
    (0..out.rank())
        .map(|axis| match axis.checked_sub(lead) {
            Some(a) if shape.dims()[a] == out.dims()[axis] => own[a],
            _ => 0,
        })
        .collect()
}

/// `op(a, b)` with both operands broadcast to `out`.
pub(super) fn binary(
    ctx: &GpuContext,
    op: BinaryOp,
    a: (&GpuBuffer, &Shape),
    b: (&GpuBuffer, &Shape),
    out: &Shape,
) -> Result<GpuBuffer> {
    let code = match op {
        BinaryOp::Add => 0,
        BinaryOp::Sub => 1,
        BinaryOp::Mul => 2,
        BinaryOp::Div => 3,
        BinaryOp::Eq => 4,
        BinaryOp::MaskPositive => 5,
        BinaryOp::Matches => 6,
    };
    let (sa, sb) = (broadcast_strides(a.1, out), broadcast_strides(b.1, out));
    let (rank, dims, [a_strides, b_strides]) = collapse("binary", out.dims(), [&sa, &sb])?;
    let len = out.numel();
    let result = ctx.alloc(len)?;
    let p = BinaryParams {
        len: len as u32,
        op: code,
        rank,
        _pad: 0,
        dims,
        a_strides,
        b_strides,
    };
    let groups = ctx.grid_for(len);
    let buffers = [a.0, b.0, &result];
    ctx.dispatch(
        &ELEMENTWISE,
        "binary",
        &buffers,
        bytemuck::bytes_of(&p),
        groups,
    )?;
    Ok(result)
}
