//! Host side of `shaders/fill.wgsl` and `shaders/elementwise.wgsl`.

use super::header::op_codes;
use super::layout::{collapse, contiguous_strides, MAX_RANK};
use super::pipeline::{shader, Shader};
use super::{GpuBuffer, GpuContext};
use crate::kernels::{BinaryOp, UnaryOp};
use crate::{Result, Shape};

pub(super) const FILL: Shader = shader!("fill", requires: ["grid"]);
pub(super) const ELEMENTWISE: Shader = shader!("elementwise", requires: ["nan", "grid"]);

op_codes! {
    /// The functions of `unary` in `shaders/elementwise.wgsl`.
    UnaryCode {
        Neg => "OP_NEG",
        Exp => "OP_EXP",
        Log => "OP_LOG",
        Sqrt => "OP_SQRT",
        Relu => "OP_RELU",
        Sigmoid => "OP_SIGMOID",
        Tanh => "OP_TANH",
        Powf => "OP_POWF",
        AddScalar => "OP_ADD_SCALAR",
        MulScalar => "OP_MUL_SCALAR",
        Abs => "OP_ABS",
        Sign => "OP_SIGN",
        GeluErf => "OP_GELU_ERF",
        GeluErfGrad => "OP_GELU_ERF_GRAD",
        GeluTanh => "OP_GELU_TANH",
        GeluTanhGrad => "OP_GELU_TANH_GRAD",
        Silu => "OP_SILU",
        SiluGrad => "OP_SILU_GRAD",
        LeakyRelu => "OP_LEAKY_RELU",
        LeakyReluGrad => "OP_LEAKY_RELU_GRAD",
        Clamp => "OP_CLAMP",
        ClampGrad => "OP_CLAMP_GRAD",
    }
}

op_codes! {
    /// The operations of `binary` in `shaders/elementwise.wgsl`.
    BinaryCode {
        Add => "OP_ADD",
        Sub => "OP_SUB",
        Mul => "OP_MUL",
        Div => "OP_DIV",
        Eq => "OP_EQ",
        MaskPositive => "OP_MASK_POSITIVE",
        Matches => "OP_MATCHES",
        Maximum => "OP_MAXIMUM",
        Minimum => "OP_MINIMUM",
        MaxShare => "OP_MAX_SHARE",
        Pick => "OP_PICK",
    }
}

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
    scalar2: f32,
}

/// `op(x)` elementwise.
pub(super) fn unary(ctx: &GpuContext, op: UnaryOp, x: &GpuBuffer) -> Result<GpuBuffer> {
    let (code, [scalar, scalar2]) = match op {
        UnaryOp::Neg => (UnaryCode::Neg, [0.0; 2]),
        UnaryOp::Exp => (UnaryCode::Exp, [0.0; 2]),
        UnaryOp::Log => (UnaryCode::Log, [0.0; 2]),
        UnaryOp::Sqrt => (UnaryCode::Sqrt, [0.0; 2]),
        UnaryOp::Relu => (UnaryCode::Relu, [0.0; 2]),
        UnaryOp::Sigmoid => (UnaryCode::Sigmoid, [0.0; 2]),
        UnaryOp::Tanh => (UnaryCode::Tanh, [0.0; 2]),
        UnaryOp::Powf(p) => (UnaryCode::Powf, [p, 0.0]),
        UnaryOp::AddScalar(c) => (UnaryCode::AddScalar, [c, 0.0]),
        UnaryOp::MulScalar(c) => (UnaryCode::MulScalar, [c, 0.0]),
        UnaryOp::Abs => (UnaryCode::Abs, [0.0; 2]),
        UnaryOp::Sign => (UnaryCode::Sign, [0.0; 2]),
        UnaryOp::GeluErf => (UnaryCode::GeluErf, [0.0; 2]),
        UnaryOp::GeluErfGrad => (UnaryCode::GeluErfGrad, [0.0; 2]),
        UnaryOp::GeluTanh => (UnaryCode::GeluTanh, [0.0; 2]),
        UnaryOp::GeluTanhGrad => (UnaryCode::GeluTanhGrad, [0.0; 2]),
        UnaryOp::Silu => (UnaryCode::Silu, [0.0; 2]),
        UnaryOp::SiluGrad => (UnaryCode::SiluGrad, [0.0; 2]),
        UnaryOp::LeakyRelu(a) => (UnaryCode::LeakyRelu, [a, 0.0]),
        UnaryOp::LeakyReluGrad(a) => (UnaryCode::LeakyReluGrad, [a, 0.0]),
        UnaryOp::Clamp(lo, hi) => (UnaryCode::Clamp, [lo, hi]),
        UnaryOp::ClampGrad(lo, hi) => (UnaryCode::ClampGrad, [lo, hi]),
    };
    let out = ctx.alloc(x.len())?;
    let p = UnaryParams {
        len: x.len() as u32,
        op: code.code(),
        scalar,
        scalar2,
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
        BinaryOp::Add => BinaryCode::Add,
        BinaryOp::Sub => BinaryCode::Sub,
        BinaryOp::Mul => BinaryCode::Mul,
        BinaryOp::Div => BinaryCode::Div,
        BinaryOp::Eq => BinaryCode::Eq,
        BinaryOp::MaskPositive => BinaryCode::MaskPositive,
        BinaryOp::Matches => BinaryCode::Matches,
        BinaryOp::Maximum => BinaryCode::Maximum,
        BinaryOp::Minimum => BinaryCode::Minimum,
        BinaryOp::MaxShare => BinaryCode::MaxShare,
        BinaryOp::Pick => BinaryCode::Pick,
    };
    let (sa, sb) = (broadcast_strides(a.1, out), broadcast_strides(b.1, out));
    let (rank, dims, [a_strides, b_strides]) = collapse("binary", out.dims(), [&sa, &sb])?;
    let len = out.numel();
    let result = ctx.alloc(len)?;
    let p = BinaryParams {
        len: len as u32,
        op: code.code(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each code has a case in the shader (a forgotten one would give NaN, `default:`).
    #[test]
    fn every_op_code_has_a_case_in_the_shader() {
        let unary = UnaryCode::ALL.iter().map(|c| c.1);
        let names = unary.chain(BinaryCode::ALL.iter().map(|c| c.1));
        for name in names {
            let case = format!("{name}: ");
            let uses = format!("== {name}");
            assert!(
                ELEMENTWISE.source.contains(&format!("case {case}"))
                    || ELEMENTWISE.source.contains(&uses),
                "elementwise.wgsl does not handle {name}"
            );
        }
    }
}
