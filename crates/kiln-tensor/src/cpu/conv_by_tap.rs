//! 2-D convolution of small maps one filter tap at a time, skipping the padding.
//!
//! im2col multiplies every tap by every output pixel, padding zeros included: a 3x3 filter with
//! "same" padding over a 4x4 map reads the padding in 44 of its 144 tap-pixel pairs (31%), over
//! an 8x8 map in 16%. Here each tap multiplies only the outputs it reaches inside the image.
//!
//! For a group of images and a tap `t = (ki, kj)`, let `V` be those outputs (a rectangle of the
//! output map), `x_t` the input pixels the tap reads for them, gathered as a
//! `[c_in, images*|V|]` matrix, `gy_V` the output gradient at `V` as `[c_out, images*|V|]`, and
//! `W_t = w[:, :, ki, kj]` (`[c_out, c_in]`). Then
//! - forward: `y[:, V] += W_t · x_t`;
//! - backward-data: `W_tᵀ · gy_V` is added into the input pixels of `x_t`;
//! - backward-weight: `gW_t += gy_V · x_tᵀ`, summed over the batch.

use super::conv::{
    add_weight_product, group, inside, sum_in_order, weight_sum_transposed, IMAGES_PER_TASK,
};
use super::matmul::{gemm_into, MatRef};
use super::pool::{self, Scratch};
use super::{Alloc, Element};
use crate::kernels::Conv2dDims;
use rayon::prelude::*;

/// Columns of one product at least: a group holds enough images for this many output pixels.
/// 4x4 maps then come 16 images to a group, and a tap's product has 144 to 256 columns. 256
/// and 512 were level; 64 and 128 were slower, 1024 too.
const TAP_COLUMNS: usize = 256;

/// This path runs when the taps reach at most this fraction of the im2col matrix's entries,
/// the rest being padding. At batch 512, forward and backward of a 3x3 convolution over a 4x4
/// map (512 channels, 69% reached) took 510-520 ms here against 660-670 ms by im2col, over an
/// 8x8 map (256 to 512 channels, 84%) 1100-1160 against 1190-1200 ms; over a 16x16 map (92%)
/// the two were level.
const MAX_INSIDE: f64 = 0.9;

/// Where a tap's pixels lie in one plane: runs `pitch` apart, the first at `start`, pixels
/// within a run `step` apart.
#[derive(Clone, Copy)]
struct Runs {
    start: usize,
    pitch: usize,
    step: usize,
}

/// One filter tap: the `rows x cols` outputs it reaches inside the image, as runs of the
/// `[oh, ow]` output plane and of the `[h, w]` input plane.
struct Tap {
    /// `ki * kw + kj`.
    index: usize,
    rows: usize,
    cols: usize,
    output: Runs,
    input: Runs,
}

impl Tap {
    /// Output pixels (and input pixels) per image.
    fn len(&self) -> usize {
        self.rows * self.cols
    }
}

/// The taps of the filter that reach inside the image.
fn taps(d: &Conv2dDims) -> impl Iterator<Item = Tap> + '_ {
    let (sh, sw) = d.stride;
    (0..d.kh * d.kw).filter_map(move |index| {
        let (ki, kj) = (index / d.kw, index % d.kw);
        let rows = inside(d.oh, d.h, d.pad.0, ki, sh);
        let cols = inside(d.ow, d.w, d.pad.1, kj, sw);
        if rows.is_empty() || cols.is_empty() {
            return None;
        }
        let (iy, ix) = (
            rows.start * sh + ki - d.pad.0,
            cols.start * sw + kj - d.pad.1,
        );
        Some(Tap {
            index,
            rows: rows.len(),
            cols: cols.len(),
            output: Runs {
                start: rows.start * d.ow + cols.start,
                pitch: d.ow,
                step: 1,
            },
            input: Runs {
                start: iy * d.w + ix,
                pitch: sh * d.w,
                step: sw,
            },
        })
    })
}

/// Whether this path pays: the taps reach at most [`MAX_INSIDE`] of the im2col entries.
pub(super) fn pays(d: &Conv2dDims) -> bool {
    let reached: usize = taps(d).map(|t| t.len()).sum();
    let all = d.kh * d.kw * d.oh * d.ow;
    all > 0 && (reached as f64) <= MAX_INSIDE * all as f64
}

/// One side of the convolution: its images, `planes` planes of `plane` pixels, and where a
/// tap's pixels lie in them. The input has `c_in` planes of `h*w`, the output `c_out` of `oh*ow`.
#[derive(Clone, Copy)]
struct Side {
    planes: usize,
    plane: usize,
    input: bool,
}

impl Side {
    fn input(d: &Conv2dDims) -> Self {
        Side {
            planes: d.c_in,
            plane: d.h * d.w,
            input: true,
        }
    }

    fn output(d: &Conv2dDims) -> Self {
        Side {
            planes: d.c_out,
            plane: d.oh * d.ow,
            input: false,
        }
    }

    /// Elements per image.
    fn image(self) -> usize {
        self.planes * self.plane
    }

    /// `tap`'s pixels in this side's planes.
    fn runs(self, tap: &Tap) -> Runs {
        if self.input {
            tap.input
        } else {
            tap.output
        }
    }
}

/// Calls `f(at, to, len)` for every run of `tap`'s pixels in `images` images of `side`: `at`
/// is the run's first element there, `to` its first column in the tap's
/// `[side.planes, images * tap.len()]` matrix, `len` its pixels. The rows of a tap that spans
/// whole rows of a dense plane make one run.
fn for_each_run(tap: &Tap, side: Side, images: usize, mut f: impl FnMut(usize, usize, usize)) {
    let runs = side.runs(tap);
    let width = images * tap.len();
    let (count, len) = if runs.step == 1 && runs.pitch == tap.cols {
        (1, tap.len())
    } else {
        (tap.rows, tap.cols)
    };
    for p in 0..side.planes {
        for image in 0..images {
            let at = (image * side.planes + p) * side.plane + runs.start;
            let to = p * width + image * tap.len();
            for r in 0..count {
                f(at + r * runs.pitch, to + r * len, len);
            }
        }
    }
}

/// Copies `tap`'s pixels of `src`, images of `side`, into the matrix `m`
/// (`[side.planes, images * tap.len()]`); returns the matrix's width.
fn gather<T: Element>(src: &[T], tap: &Tap, side: Side, m: &mut [T]) -> usize {
    let (images, step) = (src.len() / side.image(), side.runs(tap).step);
    for_each_run(tap, side, images, |at, to, len| {
        let out = &mut m[to..to + len];
        let pixels = &src[at..at + (len - 1) * step + 1];
        if step == 1 {
            out.copy_from_slice(pixels);
        } else {
            let pixels = pixels.iter().step_by(step);
            out.iter_mut().zip(pixels).for_each(|(e, &p)| *e = p);
        }
    });
    images * tap.len()
}

/// Adds the matrix `m` (`[side.planes, images * tap.len()]`) into `tap`'s pixels of `dst`,
/// images of `side`.
fn scatter_add<T: Element>(m: &[T], tap: &Tap, side: Side, dst: &mut [T]) {
    let (images, step) = (dst.len() / side.image(), side.runs(tap).step);
    for_each_run(tap, side, images, |at, from, len| {
        let pixels = dst[at..at + (len - 1) * step + 1].iter_mut().step_by(step);
        pixels
            .zip(&m[from..from + len])
            .for_each(|(p, &e)| *p = *p + e);
    });
}

/// Calls `f(i, j)` for every weight, `i` its index in `[c_out, c_in, kh, kw]`, `j` in the
/// per-tap layout `[kh*kw, c_out, c_in]`, or `[kh*kw, c_in, c_out]` when `transposed`.
fn for_each_weight(d: &Conv2dDims, transposed: bool, mut f: impl FnMut(usize, usize)) {
    let taps = d.kh * d.kw;
    for co in 0..d.c_out {
        for ci in 0..d.c_in {
            for t in 0..taps {
                let j = if transposed {
                    (t * d.c_in + ci) * d.c_out + co
                } else {
                    (t * d.c_out + co) * d.c_in + ci
                };
                f((co * d.c_in + ci) * taps + t, j);
            }
        }
    }
}

/// `w [c_out, c_in, kh, kw]` in the per-tap layout of [`for_each_weight`].
fn by_tap<T: Element>(w: &[T], d: &Conv2dDims, transposed: bool) -> Alloc<Vec<T>> {
    let mut out = pool::for_overwrite(w.len())?;
    for_each_weight(d, transposed, |i, j| out[j] = w[i]);
    Ok(out)
}

/// The two work matrices of one task, each room for `max(c_in, c_out)` rows of a group's pixels.
fn scratch<T: Element>(d: &Conv2dDims) -> Alloc<(Scratch<T>, Scratch<T>)> {
    let len = d.c_in.max(d.c_out) * group(d, TAP_COLUMNS) * d.oh * d.ow;
    Ok((Scratch::for_overwrite(len)?, Scratch::for_overwrite(len)?))
}

// ANCHOR: forward
/// The tap products of `src`, images of the side `from`, into new images of the side `to`: for
/// each tap, `src`'s pixels under it (gathered as `[from.planes, images*|V|]`, a group of images
/// at a time) times the tap's `[to.planes, from.planes]` weight matrix, added into the pixels
/// under it. Forward runs from the input to the output, backward-data from the output to the
/// input.
fn spread<T: Element>(src: &[T], w: &[T], d: &Conv2dDims, from: Side, to: Side) -> Alloc<Vec<T>> {
    let mut dst = pool::zeros(d.n * to.image())?;
    if dst.is_empty() || from.image() == 0 {
        return Ok(dst);
    }
    let wt = by_tap(w, d, to.input)?;
    let g = group(d, TAP_COLUMNS);
    dst.par_chunks_mut(g * to.image())
        .zip(src.par_chunks(g * from.image()))
        .try_for_each_init(
            || scratch(d),
            |buffers, (dst, src)| {
                let (gathered, product) = buffers.as_mut().map_err(|e| *e)?;
                for tap in taps(d) {
                    let width = gather(src, &tap, from, gathered);
                    let w_t = &wt[tap.index * to.planes * from.planes..];
                    let (w_t, m) = (
                        MatRef::new(w_t, from.planes, false),
                        MatRef::new(gathered, width, false),
                    );
                    gemm_into(
                        product,
                        w_t,
                        m,
                        (to.planes, from.planes, width),
                        false,
                        false,
                    )?;
                    scatter_add(product, &tap, to, dst);
                }
                Ok(())
            },
        )?;
    pool::recycle(wt);
    Ok(dst)
}

/// Forward: `x [n, c_in, h, w]`, `w [c_out, c_in, kh, kw]` to `y [n, c_out, oh, ow]`.
pub(super) fn forward<T: Element>(x: &[T], w: &[T], d: Conv2dDims) -> Alloc<Vec<T>> {
    let mut y = spread(x, w, &d, Side::input(&d), Side::output(&d))?;
    nan_where_weights_meet_padding(&mut y, w, &d);
    Ok(y)
}
// ANCHOR_END: forward

/// Calls `f(t, p)` for every tap `t` of the `kh*kw` and output pixel `p` (`oy*ow + ox`) for
/// which the tap reads padding.
fn for_each_padding_read(d: &Conv2dDims, mut f: impl FnMut(usize, usize)) {
    for t in 0..d.kh * d.kw {
        let rows = inside(d.oh, d.h, d.pad.0, t / d.kw, d.stride.0);
        let cols = inside(d.ow, d.w, d.pad.1, t % d.kw, d.stride.1);
        for (oy, ox) in (0..d.oh).flat_map(|oy| (0..d.ow).map(move |ox| (oy, ox))) {
            if !(rows.contains(&oy) && cols.contains(&ox)) {
                f(t, oy * d.ow + ox);
            }
        }
    }
}

/// im2col and the GPU's convolution multiply the padding's zeros like any input, and `0 · ∞`
/// and `0 · NaN` are NaN. So that this path agrees with them, where `values` are not all
/// finite, calls `poison(t, co, p)` for every tap `t`, filter `co` and output pixel `p` for
/// which the tap reads padding and `finite(t, co, p)` is false.
fn where_non_finite_meets_padding<T: Element>(
    d: &Conv2dDims,
    values: &[T],
    finite: impl Fn(usize, usize, usize) -> bool,
    mut poison: impl FnMut(usize, usize, usize),
) {
    if values.iter().all(|v| v.is_finite()) {
        return;
    }
    for_each_padding_read(d, |t, p| {
        for co in (0..d.c_out).filter(|&co| !finite(t, co, p)) {
            poison(t, co, p);
        }
    });
}

/// Forward's outputs `y [n, c_out, oh, ow]` for which a tap with a non-finite weight reads
/// padding are NaN.
fn nan_where_weights_meet_padding<T: Element>(y: &mut [T], w: &[T], d: &Conv2dDims) {
    let (taps, spatial) = (d.kh * d.kw, d.oh * d.ow);
    let weights_finite = |t: usize, co: usize, _: usize| {
        (0..d.c_in).all(|ci| w[(co * d.c_in + ci) * taps + t].is_finite())
    };
    where_non_finite_meets_padding(d, w, weights_finite, |_, co, p| {
        (0..d.n).for_each(|b| y[(b * d.c_out + co) * spatial + p] = T::nan());
    });
}

/// Backward-weight's gradients `gw [c_out, c_in, kh, kw]` of a tap that reads padding for an
/// output whose gradient `gy` is not finite are NaN.
fn nan_where_gradients_meet_padding<T: Element>(gw: &mut [T], gy: &[T], d: &Conv2dDims) {
    let (taps, spatial) = (d.kh * d.kw, d.oh * d.ow);
    let gradients_finite = |_: usize, co: usize, p: usize| {
        (0..d.n).all(|b| gy[(b * d.c_out + co) * spatial + p].is_finite())
    };
    where_non_finite_meets_padding(d, gy, gradients_finite, |t, co, _| {
        (0..d.c_in).for_each(|ci| gw[(co * d.c_in + ci) * taps + t] = T::nan());
    });
}

/// Backward-data: `gy [n, c_out, oh, ow]`, `w` to `gx [n, c_in, h, w]`.
pub(super) fn backward_data<T: Element>(gy: &[T], w: &[T], d: Conv2dDims) -> Alloc<Vec<T>> {
    spread(gy, w, &d, Side::output(&d), Side::input(&d))
}

/// Backward-weight: `x`, `gy` to `gw [c_out, c_in, kh, kw]`, summed over the batch in fixed
/// chunks of images added in order (deterministic). Each tap's sum is built as `[c_in, c_out]`
/// when [`weight_sum_transposed`] says so, as im2col's is.
pub(super) fn backward_weight<T: Element>(x: &[T], gy: &[T], d: Conv2dDims) -> Alloc<Vec<T>> {
    let (input, output) = (Side::input(&d), Side::output(&d));
    let g = group(&d, TAP_COLUMNS);
    let (size, per_tap) = (d.c_out * d.c_in * d.kh * d.kw, d.c_out * d.c_in);
    let transposed = weight_sum_transposed(d.c_in, d.c_out);
    if x.is_empty() || gy.is_empty() {
        return pool::zeros(size);
    }
    let per_task = IMAGES_PER_TASK.div_ceil(g) * g;
    let partials: Vec<Vec<T>> = x
        .par_chunks(per_task * input.image())
        .zip(gy.par_chunks(per_task * output.image()))
        .map(|(xs, gys)| {
            let mut sums = pool::zeros(size)?;
            let (mut xt, mut gyt) = scratch(&d)?;
            let groups = xs.chunks(g * input.image());
            for (xg, gyg) in groups.zip(gys.chunks(g * output.image())) {
                for tap in taps(&d) {
                    let width = gather(xg, &tap, input, &mut xt);
                    gather(gyg, &tap, output, &mut gyt);
                    let (xm, gym) = (
                        MatRef::new(&xt, width, false),
                        MatRef::new(&gyt, width, false),
                    );
                    let dst = &mut sums[tap.index * per_tap..][..per_tap];
                    add_weight_product(dst, xm, gym, (d.c_in, width, d.c_out))?;
                }
            }
            Ok(sums)
        })
        .collect::<Alloc<_>>()?;
    let total = sum_in_order(partials, size)?;
    let mut gw = pool::for_overwrite(size)?;
    for_each_weight(&d, transposed, |i, j| gw[i] = total[j]);
    pool::recycle(total);
    nan_where_gradients_meet_padding(&mut gw, gy, &d);
    Ok(gw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::conv::{
        self,
        tests::{match_the_definition, Case},
    };
    use crate::{Conv2dOptions, Padding, Shape};

    /// Every pass matches the definition, over batches that end in a partial group, strides,
    /// asymmetric padding, taps that reach nothing, and more channels in than out and the
    /// reverse.
    #[test]
    fn tap_by_tap_matches_the_direct_convolution() {
        let cases: [Case; 5] = [
            (37, 3, 2, (4, 4), (3, 3), (1, 1), Padding::Same),
            (5, 2, 4, (8, 8), (3, 3), (1, 1), Padding::Same),
            (6, 3, 2, (5, 6), (3, 3), (2, 2), Padding::Same),
            (4, 2, 3, (1, 1), (3, 3), (1, 1), Padding::Same),
            (
                6,
                2,
                1,
                (3, 4),
                (2, 3),
                (1, 2),
                Padding::Explicit {
                    top: 2,
                    bottom: 0,
                    left: 3,
                    right: 1,
                },
            ),
        ];
        match_the_definition(&cases, |x, w, gy, d| {
            assert!(pays(&d), "{d:?} should take this path");
            [
                forward(x, w, d).unwrap(),
                backward_data(gy, w, d).unwrap(),
                backward_weight(x, gy, d).unwrap(),
            ]
        });
    }

    /// A weight of infinity at a corner tap, and a NaN output gradient at a corner pixel, meet
    /// the padding's zeros: the same outputs, input gradients and weight gradients as im2col's
    /// are NaN, and the others are finite.
    #[test]
    fn non_finite_values_meet_the_padding_as_in_im2col() {
        let (xs, ws) = (Shape::new(&[2, 2, 4, 4]), Shape::new(&[3, 2, 3, 3]));
        let options = Conv2dOptions {
            stride: (1, 1),
            padding: Padding::Same,
        };
        let d = options.dims(&xs, &ws).unwrap();
        assert!(pays(&d));
        let values = |len: usize| (0..len).map(|i| (i % 7) as f64 - 3.0).collect::<Vec<_>>();
        let (x, mut w, mut gy) = (values(xs.numel()), values(ws.numel()), values(2 * 3 * 16));
        // Filter (1, 0), tap (0, 0); image 1, channel 2, output (0, 3).
        w[9] = f64::INFINITY;
        gy[(3 + 2) * 16 + 3] = f64::NAN;
        let got = [
            forward(&x, &w, d).unwrap(),
            backward_data(&gy, &w, d).unwrap(),
            backward_weight(&x, &gy, d).unwrap(),
        ];
        let want = [
            conv::forward(&x, &w, d).unwrap(),
            conv::backward_data(&gy, &w, d).unwrap(),
            conv::backward_weight(&x, &gy, d).unwrap(),
        ];
        for (pass, (got, want)) in got.iter().zip(&want).enumerate() {
            let nan = |v: &[f64]| v.iter().map(|x| x.is_nan()).collect::<Vec<_>>();
            assert_eq!(nan(got), nan(want), "pass {pass}");
            assert!(want.iter().any(|v| !v.is_nan()), "pass {pass}");
        }
        assert!(got[0].iter().any(|v| v.is_nan()) && got[2].iter().any(|v| v.is_nan()));
    }

    /// A 16x16 map with "same" padding (92% reached) stays with im2col; 8x8 (84%) does not, nor
    /// does a filter larger than the image.
    #[test]
    fn the_path_runs_where_the_padding_is_a_tenth_or_more() {
        let dims = |hw: usize, k: usize| {
            let (xs, ws) = (Shape::new(&[2, 3, hw, hw]), Shape::new(&[4, 3, k, k]));
            let options = Conv2dOptions {
                stride: (1, 1),
                padding: Padding::Same,
            };
            options.dims(&xs, &ws).unwrap()
        };
        assert!(!pays(&dims(16, 3)));
        assert!(pays(&dims(8, 3)));
        assert!(pays(&dims(4, 3)));
        assert!(!pays(&dims(4, 1)));
        assert!(pays(&dims(2, 5)));
    }
}
