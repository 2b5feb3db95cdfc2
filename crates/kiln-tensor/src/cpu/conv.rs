//! 2-D convolution as im2col + GEMM, a group of images per task, groups spread over threads.
//!
//! For image `b`, `cols[(ci, ki, kj), (oy, ox)] = x[b, ci, oy*sh + ki - pt, ox*sw + kj - pl]`
//! (zero outside the image), a `[c_in*kh*kw, oh*ow]` matrix. Then
//! - forward: `y[b] = W · cols`, with `W` viewed as `[c_out, c_in*kh*kw]`;
//! - backward-data: `gcols = Wᵀ · gy[b]`, scattered back by col2im;
//! - backward-weight: `gW += gy[b] · colsᵀ`, summed over the batch.
//!
//! Images of small output maps are grouped: the im2col matrices of [`group`] images stand side
//! by side in one `[c_in*kh*kw, images*oh*ow]` matrix, and `y` and `gy` are copied to and from
//! the same layout, so that each product has at least [`GROUP_COLUMNS`] columns
//! ([`WEIGHT_COLUMNS`] in backward-weight).
//!
//! Small maps, where the padding is a tenth or more of the im2col matrix, take the tap-by-tap
//! path of `conv_by_tap` instead, which skips it.

use super::matmul::{gemm_into, transpose_into, MatRef};
use super::pool::{self, Scratch};
use super::{Alloc, Element};
use crate::kernels::Conv2dDims;
use rayon::prelude::*;
use std::ops::Range;

/// Rows of the im2col matrix: `c_in * kh * kw`.
fn patch_len(d: &Conv2dDims) -> usize {
    d.c_in * d.kh * d.kw
}

/// The outputs `o < out` whose input `o*stride + k - pad`, under tap `k` of the filter, lies
/// inside `[0, size)`.
pub(super) fn inside(out: usize, size: usize, pad: usize, k: usize, stride: usize) -> Range<usize> {
    let first = pad.saturating_sub(k).div_ceil(stride);
    let end = (size + pad)
        .checked_sub(k)
        .map_or(0, |limit| limit.div_ceil(stride))
        .min(out);
    first..end.max(first)
}

// ANCHOR: im2col
/// One row `(ci, ki, kj)` of one image's im2col matrix, `oh*ow` entries from `cols[col]` on.
/// The entries at output rows `oy` in `rows` and columns `ox` in `columns` read pixels of the
/// image: the first of them `pixel`, output rows `pitch` pixels apart and columns `stride.1`
/// apart. All others read zero padding (all of them when `rows` is empty).
struct TapPlane {
    col: usize,
    pixel: usize,
    pitch: usize,
    rows: Range<usize>,
    columns: Range<usize>,
}

/// Calls `f` for every [`TapPlane`] of the im2col matrix of one image: `cols` is
/// `[c_in*kh*kw, oh*ow]` with rows `stride` apart, the image `[c_in, h, w]`.
#[inline]
fn for_each_tap_plane(d: &Conv2dDims, stride: usize, mut f: impl FnMut(TapPlane)) {
    let (sh, sw) = d.stride;
    for ci in 0..d.c_in {
        for ki in 0..d.kh {
            // iy = oy*sh + ki - pt lies in [0, h) for oy in `rows`, ix likewise for `columns`.
            let rows = inside(d.oh, d.h, d.pad.0, ki, sh);
            for kj in 0..d.kw {
                let columns = inside(d.ow, d.w, d.pad.1, kj, sw);
                let col = ((ci * d.kh + ki) * d.kw + kj) * stride;
                let (rows, pixel) = if rows.is_empty() || columns.is_empty() {
                    (0..0, 0)
                } else {
                    let iy = rows.start * sh + ki - d.pad.0;
                    let ix = columns.start * sw + kj - d.pad.1;
                    (rows.clone(), (ci * d.h + iy) * d.w + ix)
                };
                f(TapPlane {
                    col,
                    pixel,
                    pitch: sh * d.w,
                    rows,
                    columns,
                });
            }
        }
    }
}

/// Fills the `[c_in*kh*kw, oh*ow]` im2col matrix of one image `x` (`[c_in, h, w]`) into
/// `cols`, whose rows are `stride` apart.
fn im2col<T: Element>(x: &[T], d: &Conv2dDims, cols: &mut [T], stride: usize) {
    let ow = d.ow;
    for_each_tap_plane(d, stride, |t| {
        let plane = &mut cols[t.col..t.col + d.oh * ow];
        let (above, rest) = plane.split_at_mut(t.rows.start * ow);
        let (within, below) = rest.split_at_mut(t.rows.len() * ow);
        above.fill(T::zero());
        below.fill(T::zero());
        let padded = t.columns.len() < ow;
        for (i, out) in within.chunks_exact_mut(ow).enumerate() {
            if padded {
                out[..t.columns.start].fill(T::zero());
                out[t.columns.end..].fill(T::zero());
            }
            let out = &mut out[t.columns.clone()];
            let pixel = t.pixel + i * t.pitch;
            if d.stride.1 == 1 {
                update_run(out, &x[pixel..pixel + out.len()], |_, p| p);
            } else {
                let pixels = x[pixel..].iter().step_by(d.stride.1);
                out.iter_mut().zip(pixels).for_each(|(c, &p)| *c = p);
            }
        }
    });
}
// ANCHOR_END: im2col

/// Elements of the blocks in which [`update_run`] moves a short run.
const RUN_BLOCK: usize = 8;

/// `dst[i] = f(dst[i], src[i])` for every `i` (a copy, or an addition), faster for the short
/// rows of a small map: a run of 8 to 16 elements goes as two overlapping blocks, inline,
/// where a copy would call `memcpy`, whose call costs about as much as such a copy. Both
/// blocks are computed before either is stored, so the elements where they overlap receive
/// the same value twice.
#[inline(always)]
fn update_run<T: Copy>(dst: &mut [T], src: &[T], f: impl Fn(T, T) -> T) {
    let n = dst.len();
    if (RUN_BLOCK..=2 * RUN_BLOCK).contains(&n) {
        let block = |d: &[T], s: &[T]| -> [T; RUN_BLOCK] { std::array::from_fn(|j| f(d[j], s[j])) };
        let head = block(&dst[..RUN_BLOCK], &src[..RUN_BLOCK]);
        let tail = block(&dst[n - RUN_BLOCK..], &src[n - RUN_BLOCK..n]);
        dst[..RUN_BLOCK].copy_from_slice(&head);
        dst[n - RUN_BLOCK..].copy_from_slice(&tail);
    } else {
        dst.iter_mut().zip(src).for_each(|(d, &s)| *d = f(*d, s));
    }
}

/// Adds the `[c_in*kh*kw, oh*ow]` matrix `cols`, whose rows are `stride` apart, back into one
/// image `gx` (`[c_in, h, w]`).
fn col2im<T: Element>(cols: &[T], d: &Conv2dDims, stride: usize, gx: &mut [T]) {
    let ow = d.ow;
    for_each_tap_plane(d, stride, |t| {
        let within = &cols[t.col + t.rows.start * ow..t.col + t.rows.end * ow];
        for (i, row) in within.chunks_exact(ow).enumerate() {
            let row = &row[t.columns.clone()];
            let pixel = t.pixel + i * t.pitch;
            if d.stride.1 == 1 {
                update_run(&mut gx[pixel..pixel + row.len()], row, |p, c| p + c);
            } else {
                let pixels = gx[pixel..].iter_mut().step_by(d.stride.1);
                pixels.zip(row).for_each(|(p, &c)| *p = *p + c);
            }
        }
    });
}

// ANCHOR: group
/// Columns of one forward or backward-data product at least. `gemm` computes a row-major
/// product transposed, tiling its columns in blocks of 64 (four AVX-512 vectors of f32): a 4x4
/// output map alone fills a quarter of a tile. Grouping four such images cut a 512-channel 4x4
/// convolution's forward and backward at batch 512 from 0.94-1.06 s to 0.77-0.78 s; wider
/// groups (128 to 512 columns) were slower in these two passes.
const GROUP_COLUMNS: usize = 64;

/// Columns of one backward-weight product at least: its reduction runs over them, so more of
/// them mean fewer passes over `gW`. 512 against 64 took backward-weight of a 512-channel 4x4
/// convolution at batch 512 from about 320 to 290 ms.
const WEIGHT_COLUMNS: usize = 512;

/// Images per im2col matrix: enough for `columns` columns, at most the batch.
pub(super) fn group(d: &Conv2dDims, columns: usize) -> usize {
    columns.div_ceil((d.oh * d.ow).max(1)).clamp(1, d.n.max(1))
}

/// For `images` images of `rows` runs of `spatial` elements each, the offset of every run in
/// the images stored one after another (`[images, rows, spatial]`) and side by side
/// (`[rows, images * spatial]`).
fn side_by_side(
    images: usize,
    rows: usize,
    spatial: usize,
) -> impl Iterator<Item = (usize, usize)> {
    (0..images).flat_map(move |j| {
        (0..rows).map(move |r| ((j * rows + r) * spatial, (r * images + j) * spatial))
    })
}

/// The work buffers of one task: the im2col matrix of a group of `g` images, and its
/// `[c_out, g*oh*ow]` side-by-side output (or output gradient) when `g` is more than one.
fn scratch<T: Element>(d: &Conv2dDims, g: usize) -> Alloc<(Scratch<T>, Scratch<T>)> {
    let spatial = d.oh * d.ow;
    let side = if g > 1 { d.c_out * g * spatial } else { 0 };
    // Both are written in full before they are read: im2col writes the padding's zeros too.
    Ok((
        Scratch::for_overwrite(patch_len(d) * g * spatial)?,
        Scratch::for_overwrite(side)?,
    ))
}

/// Fills `cols` with the im2col matrices of `images` (`[images.len() / (c_in*h*w), c_in, h,
/// w]`) side by side; returns the matrix's width.
fn im2col_group<T: Element>(images: &[T], d: &Conv2dDims, cols: &mut [T]) -> usize {
    let image = d.c_in * d.h * d.w;
    let spatial = d.oh * d.ow;
    let width = images.len() / image * spatial;
    for (j, x) in images.chunks_exact(image).enumerate() {
        im2col(x, d, &mut cols[j * spatial..], width);
    }
    width
}

/// `gy`'s images (`[images, c_out, oh*ow]`) as one `[c_out, images*oh*ow]` matrix: the slice
/// itself for one image, else copied side by side into `side`.
fn gy_side_by_side<'a, T: Element>(
    gy: &'a [T],
    d: &Conv2dDims,
    side: &'a mut [T],
) -> MatRef<'a, T> {
    let spatial = d.oh * d.ow;
    let images = gy.len() / (d.c_out * spatial);
    let width = images * spatial;
    if images == 1 {
        return MatRef::new(gy, width, false);
    }
    let side = &mut side[..d.c_out * width];
    for (at, to) in side_by_side(images, d.c_out, spatial) {
        side[to..to + spatial].copy_from_slice(&gy[at..at + spatial]);
    }
    MatRef::new(side, width, false)
}

// ANCHOR_END: group

// ANCHOR: forward
/// Forward: `x [n, c_in, h, w]`, `w [c_out, c_in, kh, kw]` to `y [n, c_out, oh, ow]`.
pub(super) fn forward<T: Element>(x: &[T], w: &[T], d: Conv2dDims) -> Alloc<Vec<T>> {
    let (k, spatial, g) = (patch_len(&d), d.oh * d.ow, group(&d, GROUP_COLUMNS));
    let mut y = pool::for_overwrite(d.n * d.c_out * spatial)?;
    if y.is_empty() {
        return Ok(y);
    }
    let image = d.c_in * d.h * d.w;
    if image == 0 {
        // No input pixels (no channels, or padding only): every output is zero.
        y.fill(T::zero());
        return Ok(y);
    }
    y.par_chunks_mut(g * d.c_out * spatial)
        .zip(x.par_chunks(g * image))
        .try_for_each_init(
            || scratch(&d, g),
            |buffers, (yg, xg)| {
                let (cols, side) = buffers.as_mut().map_err(|e| *e)?;
                let width = im2col_group(xg, &d, cols);
                let wm = MatRef::new(w, k, false);
                let colsm = MatRef::new(cols, width, false);
                if width == spatial {
                    return gemm_into(yg, wm, colsm, (d.c_out, k, width), false, false);
                }
                let side = &mut side[..d.c_out * width];
                gemm_into(side, wm, colsm, (d.c_out, k, width), false, false)?;
                for (at, from) in side_by_side(width / spatial, d.c_out, spatial) {
                    yg[at..at + spatial].copy_from_slice(&side[from..from + spatial]);
                }
                Ok(())
            },
        )?;
    Ok(y)
}
// ANCHOR_END: forward

// ANCHOR: backward_data
/// Backward-data: `gy [n, c_out, oh, ow]`, `w` to `gx [n, c_in, h, w]`.
pub(super) fn backward_data<T: Element>(gy: &[T], w: &[T], d: Conv2dDims) -> Alloc<Vec<T>> {
    let (k, spatial, g) = (patch_len(&d), d.oh * d.ow, group(&d, GROUP_COLUMNS));
    let mut gx = pool::zeros(d.n * d.c_in * d.h * d.w)?;
    if gx.is_empty() || gy.is_empty() {
        return Ok(gx);
    }
    let image = d.c_in * d.h * d.w;
    gx.par_chunks_mut(g * image)
        .zip(gy.par_chunks(g * d.c_out * spatial))
        .try_for_each_init(
            || scratch(&d, g),
            |buffers, (gxg, gyg)| {
                let (cols, side) = buffers.as_mut().map_err(|e| *e)?;
                let gym = gy_side_by_side(gyg, &d, side);
                let width = gxg.len() / image * spatial;
                gemm_into(
                    cols,
                    MatRef::new(w, k, true),
                    gym,
                    (k, d.c_out, width),
                    false,
                    false,
                )?;
                for (j, gxb) in gxg.chunks_exact_mut(image).enumerate() {
                    col2im(&cols[j * spatial..], &d, width, gxb);
                }
                Ok(())
            },
        )?;
    Ok(gx)
}
// ANCHOR_END: backward_data

// ANCHOR: backward_weight
/// Images per task of the backward-weight reduction (at least): fixed, so that the partial
/// sums and their order, and hence the rounding, do not depend on thread scheduling.
pub(super) const IMAGES_PER_TASK: usize = 8;

/// Whether a backward-weight sum over `rows` rows of pixels (im2col rows, or a tap's input
/// channels) against `c_out` output channels is built transposed, as `[rows, c_out]`.
///
/// Both factors of its products run along the pixels, contiguous in the gathered input and in
/// `gy`. `gemm` reads one of them in place and packs the other, the one indexed along the
/// destination's rows, with a transposing gather: the input for `gW [c_out, rows]`, `gy` for
/// `gWᵀ [rows, c_out]`. The sum is built in the layout that packs the smaller factor. For the
/// 64-to-128-channel 3x3 convolution of a 32x32 map at batch 512 (576 im2col rows against 128
/// channels) that took backward-weight from 880 to 510 ms.
pub(super) fn weight_sum_transposed(rows: usize, c_out: usize) -> bool {
    c_out < rows
}

/// `sum += gy · inputᵀ`, laid out as [`weight_sum_transposed`] says: `input` is
/// `[rows, width]`, `gy` `[c_out, width]`.
pub(super) fn add_weight_product<T: Element>(
    sum: &mut [T],
    input: MatRef<T>,
    gy: MatRef<T>,
    (rows, width, c_out): (usize, usize, usize),
) -> Alloc<()> {
    if weight_sum_transposed(rows, c_out) {
        gemm_into(sum, input, gy.t(), (rows, width, c_out), true, false)
    } else {
        gemm_into(sum, gy, input.t(), (c_out, width, rows), true, false)
    }
}

/// The partial sums of fixed chunks of the batch, added in order (deterministic).
pub(super) fn sum_in_order<T: Element>(partials: Vec<Vec<T>>, len: usize) -> Alloc<Vec<T>> {
    let mut total = pool::zeros(len)?;
    for part in partials {
        total.iter_mut().zip(&part).for_each(|(t, &p)| *t = *t + p);
        pool::recycle(part);
    }
    Ok(total)
}

/// Backward-weight: `x`, `gy` to `gw [c_out, c_in, kh, kw]`, summed over the batch. Each task
/// sums a fixed chunk of images, a group at a time; the chunks' sums are added in order
/// (deterministic). The sums are built transposed when [`weight_sum_transposed`] says so, and
/// transposed back once at the end.
pub(super) fn backward_weight<T: Element>(x: &[T], gy: &[T], d: Conv2dDims) -> Alloc<Vec<T>> {
    let (k, spatial, g) = (patch_len(&d), d.oh * d.ow, group(&d, WEIGHT_COLUMNS));
    let per_task = IMAGES_PER_TASK.div_ceil(g) * g;
    let (image, gy_image) = (d.c_in * d.h * d.w, d.c_out * spatial);
    if x.is_empty() || gy.is_empty() {
        return pool::zeros(d.c_out * k);
    }
    let partials: Vec<Vec<T>> = x
        .par_chunks(per_task * image)
        .zip(gy.par_chunks(per_task * gy_image))
        .map(|(xs, gys)| {
            let mut gw = pool::zeros(d.c_out * k)?;
            let (mut cols, mut side) = scratch(&d, g)?;
            for (xg, gyg) in xs.chunks(g * image).zip(gys.chunks(g * gy_image)) {
                let width = im2col_group(xg, &d, &mut cols);
                let gym = gy_side_by_side(gyg, &d, &mut side);
                let colsm = MatRef::new(&cols, width, false);
                add_weight_product(&mut gw, colsm, gym, (k, width, d.c_out))?;
            }
            Ok(gw)
        })
        .collect::<Alloc<_>>()?;
    let total = sum_in_order(partials, d.c_out * k)?;
    if !weight_sum_transposed(k, d.c_out) {
        return Ok(total);
    }
    let mut gw = pool::for_overwrite(d.c_out * k)?;
    transpose_into(&mut gw, &total, (d.c_out, k), false);
    pool::recycle(total);
    Ok(gw)
}
// ANCHOR_END: backward_weight

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::random::Rng;
    use crate::{Conv2dOptions, Padding, Shape};

    /// A test geometry: `(n, c_in, c_out, (h, w), (kh, kw), stride, padding)`.
    pub(in crate::cpu) type Case = (
        usize,
        usize,
        usize,
        (usize, usize),
        (usize, usize),
        (usize, usize),
        Padding,
    );

    /// The three passes `[forward, backward-data, backward-weight]` of a convolution on
    /// `(x, w, gy, dims)`.
    pub(in crate::cpu) type Passes = fn(&[f64], &[f64], &[f64], Conv2dDims) -> [Vec<f64>; 3];

    /// Checks `passes` against the definition on random `f64` data of every case, to 1e-12.
    pub(in crate::cpu) fn match_the_definition(cases: &[Case], passes: Passes) {
        let mut rng = Rng::new(7);
        for &(n, c_in, c_out, (h, w), (kh, kw), stride, padding) in cases {
            let (xs, ws) = (
                Shape::new(&[n, c_in, h, w]),
                Shape::new(&[c_out, c_in, kh, kw]),
            );
            let d = Conv2dOptions { stride, padding }.dims(&xs, &ws).unwrap();
            let mut random = |len: usize| -> Vec<f64> {
                (0..len).map(|_| rng.uniform_f64() * 2.0 - 1.0).collect()
            };
            let (x, wt) = (random(xs.numel()), random(ws.numel()));
            let gy = random(n * c_out * d.oh * d.ow);
            let got = passes(&x, &wt, &gy, d);
            for (pass, (got, want)) in got.iter().zip(direct(&x, &wt, &gy, &d)).enumerate() {
                assert_eq!(got.len(), want.len());
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (g - w).abs() < 1e-12,
                        "{d:?}: pass {pass}, element {i}: {g} != {w}"
                    );
                }
            }
        }
    }

    /// `y`, `gx` and `gw` of a convolution by the definition, one multiply-add at a time.
    fn direct(x: &[f64], w: &[f64], gy: &[f64], d: &Conv2dDims) -> [Vec<f64>; 3] {
        let mut y = vec![0.0; d.n * d.c_out * d.oh * d.ow];
        let mut gx = vec![0.0; x.len()];
        let mut gw = vec![0.0; w.len()];
        for b in 0..d.n {
            for co in 0..d.c_out {
                for (oy, ox) in (0..d.oh).flat_map(|oy| (0..d.ow).map(move |ox| (oy, ox))) {
                    let o = ((b * d.c_out + co) * d.oh + oy) * d.ow + ox;
                    for (ci, ki, kj) in (0..d.c_in).flat_map(|ci| {
                        (0..d.kh).flat_map(move |ki| (0..d.kw).map(move |kj| (ci, ki, kj)))
                    }) {
                        let iy = (oy * d.stride.0 + ki)
                            .checked_sub(d.pad.0)
                            .filter(|&y| y < d.h);
                        let ix = (ox * d.stride.1 + kj)
                            .checked_sub(d.pad.1)
                            .filter(|&x| x < d.w);
                        let (Some(iy), Some(ix)) = (iy, ix) else {
                            continue;
                        };
                        let i = ((b * d.c_in + ci) * d.h + iy) * d.w + ix;
                        let f = ((co * d.c_in + ci) * d.kh + ki) * d.kw + kj;
                        y[o] += w[f] * x[i];
                        gx[i] += w[f] * gy[o];
                        gw[f] += gy[o] * x[i];
                    }
                }
            }
        }
        [y, gx, gw]
    }

    /// Batches that fill several groups and end in a partial one, maps from 1x1 to 9x9.
    #[test]
    fn grouped_images_match_the_direct_convolution() {
        let cases = [
            (7, 3, 2, (4, 4), (3, 3), (1, 1), Padding::Same),
            (9, 2, 3, (2, 3), (3, 3), (1, 1), Padding::Same),
            (5, 2, 2, (5, 5), (3, 3), (2, 2), Padding::Same),
            (3, 1, 2, (3, 3), (3, 3), (1, 1), Padding::Valid),
            (
                6,
                2,
                1,
                (3, 4),
                (2, 3),
                (1, 2),
                Padding::Explicit {
                    top: 1,
                    bottom: 0,
                    left: 2,
                    right: 1,
                },
            ),
            (3, 2, 2, (9, 9), (3, 3), (1, 1), Padding::Same),
            // Rows of 11 and 16 outputs, moved as two blocks, and of 18 and 19, in one piece.
            (2, 3, 4, (13, 13), (3, 3), (1, 1), Padding::Valid),
            (2, 2, 3, (18, 18), (3, 3), (1, 1), Padding::Valid),
            (2, 2, 3, (19, 19), (3, 3), (1, 1), Padding::Same),
            // More channels out than im2col rows: backward-weight packs `cols`, not `gy`.
            (4, 1, 12, (5, 5), (3, 3), (1, 1), Padding::Same),
            // Several backward-weight groups of 128 images, the last one partial.
            (300, 1, 2, (2, 2), (3, 3), (1, 1), Padding::Same),
        ];
        match_the_definition(&cases, |x, w, gy, d| {
            [
                forward(x, w, d).unwrap(),
                backward_data(gy, w, d).unwrap(),
                backward_weight(x, gy, d).unwrap(),
            ]
        });
    }
}
