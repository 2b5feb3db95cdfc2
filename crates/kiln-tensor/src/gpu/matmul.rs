//! Matrix products on the GPU, and the tiled GEMM that the convolutions share.
//!
//! `shaders/matmul.wgsl` is a GEMM core: a workgroup computes a block of `C = A · B`, staging
//! tiles of A and B in workgroup memory, each invocation a micro-tile in registers. The block,
//! the staged K and the micro-tile are a [`Tile`], declared to the WGSL by the generated header
//! (`BM`, `BN`, `BK`, `TM`, `TN`): 128 x 64 blocks of 8 x 8 micro-tiles for the matrix product,
//! 64 x 64 blocks of 4 x 4 for the convolutions, whose gathered loads run fastest with many
//! small invocations. The core reads
//! its operands through functions that an operand file supplies: `matmul_batched.wgsl`
//! addresses A and B by strides (transposed and shared operands are read in place), the
//! `conv2d_*.wgsl` files gather im2col entries. A kernel ([`GemmKernel`]) is a tile shape, the
//! core and its operand files ([`gemm_kernel!`]), dispatched by [`dispatch_gemm`].
//!
//! A product with few output blocks and a long K (a dense layer at a small batch) would leave
//! most of a GPU idle, so [`split_k`] cuts its K into chunks computed as separate slices of the
//! dispatch, whose partial sums `gemm_reduce_splits.wgsl` adds up ([`dispatch_split_gemm`]).
//!
//! On a software adapter such as lavapipe every storage or workgroup-memory load is a scalar
//! loop over the SIMD lanes, so loads, not multiply-adds, bound the kernel. Measured speeds, on
//! hardware and software adapters, are in the book (chapter 5 and its results page).

use super::occupancy::splits;
use super::options::{matmul_precision, MatmulPrecision};
use super::pipeline::{shader, Shader};
use super::{GpuBuffer, GpuContext};
use crate::kernels::MatmulDims;
use crate::Result;
use bytemuck::{Pod, Zeroable};

/// A GEMM-core tile shape: a workgroup of `(cols / micro_cols) x (rows / micro_rows)`
/// invocations computes a `rows x cols` block of C (`BM x BN` in the WGSL), staging K `depth`
/// at a time (`BK`), each invocation a `micro_rows x micro_cols` micro-tile (`TM x TN`,
/// multiples of 4), with the staged operands stored as `staged` (`Staged`). The generated
/// header declares it to the shader.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tile {
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) depth: usize,
    pub(crate) micro_rows: usize,
    pub(crate) micro_cols: usize,
    pub(crate) staged: Staged,
}

/// The type the GEMM core stores its staged operand tiles as in workgroup memory; the
/// multiply-adds and sums are `f32` either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Staged {
    /// The operands as they are.
    F32,
    /// Each operand rounded to `f16` as it is staged ([`MatmulPrecision::F16Operands`]); the
    /// shader enables WGSL's `f16`, which needs the device's `SHADER_F16`.
    F16,
}

impl Staged {
    /// The WGSL scalar type.
    pub(crate) fn wgsl(self) -> &'static str {
        match self {
            Staged::F32 => "f32",
            Staged::F16 => "f16",
        }
    }
}

impl Tile {
    /// Blocks covering an `m x n` C.
    fn blocks(&self, m: usize, n: usize) -> usize {
        m.div_ceil(self.rows) * n.div_ceil(self.cols)
    }

    /// Invocations per workgroup.
    pub(super) fn invocations(&self) -> usize {
        (self.rows / self.micro_rows) * (self.cols / self.micro_cols)
    }
}

// ANCHOR: tiles
/// The matrix product's tile: a workgroup of 8 x 16 invocations computes a 128 x 64 block of
/// C, each invocation an 8 x 8 micro-tile, staging K in steps of 8. Large blocks and
/// micro-tiles load the fewest values per multiply-add; the shapes tried against it, and what
/// each measured, are in the book (chapter 5).
pub(crate) const TILE_128X64: Tile = Tile {
    rows: 128,
    cols: 64,
    depth: 8,
    micro_rows: 8,
    micro_cols: 8,
    staged: Staged::F32,
};

/// The convolutions' tile: a workgroup of 16 x 16 invocations computes a 64 x 64 block of C,
/// each invocation a 4 x 4 micro-tile, staging K in steps of 8. Few registers per invocation
/// (16 accumulators, two loads per operand and step) let many invocations run at once, which
/// covers the latency of the gathered im2col loads (the measurement is in the book, chapter
/// 6), and the convolutions' few channels would leave taller blocks half empty.
pub(crate) const TILE_64X64: Tile = Tile {
    rows: 64,
    cols: 64,
    depth: 8,
    micro_rows: 4,
    micro_cols: 4,
    staged: Staged::F32,
};

/// The tile of products with few rows ([`by_rows`]), such as a dense layer's at a small batch or
/// a first convolution's backward-data, whose rows are the image's channels: a workgroup of
/// 32 x 4 invocations computes a 16 x 128 block of C, each invocation a 4 x 4 micro-tile,
/// staging K in steps of 8. For 3 rows, 3 in 16 of its multiply-adds count, against 3 in 64 on
/// [`TILE_64X64`].
pub(crate) const TILE_16X128: Tile = Tile {
    rows: 16,
    cols: 128,
    depth: 8,
    micro_rows: 4,
    micro_cols: 4,
    staged: Staged::F32,
};
// ANCHOR_END: tiles

/// A GEMM-core kernel: its source for each staging type, and the tile shape they declare.
pub(super) struct GemmKernel {
    /// Staging `f32` operands.
    pub(super) shader: Shader,
    /// Staging `f16` operands ([`MatmulPrecision::F16Operands`]), named `<name>_f16`.
    pub(super) shader_f16: Shader,
    pub(super) tile: Tile,
}

impl GemmKernel {
    /// The source that the calling thread's [`matmul_precision`] asks for: an error naming the
    /// kernel and the adapter when that is `f16` and the device lacks `SHADER_F16`.
    fn shader(&self, ctx: &GpuContext) -> Result<&Shader> {
        match matmul_precision() {
            MatmulPrecision::F32 => Ok(&self.shader),
            MatmulPrecision::F16Operands => {
                let what = format!("{} with f16 operands", self.shader.name);
                ctx.require(wgpu::Features::SHADER_F16, "shader-f16", &what)?;
                Ok(&self.shader_f16)
            }
        }
    }
}

/// Fewest K per split, so that a split's work outweighs its partial sums.
const MIN_SPLIT: usize = 128;

// ANCHOR: gemm_shader
/// `gemm_kernel!("name", TILE, "part", ..)`: the [`GemmKernel`] `name` on the tile shape
/// `TILE`, whose source is the GEMM core `shaders/matmul.wgsl` and `shaders/<part>.wgsl` for
/// each part, compiled after a header that declares the tile: once staging `f32`, once `f16`.
macro_rules! gemm_kernel {
    ($name:literal, $tile:expr $(, $part:literal)+) => {
        GemmKernel {
            shader: gemm_kernel!(@shader $name, $tile $(, $part)+),
            shader_f16: gemm_kernel!(
                @shader concat!($name, "_f16"),
                Tile { staged: Staged::F16, ..$tile }
                $(, $part)+
            ),
            tile: $tile,
        }
    };
    (@shader $name:expr, $tile:expr $(, $part:literal)+) => {
        Shader {
            name: $name,
            files: &["matmul" $(, $part)+],
            source: concat!(
                include_str!("../../shaders/matmul.wgsl")
                $(, include_str!(concat!("../../shaders/", $part, ".wgsl")))+
            ),
            tile: Some($tile),
        }
    };
}
// ANCHOR_END: gemm_shader
pub(super) use gemm_kernel;

/// The batched, strided matrix product.
pub(super) const MATMUL: GemmKernel = gemm_kernel!("matmul_batched", TILE_128X64, "matmul_batched");
/// The same on the tile of few rows ([`by_rows`]).
pub(super) const MATMUL_FEW_ROWS: GemmKernel =
    gemm_kernel!("matmul_batched_few_rows", TILE_16X128, "matmul_batched");

/// `few` (on [`TILE_16X128`]) for a product of `m` rows that would leave three quarters or more
/// of every block of `wide` empty, else `wide`.
pub(super) fn by_rows<'a>(m: usize, wide: &'a GemmKernel, few: &'a GemmKernel) -> &'a GemmKernel {
    if 4 * m <= wide.tile.rows {
        few
    } else {
        wide
    }
}

/// Adds up split-K partials.
pub(super) const REDUCE_SPLITS: Shader = shader!("gemm_reduce_splits", requires: ["grid"]);

/// The GEMM shape every core-based kernel starts its parameters with (`Gemm` in the WGSL): `batch`
/// products, or one product whose K is cut into chunks (split-K), never both.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct Gemm {
    m: u32,
    n: u32,
    k: u32,
    /// K covered by one split; `k.div_ceil(k_chunk)` splits (one when `k_chunk >= k`).
    k_chunk: u32,
    batch: u32,
    /// Pads the struct to 32 bytes: a struct member of a uniform buffer takes a multiple of 16.
    _pad: [u32; 3],
}

impl Gemm {
    /// `C [m, n] = A [m, k] · B [k, n]` in one split. Sizes are bounded by the buffers behind
    /// them, which fit a storage binding, so they fit `u32`.
    pub(super) fn new(m: usize, n: usize, k: usize) -> Gemm {
        Gemm::batched(m, n, k, 1)
    }

    /// `batch` products `C [m, n] = A [m, k] · B [k, n]`, each in one split.
    pub(super) fn batched(m: usize, n: usize, k: usize, batch: usize) -> Gemm {
        Gemm {
            batch: batch as u32,
            ..Gemm::split(m, n, k, k.max(1))
        }
    }

    /// Like [`Gemm::new`], with K cut into chunks of `k_chunk` (at least 1).
    pub(super) fn split(m: usize, n: usize, k: usize, k_chunk: usize) -> Gemm {
        Gemm {
            m: m as u32,
            n: n as u32,
            k: k as u32,
            k_chunk: k_chunk as u32,
            batch: 1,
            _pad: [0; 3],
        }
    }

    /// Number of K splits (at least 1).
    pub(super) fn splits(&self) -> usize {
        self.k.div_ceil(self.k_chunk).max(1) as usize
    }
}

/// Records a dispatch of a GEMM-core kernel: one workgroup per block of C for each of its
/// slices (batch entries, or split-K splits), numbered slice by slice and folded over x and y
/// ([`GpuContext::grid`]). `buffers` are A, B and C; `params` is the kernel's parameter struct,
/// whose first member is `gemm`. The calling thread's [`matmul_precision`] picks the kernel's
/// staging. The profiler counts `2 m n k` operations per batch entry.
pub(super) fn dispatch_gemm(
    ctx: &GpuContext,
    kernel: &GemmKernel,
    buffers: [&GpuBuffer; 3],
    params: &[u8],
    gemm: Gemm,
) -> Result<()> {
    debug_assert!(params.starts_with(bytemuck::bytes_of(&gemm)));
    let slices = gemm.batch as usize * gemm.splits();
    let blocks = kernel.tile.blocks(gemm.m as usize, gemm.n as usize);
    let workgroups = ctx.grid(blocks * slices);
    let flops = 2 * [gemm.m, gemm.n, gemm.k, gemm.batch]
        .map(u64::from)
        .iter()
        .product::<u64>();
    let shader = kernel.shader(ctx)?;
    ctx.dispatch_counted(shader, "main", &buffers, params, workgroups, flops)
}

// ANCHOR: split_k
/// The GEMM `C [m, n] = A [m, k] · B [k, n]` on `tile`, with its K cut into enough splits
/// (chunks of a multiple of the tile's depth, at most `k / MIN_SPLIT` of them rounded up) to
/// give the GPU about `target` workgroups ([`splits`]; [`GpuContext::target_workgroups`] of
/// the tile's invocations); one split when the output blocks alone are enough.
pub(super) fn split_k(tile: Tile, m: usize, n: usize, k: usize, target: usize) -> Gemm {
    let splits = splits(target, tile.blocks(m, n), k, MIN_SPLIT);
    let k_chunk = k
        .div_ceil(splits)
        .next_multiple_of(tile.depth)
        .max(tile.depth);
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
/// K (one product), partial sums `[splits, m, n]` written to a scratch buffer and added into
/// `c` by `gemm_reduce_splits.wgsl`.
pub(super) fn dispatch_split_gemm(
    ctx: &GpuContext,
    kernel: &GemmKernel,
    [a, b]: [&GpuBuffer; 2],
    c: &GpuBuffer,
    params: &[u8],
    gemm: Gemm,
) -> Result<()> {
    let (m, n) = (gemm.m as usize, gemm.n as usize);
    let splits = gemm.splits();
    if splits == 1 {
        return dispatch_gemm(ctx, kernel, [a, b, c], params, gemm);
    }
    let partial = ctx.alloc(splits * m * n)?;
    dispatch_gemm(ctx, kernel, [a, b, &partial], params, gemm)?;
    let r = ReduceParams {
        len: (m * n) as u32,
        splits: splits as u32,
    };
    ctx.dispatch(
        &REDUCE_SPLITS,
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
/// with few output blocks splits its K ([`split_k`]); one of few rows runs on their tile.
pub(crate) fn matmul(
    ctx: &GpuContext,
    a: &GpuBuffer,
    b: &GpuBuffer,
    d: MatmulDims,
) -> Result<GpuBuffer> {
    let out = ctx.alloc(d.batch * d.m * d.n)?;
    let (a_row, a_col) = if d.trans_a { (1, d.m) } else { (d.k, 1) };
    let (b_row, b_col) = if d.trans_b { (1, d.k) } else { (d.n, 1) };
    let kernel = by_rows(d.m, &MATMUL, &MATMUL_FEW_ROWS);
    let gemm = if d.batch == 1 {
        let target = ctx.target_workgroups(kernel.tile.invocations());
        split_k(kernel.tile, d.m, d.n, d.k, target)
    } else {
        Gemm::batched(d.m, d.n, d.k, d.batch)
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
    dispatch_split_gemm(ctx, kernel, [a, b], &out, params, gemm)?;
    Ok(out)
}
// ANCHOR_END: matmul

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_k_fills_the_gpu_only_where_blocks_are_few() {
        // 2 x 2 blocks and a long K: about `target` workgroups, in chunks of a multiple of the
        // depth.
        let target = 2048;
        let g = split_k(TILE_128X64, 200, 100, 100_000, target);
        let workgroups = 4 * g.splits();
        assert!(
            (target * 9 / 10..=target).contains(&workgroups),
            "{workgroups} workgroups"
        );
        assert_eq!(g.k_chunk as usize % TILE_128X64.depth, 0);
        // Enough blocks already: one split.
        assert_eq!(
            split_k(TILE_128X64, 8192, 8192, 100_000, target).splits(),
            1
        );
        // A short K is not split below MIN_SPLIT.
        assert_eq!(split_k(TILE_64X64, 1, 1, 3 * MIN_SPLIT, target).splits(), 3);
        assert_eq!(TILE_128X64.invocations(), 128);
        assert_eq!(TILE_64X64.invocations(), 256);
    }

    #[test]
    fn products_that_would_leave_three_quarters_of_a_block_empty_take_the_few_rows_tile() {
        use crate::gpu::conv::{BACKWARD_DATA, BACKWARD_DATA_FEW_ROWS};
        let pick = |m, wide, few| std::ptr::eq(by_rows(m, wide, few), few);
        assert!(pick(32, &MATMUL, &MATMUL_FEW_ROWS));
        assert!(!pick(33, &MATMUL, &MATMUL_FEW_ROWS));
        assert!(pick(16, &BACKWARD_DATA, &BACKWARD_DATA_FEW_ROWS));
        assert!(!pick(17, &BACKWARD_DATA, &BACKWARD_DATA_FEW_ROWS));
    }

    /// The core's loops assume that micro-tiles cover the block, hold whole vec4s, and that the
    /// invocations load each staged tile in whole rounds (`LOADS_A`, `LOADS_B`).
    #[test]
    fn every_tile_fits_the_cores_loops() {
        for t in [TILE_128X64, TILE_64X64, TILE_16X128] {
            assert_eq!(t.rows % t.micro_rows, 0, "{t:?}");
            assert_eq!(t.cols % t.micro_cols, 0, "{t:?}");
            assert_eq!((t.micro_rows % 4, t.micro_cols % 4), (0, 0), "{t:?}");
            assert_eq!((t.rows * t.depth) % t.invocations(), 0, "{t:?}");
            assert_eq!((t.cols * t.depth) % t.invocations(), 0, "{t:?}");
            assert!(t.rows * t.depth >= t.invocations(), "{t:?}");
            assert!(t.cols * t.depth >= t.invocations(), "{t:?}");
        }
    }
}
