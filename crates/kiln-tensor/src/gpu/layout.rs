//! Host side of `shaders/layout.wgsl` (axis permutation and block copies), and the axis
//! collapsing that permutation shares with broadcasting.

use super::pipeline::{shader, Shader};
use super::{GpuBuffer, GpuContext};
use crate::kernels::SlabDims;
use crate::{Error, Result, Shape};

pub(super) const SHADER: Shader = shader!("layout", requires: ["grid"]);

/// Most axes a shader indexes (`MAX_RANK` in the WGSL, a multiple of 4: the shaders pack
/// dimensions and strides four to a `vec4`).
pub(super) const MAX_RANK: usize = 8;

/// Row-major element strides of `dims`.
pub(super) fn contiguous_strides(dims: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * dims[i + 1];
    }
    strides
}

/// Drops size-1 axes and merges each axis into the next where every stride vector steps
/// contiguously across them, so that fewer, longer axes describe the same indexing. Returns
/// the axes and strides padded to [`MAX_RANK`], or an error naming `op` when more remain.
pub(super) fn collapse<const K: usize>(
    op: &'static str,
    dims: &[usize],
    strides: [&[usize]; K],
) -> Result<(u32, [u32; MAX_RANK], [[u32; MAX_RANK]; K])> {
    let mut kept: Vec<(usize, [usize; K])> = Vec::new();
    for (axis, &dim) in dims.iter().enumerate().filter(|(_, &d)| d != 1) {
        let s = strides.map(|v| v[axis]);
        match kept.last_mut() {
            Some((prev, ps)) if (0..K).all(|k| ps[k] == s[k] * dim) => {
                *prev *= dim;
                *ps = s;
            }
            _ => kept.push((dim, s)),
        }
    }
    if kept.len() > MAX_RANK {
        return Err(Error::invalid(
            op,
            format!(
                "the GPU kernel indexes at most {MAX_RANK} axes; {} remain after merging",
                kept.len()
            ),
        ));
    }
    let mut out_dims = [1; MAX_RANK];
    let mut out_strides = [[0; MAX_RANK]; K];
    for (axis, (dim, s)) in kept.iter().enumerate() {
        out_dims[axis] = *dim as u32;
        for k in 0..K {
            out_strides[k][axis] = s[k] as u32;
        }
    }
    Ok((kept.len() as u32, out_dims, out_strides))
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct PermuteParams {
    len: u32,
    rank: u32,
    _pad: [u32; 2],
    dims: [u32; MAX_RANK],
    strides: [u32; MAX_RANK],
}

/// Output axis `i` is input axis `perm[i]`.
pub(super) fn permute(
    ctx: &GpuContext,
    x: &GpuBuffer,
    shape: &Shape,
    perm: &[usize],
) -> Result<GpuBuffer> {
    let in_strides = contiguous_strides(shape.dims());
    let dims: Vec<usize> = perm.iter().map(|&p| shape.dims()[p]).collect();
    let strides: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let (rank, dims, [strides]) = collapse("permute", &dims, [&strides])?;
    let len = shape.numel();
    let out = ctx.alloc(len)?;
    let p = PermuteParams {
        len: len as u32,
        rank,
        _pad: [0; 2],
        dims,
        strides,
    };
    let groups = ctx.grid_for(len);
    ctx.dispatch(
        &SHADER,
        "permute",
        &[x, &out],
        bytemuck::bytes_of(&p),
        groups,
    )?;
    Ok(out)
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct SlabParams {
    outer: u32,
    inner: u32,
    len: u32,
    src_axis: u32,
    src_start: u32,
    dst_axis: u32,
    dst_start: u32,
    _pad: u32,
}

/// The block copy of [`SlabDims`] from `src` into `dst`, in place.
pub(super) fn copy_slab(
    ctx: &GpuContext,
    src: &GpuBuffer,
    dst: &GpuBuffer,
    d: SlabDims,
) -> Result<()> {
    let p = SlabParams {
        outer: d.outer as u32,
        inner: d.inner as u32,
        len: d.len as u32,
        src_axis: d.src_axis as u32,
        src_start: d.src_start as u32,
        dst_axis: d.dst_axis as u32,
        dst_start: d.dst_start as u32,
        _pad: 0,
    };
    let groups = ctx.grid_for(d.outer * d.len * d.inner);
    ctx.dispatch(
        &SHADER,
        "copy_slab",
        &[src, dst],
        bytemuck::bytes_of(&p),
        groups,
    )
}
