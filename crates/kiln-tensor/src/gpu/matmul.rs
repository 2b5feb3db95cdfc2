//! Matrix products on the GPU, and the tiled GEMM that the convolutions share.
//!
//! `shaders/matmul.wgsl` is a GEMM core: a workgroup of 8 x 8 invocations computes a 64 x 64
//! block of `C = A · B`, staging 64 x 16 tiles of A and B in workgroup memory, each invocation
//! an 8 x 8 micro-tile in registers. It reads its operands through functions that a second
//! file supplies: `matmul_batched.wgsl` addresses A and B by strides (transposed and shared
//! operands are read in place), the `conv2d_*.wgsl` files gather im2col entries. A kernel is
//! the core followed by its operand files ([`gemm_shader!`]), dispatched by [`dispatch_gemm`].
//!
//! A product with few output blocks and a long K (a dense layer at a small batch) would leave
//! most of a GPU idle, so [`split_k`] cuts its K into chunks computed as separate slices of the
//! dispatch, whose partial sums `gemm_reduce_splits.wgsl` adds up ([`dispatch_split_gemm`]).
//!
//! On a software adapter such as lavapipe this runs at 1-2 GFLOP/s: there every storage or
//! workgroup-memory load is a scalar loop over the SIMD lanes, so loads, not multiply-adds,
//! bound the kernel (with the 8 x 8 micro-tile, each value loaded feeds 8 multiply-adds).

use super::pipeline::{shader, Shader};
use super::{GpuBuffer, GpuContext};
use crate::kernels::MatmulDims;
use crate::Result;
use bytemuck::{Pod, Zeroable};

/// Rows and columns of C per workgroup (`BM` = `BN` in `shaders/matmul.wgsl`).
pub(super) const TILE: usize = 64;

/// K per staged tile (`BK` in `shaders/matmul.wgsl`); split-K chunks are multiples of it.
pub(super) const TILE_K: usize = 16;

/// Workgroups that keep a GPU busy: a GEMM with fewer output blocks splits its K until it has
/// about this many.
const TARGET_WORKGROUPS: usize = 256;

/// Fewest K steps per split, so that a split's work outweighs its partial sums.
const MIN_SPLIT: usize = 16 * TILE_K;

// ANCHOR: gemm_shader
/// `gemm_shader!("name", "part", ..)`: the [`Shader`] `name` whose source is the GEMM core
/// `shaders/matmul.wgsl` followed by `shaders/<part>.wgsl` for each part.
macro_rules! gemm_shader {
    ($name:literal $(, $part:literal)+) => {
        Shader {
            name: $name,
            source: concat!(
                include_str!("../../../../shaders/matmul.wgsl")
                $(, include_str!(concat!("../../../../shaders/", $part, ".wgsl")))+
            ),
        }
    };
}
// ANCHOR_END: gemm_shader
pub(super) use gemm_shader;

/// The batched, strided matrix product.
const MATMUL: Shader = gemm_shader!("matmul_batched", "matmul_batched");

/// The GEMM shape every core-based kernel starts its parameters with (`Gemm` in the WGSL).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct Gemm {
    m: u32,
    n: u32,
    k: u32,
    /// K covered by one split; `k.div_ceil(k_chunk)` splits (one when `k_chunk >= k`).
    k_chunk: u32,
}

impl Gemm {
    /// `C [m, n] = A [m, k] · B [k, n]` in one split. Sizes are bounded by the buffers behind
    /// them, which fit a storage binding, so they fit `u32`.
    pub(super) fn new(m: usize, n: usize, k: usize) -> Gemm {
        Gemm::split(m, n, k, k.max(1))
    }

    /// Like [`Gemm::new`], with K cut into chunks of `k_chunk` (at least 1).
    pub(super) fn split(m: usize, n: usize, k: usize, k_chunk: usize) -> Gemm {
        Gemm {
            m: m as u32,
            n: n as u32,
            k: k as u32,
            k_chunk: k_chunk as u32,
        }
    }

    /// Number of K splits (at least 1).
    pub(super) fn splits(&self) -> usize {
        self.k.div_ceil(self.k_chunk).max(1) as usize
    }
}

/// Records a dispatch of a GEMM-core kernel: one workgroup per 64 x 64 block of C for each of
/// `slices` slices (batch entries, or split-K splits), the blocks of a slice folded over x and
/// y ([`GpuContext::grid`]). `buffers` are A, B and C; `params` is
/// the kernel's parameter struct, whose first member is `gemm`. The profiler counts
/// `2 m n k` operations per batch entry.
pub(super) fn dispatch_gemm(
    ctx: &GpuContext,
    shader: &Shader,
    buffers: [&GpuBuffer; 3],
    params: &[u8],
    gemm: Gemm,
    slices: usize,
) -> Result<()> {
    let blocks = |len: u32| (len as usize).div_ceil(TILE);
    let [x, y, _] = ctx.grid(blocks(gemm.n) * blocks(gemm.m));
    let workgroups = [x, y, slices as u32];
    let batch = if gemm.splits() == 1 { slices } else { 1 };
    let flops = 2
        * [gemm.m, gemm.n, gemm.k]
            .map(u64::from)
            .iter()
            .product::<u64>()
        * batch as u64;
    ctx.dispatch_counted(shader, "main", &buffers, params, workgroups, flops)
}

// ANCHOR: split_k
/// The GEMM `C [m, n] = A [m, k] · B [k, n]` with its K cut into enough splits (chunks of a
/// multiple of [`TILE_K`], none shorter than `MIN_SPLIT`) to give the GPU about
/// `TARGET_WORKGROUPS` workgroups; one split when the output blocks alone are enough.
pub(super) fn split_k(m: usize, n: usize, k: usize) -> Gemm {
    let blocks = m.div_ceil(TILE) * n.div_ceil(TILE);
    let splits = TARGET_WORKGROUPS
        .div_ceil(blocks.max(1))
        .min(k.div_ceil(MIN_SPLIT))
        .max(1);
    let k_chunk = k.div_ceil(splits).next_multiple_of(TILE_K).max(TILE_K);
    Gemm::split(m, n, k, k_chunk)
}
// ANCHOR_END: split_k

/// Parameters of `gemm_reduce_splits.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct ReduceParams {
    len: u32,
    splits: u32,
}

/// Records a GEMM-core kernel into `c`: `[batch, m, n]` in one split, or, when `gemm` splits
/// K (then `batch` is 1), partial sums `[splits, m, n]` written to a scratch buffer and added
/// into `c` by `gemm_reduce_splits.wgsl`.
pub(super) fn dispatch_split_gemm(
    ctx: &GpuContext,
    shader: &Shader,
    [a, b]: [&GpuBuffer; 2],
    c: &GpuBuffer,
    params: &[u8],
    gemm: Gemm,
    batch: usize,
) -> Result<()> {
    let (m, n) = (gemm.m as usize, gemm.n as usize);
    let splits = gemm.splits();
    if splits == 1 {
        return dispatch_gemm(ctx, shader, [a, b, c], params, gemm, batch);
    }
    debug_assert_eq!(batch, 1, "split-K of a batched product");
    let partial = ctx.alloc(splits * m * n)?;
    dispatch_gemm(ctx, shader, [a, b, &partial], params, gemm, splits)?;
    let r = ReduceParams {
        len: (m * n) as u32,
        splits: splits as u32,
    };
    ctx.dispatch(
        &shader!("gemm_reduce_splits"),
        "main",
        &[&partial, c],
        bytemuck::bytes_of(&r),
        ctx.grid_for(m * n),
    )
}

/// Parameters of `matmul_batched.wgsl`: element `(row, kk)` of `A[z]` is at
/// `z * a_batch + row * a_row + kk * a_col`, likewise for B with `(kk, col)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct MatmulParams {
    gemm: Gemm,
    a_batch: u32,
    a_row: u32,
    a_col: u32,
    b_batch: u32,
    b_row: u32,
    b_col: u32,
}

// ANCHOR: matmul
/// Batched matrix product per [`MatmulDims`]: output `[batch, m, n]`. Transposed operands are
/// read through swapped strides and shared ones with a batch stride of zero. A single product
/// with few output blocks splits its K ([`split_k`]).
pub(crate) fn matmul(
    ctx: &GpuContext,
    a: &GpuBuffer,
    b: &GpuBuffer,
    d: MatmulDims,
) -> Result<GpuBuffer> {
    let out = ctx.alloc(d.batch * d.m * d.n)?;
    let (a_row, a_col) = if d.trans_a { (1, d.m) } else { (d.k, 1) };
    let (b_row, b_col) = if d.trans_b { (1, d.k) } else { (d.n, 1) };
    let gemm = if d.batch == 1 {
        split_k(d.m, d.n, d.k)
    } else {
        Gemm::new(d.m, d.n, d.k)
    };
    let p = MatmulParams {
        gemm,
        a_batch: if d.a_batched { d.m * d.k } else { 0 } as u32,
        a_row: a_row as u32,
        a_col: a_col as u32,
        b_batch: if d.b_batched { d.k * d.n } else { 0 } as u32,
        b_row: b_row as u32,
        b_col: b_col as u32,
    };
    let params = bytemuck::bytes_of(&p);
    dispatch_split_gemm(ctx, &MATMUL, [a, b], &out, params, gemm, d.batch)?;
    Ok(out)
}
// ANCHOR_END: matmul
