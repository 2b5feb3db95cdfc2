//! 2-D convolution as im2col + GEMM, one image per task, images spread over threads.
//!
//! For image `b`, `cols[(ci, ki, kj), (oy, ox)] = x[b, ci, oy*sh + ki - pt, ox*sw + kj - pl]`
//! (zero outside the image), a `[c_in*kh*kw, oh*ow]` matrix. Then
//! - forward: `y[b] = W · cols`, with `W` viewed as `[c_out, c_in*kh*kw]`;
//! - backward-data: `gcols = Wᵀ · gy[b]`, scattered back by col2im;
//! - backward-weight: `gW += gy[b] · colsᵀ`, summed over the batch.

use super::matmul::{gemm_into, MatRef};
use super::pool::{self, Scratch};
use super::{Alloc, Element};
use crate::kernels::Conv2dDims;
use rayon::prelude::*;
use std::ops::Range;

/// Rows of the im2col matrix: `c_in * kh * kw`.
fn patch_len(d: &Conv2dDims) -> usize {
    d.c_in * d.kh * d.kw
}

// ANCHOR: im2col
/// One output row `oy` of one im2col row `(ci, ki, kj)`: the `ow` entries `cols[col..col + ow]`.
/// Those at `ox` in `inside` read the pixels `pixel, pixel + sw, ...` of the image; the others
/// read zero padding.
struct TapRow {
    col: usize,
    pixel: usize,
    inside: Range<usize>,
}

/// Calls `f` for every [`TapRow`] of the im2col matrix of one image: `cols` is
/// `[c_in*kh*kw, oh*ow]`, the image `[c_in, h, w]`.
#[inline]
fn for_each_tap_row(d: &Conv2dDims, mut f: impl FnMut(TapRow)) {
    let (sh, sw) = d.stride;
    for ci in 0..d.c_in {
        for ki in 0..d.kh {
            for kj in 0..d.kw {
                // ix = ox*sw + kj - pl lies in [0, w) for ox in [first, end).
                let first = d.pad.1.saturating_sub(kj).div_ceil(sw);
                let end = (d.w + d.pad.1)
                    .checked_sub(kj)
                    .map_or(0, |limit| limit.div_ceil(sw))
                    .min(d.ow);
                let row = ((ci * d.kh + ki) * d.kw + kj) * d.oh * d.ow;
                for oy in 0..d.oh {
                    let iy = (oy * sh + ki).checked_sub(d.pad.0).filter(|&y| y < d.h);
                    let (pixel, inside) = match iy {
                        Some(y) if first < end => {
                            ((ci * d.h + y) * d.w + first * sw + kj - d.pad.1, first..end)
                        }
                        _ => (0, 0..0),
                    };
                    let col = row + oy * d.ow;
                    f(TapRow { col, pixel, inside });
                }
            }
        }
    }
}

/// Fills `cols` (`[c_in*kh*kw, oh*ow]`) from one image `x` (`[c_in, h, w]`).
fn im2col<T: Element>(x: &[T], d: &Conv2dDims, cols: &mut [T]) {
    for_each_tap_row(d, |r| {
        let out = &mut cols[r.col..r.col + d.ow];
        out[..r.inside.start].fill(T::zero());
        out[r.inside.end..].fill(T::zero());
        let out = &mut out[r.inside];
        if d.stride.1 == 1 {
            out.copy_from_slice(&x[r.pixel..r.pixel + out.len()]);
        } else {
            let pixels = x[r.pixel..].iter().step_by(d.stride.1);
            out.iter_mut().zip(pixels).for_each(|(c, &p)| *c = p);
        }
    });
}
// ANCHOR_END: im2col

/// Adds `cols` (`[c_in*kh*kw, oh*ow]`) back into one image `gx` (`[c_in, h, w]`).
fn col2im<T: Element>(cols: &[T], d: &Conv2dDims, gx: &mut [T]) {
    for_each_tap_row(d, |r| {
        let cols = &cols[r.col..][r.inside];
        if d.stride.1 == 1 {
            let pixels = &mut gx[r.pixel..r.pixel + cols.len()];
            pixels.iter_mut().zip(cols).for_each(|(p, &c)| *p = *p + c);
        } else {
            let pixels = gx[r.pixel..].iter_mut().step_by(d.stride.1);
            pixels.zip(cols).for_each(|(p, &c)| *p = *p + c);
        }
    });
}

// ANCHOR: forward
/// Forward: `x [n, c_in, h, w]`, `w [c_out, c_in, kh, kw]` to `y [n, c_out, oh, ow]`.
pub(super) fn forward<T: Element>(x: &[T], w: &[T], d: Conv2dDims) -> Alloc<Vec<T>> {
    let (k, spatial) = (patch_len(&d), d.oh * d.ow);
    let mut y = pool::for_overwrite(d.n * d.c_out * spatial)?;
    if y.is_empty() {
        return Ok(y);
    }
    y.par_chunks_mut(d.c_out * spatial)
        .enumerate()
        .try_for_each_init(
            || Scratch::zeros(k * spatial),
            |cols, (b, yb)| {
                let cols = cols.as_mut().map_err(|e| *e)?;
                im2col(&x[b * d.c_in * d.h * d.w..], &d, cols);
                let wm = MatRef::new(w, k, false);
                gemm_into(
                    yb,
                    wm,
                    MatRef::new(cols, spatial, false),
                    (d.c_out, k, spatial),
                    false,
                    false,
                )
            },
        )?;
    Ok(y)
}
// ANCHOR_END: forward

// ANCHOR: backward_data
/// Backward-data: `gy [n, c_out, oh, ow]`, `w` to `gx [n, c_in, h, w]`.
pub(super) fn backward_data<T: Element>(gy: &[T], w: &[T], d: Conv2dDims) -> Alloc<Vec<T>> {
    let (k, spatial) = (patch_len(&d), d.oh * d.ow);
    let mut gx = pool::zeros(d.n * d.c_in * d.h * d.w)?;
    if gx.is_empty() {
        return Ok(gx);
    }
    gx.par_chunks_mut(d.c_in * d.h * d.w)
        .enumerate()
        .try_for_each_init(
            || Scratch::zeros(k * spatial),
            |cols, (b, gxb)| {
                let cols = cols.as_mut().map_err(|e| *e)?;
                let wt = MatRef::new(w, k, true);
                let gyb = MatRef::new(&gy[b * d.c_out * spatial..], spatial, false);
                gemm_into(cols, wt, gyb, (k, d.c_out, spatial), false, false)?;
                col2im(cols, &d, gxb);
                Ok(())
            },
        )?;
    Ok(gx)
}
// ANCHOR_END: backward_data

// ANCHOR: backward_weight
/// Images per task of the backward-weight reduction. Fixed, so that the partial sums and
/// their order, and hence the rounding, do not depend on thread scheduling.
const IMAGES_PER_TASK: usize = 8;

/// Backward-weight: `x`, `gy` to `gw [c_out, c_in, kh, kw]`, summed over the batch. Each task
/// sums a fixed chunk of images; the chunks' sums are added in order (deterministic).
pub(super) fn backward_weight<T: Element>(x: &[T], gy: &[T], d: Conv2dDims) -> Alloc<Vec<T>> {
    let (k, spatial) = (patch_len(&d), d.oh * d.ow);
    let chunks: Vec<usize> = (0..d.n).step_by(IMAGES_PER_TASK).collect();
    let partials: Vec<Vec<T>> = chunks
        .into_par_iter()
        .map(|first| {
            let mut gw = pool::zeros(d.c_out * k)?;
            let mut cols = Scratch::zeros(k * spatial)?;
            for b in first..(first + IMAGES_PER_TASK).min(d.n) {
                im2col(&x[b * d.c_in * d.h * d.w..], &d, &mut cols);
                let gyb = MatRef::new(&gy[b * d.c_out * spatial..], spatial, false);
                let colst = MatRef::new(&cols, spatial, true);
                gemm_into(&mut gw, gyb, colst, (d.c_out, spatial, k), true, false)?;
            }
            Ok(gw)
        })
        .collect::<Alloc<_>>()?;
    let mut total = pool::zeros(d.c_out * k)?;
    for part in partials {
        total.iter_mut().zip(&part).for_each(|(t, &p)| *t = *t + p);
        pool::recycle(part);
    }
    Ok(total)
}
// ANCHOR_END: backward_weight
