//! 2-D convolution on the GPU as implicit GEMMs on the tiled core of [`super::matmul`].
//!
//! No im2col matrix is materialized: the operand files gather its entries while loading tiles.
//! With `K = c_in*kh*kw` (patch entries) and `P = n*oh*ow` (output pixels):
//! - forward (`conv2d_forward.wgsl`): `y [c_out, P] = w [c_out, K] · im2col(x) [K, P]`;
//! - backward-data (`conv2d_backward_data.wgsl`), as a transposed convolution:
//!   `gx [c_in, n*h*w] = w [c_in, c_out*kh*kw] · gather(gy)`, where each input pixel gathers the
//!   `gy` entries whose window covers it (zero where the stride skips it);
//! - backward-weight (`conv2d_backward_weight.wgsl`): `gw [c_out, K] = gy [c_out, P] ·
//!   im2col(x)ᵀ [P, K]`, whose long reduction over `P` is split into chunks written as partial
//!   sums `[splits, c_out, K]` and added up by `gemm_reduce_splits.wgsl` (see
//!   [`super::matmul::split_k`]).

use super::matmul::{
    by_rows, dispatch_gemm, dispatch_split_gemm, gemm_kernel, split_k, Gemm, GemmKernel, Staged,
    Tile, TILE_16X128, TILE_64X64,
};
use super::pipeline::Shader;
use super::{GpuBuffer, GpuContext};
use crate::kernels::Conv2dDims;
use crate::Result;
use bytemuck::{Pod, Zeroable};

/// A convolution kernel on the 64 x 64 tile: the tile shape, the GEMM core, `conv2d.wgsl`
/// and the pass's own operand file.
macro_rules! conv_kernel {
    ($name:literal) => {
        gemm_kernel!($name, TILE_64X64, "conv2d", $name)
    };
}

pub(super) const FORWARD: GemmKernel = conv_kernel!("conv2d_forward");
pub(super) const BACKWARD_DATA: GemmKernel = conv_kernel!("conv2d_backward_data");
/// Backward-data on the tile of few rows, for inputs of at most 16 channels (a first layer's
/// image; [`by_rows`]).
pub(super) const BACKWARD_DATA_FEW_ROWS: GemmKernel = gemm_kernel!(
    "conv2d_backward_data_few_rows",
    TILE_16X128,
    "conv2d",
    "conv2d_backward_data"
);
pub(super) const BACKWARD_WEIGHT: GemmKernel = conv_kernel!("conv2d_backward_weight");

/// Parameters of the conv2d kernels (`Params` in `shaders/conv2d.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct ConvParams {
    gemm: Gemm,
    c_in: u32,
    h: u32,
    w: u32,
    c_out: u32,
    kh: u32,
    kw: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    oh: u32,
    ow: u32,
}

impl ConvParams {
    fn new(d: &Conv2dDims, gemm: Gemm) -> ConvParams {
        let u = |v: usize| v as u32;
        ConvParams {
            gemm,
            c_in: u(d.c_in),
            h: u(d.h),
            w: u(d.w),
            c_out: u(d.c_out),
            kh: u(d.kh),
            kw: u(d.kw),
            stride_h: u(d.stride.0),
            stride_w: u(d.stride.1),
            pad_top: u(d.pad.0),
            pad_left: u(d.pad.1),
            oh: u(d.oh),
            ow: u(d.ow),
        }
    }
}

/// Forward: `x [n, c_in, h, w]`, `w [c_out, c_in, kh, kw]` to `y [n, c_out, oh, ow]`.
pub(crate) fn conv2d(
    ctx: &GpuContext,
    x: &GpuBuffer,
    w: &GpuBuffer,
    d: Conv2dDims,
) -> Result<GpuBuffer> {
    let y = ctx.alloc(d.n * d.c_out * d.oh * d.ow)?;
    let gemm = Gemm::new(d.c_out, d.n * d.oh * d.ow, d.c_in * d.kh * d.kw);
    let p = ConvParams::new(&d, gemm);
    dispatch_gemm(ctx, &FORWARD, [w, x, &y], bytemuck::bytes_of(&p), gemm)?;
    Ok(y)
}

/// Backward-data: `gy [n, c_out, oh, ow]`, `w` to `gx [n, c_in, h, w]`, on the tile of few rows
/// for few input channels.
pub(crate) fn conv2d_backward_data(
    ctx: &GpuContext,
    gy: &GpuBuffer,
    w: &GpuBuffer,
    d: Conv2dDims,
) -> Result<GpuBuffer> {
    let gx = ctx.alloc(d.n * d.c_in * d.h * d.w)?;
    let gemm = Gemm::new(d.c_in, d.n * d.h * d.w, d.c_out * d.kh * d.kw);
    let p = ConvParams::new(&d, gemm);
    let kernel = by_rows(d.c_in, &BACKWARD_DATA, &BACKWARD_DATA_FEW_ROWS);
    dispatch_gemm(ctx, kernel, [w, gy, &gx], bytemuck::bytes_of(&p), gemm)?;
    Ok(gx)
}

// ANCHOR: backward_weight
/// Backward-weight: `x`, `gy` to `gw [c_out, c_in, kh, kw]`, summed over the batch.
pub(crate) fn conv2d_backward_weight(
    ctx: &GpuContext,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    d: Conv2dDims,
) -> Result<GpuBuffer> {
    let tile = BACKWARD_WEIGHT.tile;
    let (m, n, k) = (d.c_out, d.c_in * d.kh * d.kw, d.n * d.oh * d.ow);
    let gemm = split_k(tile, m, n, k, ctx.target_workgroups(tile.invocations()));
    let p = ConvParams::new(&d, gemm);
    let gw = ctx.alloc(d.c_out * d.c_in * d.kh * d.kw)?;
    let params = bytemuck::bytes_of(&p);
    dispatch_split_gemm(ctx, &BACKWARD_WEIGHT, [gy, x], &gw, params, gemm)?;
    Ok(gw)
}
// ANCHOR_END: backward_weight
