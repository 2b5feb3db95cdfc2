//! 2-D max and average pooling over `[planes, h, w]` (see [`Pool2dDims`]), forward and backward.
//!
//! The backward passes add, for each input element, the output gradients of the windows that
//! cover it in row-major output order, one plane per parallel task: average pooling gathers
//! them, max pooling scatters each to its window's maximum in that order. The GPU kernels
//! (`shaders/pooling.wgsl`) add in the same order, so both devices round alike.

use super::{pool, Alloc, Element};
use crate::kernels::Pool2dDims;
use rayon::prelude::*;
use std::ops::Range;

/// The in-bounds input positions of the window of output `o` along one axis.
fn window(o: usize, stride: usize, pad: usize, k: usize, len: usize) -> Range<usize> {
    let start = (o * stride).saturating_sub(pad);
    let end = (o * stride + k).saturating_sub(pad).min(len);
    start..end.max(start)
}

/// The outputs along one axis whose windows cover input position `i`.
fn covering(i: usize, stride: usize, pad: usize, k: usize, out_len: usize) -> Range<usize> {
    let p = i + pad;
    let first = (p + 1).saturating_sub(k).div_ceil(stride);
    let last = (p / stride + 1).min(out_len);
    first..last.max(first)
}

/// `range(i, stride, pad, k, limit)` ([`window`] or [`covering`]) of every row `i <
/// count.0` and every column `i < count.1`, computed once for a whole batch of planes.
fn per_axis(
    d: &Pool2dDims,
    count: (usize, usize),
    limit: (usize, usize),
    range: fn(usize, usize, usize, usize, usize) -> Range<usize>,
) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
    let rows = (0..count.0).map(|i| range(i, d.stride.0, d.pad.0, d.kh, limit.0));
    let cols = (0..count.1).map(|i| range(i, d.stride.1, d.pad.1, d.kw, limit.1));
    (rows.collect(), cols.collect())
}

/// `outs[j][o] = f(plane, window rows, window columns)[j]` for every output `o` of each of
/// the `N` outputs (`[planes, oh, ow]`), where `plane` is the input plane of `o`, in parallel
/// over planes.
fn per_window<T: Element, const N: usize>(
    x: &[T],
    d: Pool2dDims,
    f: impl Fn(&[T], Range<usize>, Range<usize>) -> [T; N] + Sync,
) -> Alloc<[Vec<T>; N]> {
    let (in_plane, out_plane) = (d.h * d.w, d.oh * d.ow);
    let mut outs = Vec::with_capacity(N);
    for _ in 0..N {
        outs.push(pool::for_overwrite(d.planes * out_plane)?);
    }
    if d.planes * out_plane > 0 {
        let (rows, cols) = per_axis(&d, (d.oh, d.ow), (d.h, d.w), window);
        // The planes of every output, by plane.
        let mut chunks: Vec<_> = outs.iter_mut().map(|o| o.chunks_mut(out_plane)).collect();
        let planes: Vec<[&mut [T]; N]> = (0..d.planes)
            .map(|_| std::array::from_fn(|j| chunks[j].next().expect("a plane per output")))
            .collect();
        planes
            .into_par_iter()
            .zip(x.par_chunks(in_plane.max(1)))
            .for_each(|(mut planes, x)| {
                for (oy, rows) in rows.iter().enumerate() {
                    for (ox, cols) in cols.iter().enumerate() {
                        let values = f(x, rows.clone(), cols.clone());
                        for (plane, v) in planes.iter_mut().zip(values) {
                            plane[oy * d.ow + ox] = v;
                        }
                    }
                }
            });
    }
    Ok(outs
        .try_into()
        .unwrap_or_else(|_| unreachable!("N outputs")))
}

/// `(y, argmax)` of max pooling, as [`crate::Kernels::max_pool2d`] defines them.
pub(super) fn max_forward<T: Element>(x: &[T], d: Pool2dDims) -> Alloc<(Vec<T>, Vec<T>)> {
    let [y, argmax] = per_window(x, d, |x, rows, cols| {
        // Every window holds an input value (the op bounds the padding by the window).
        let mut best = rows.start * d.w + cols.start;
        let mut max = x[best];
        for iy in rows {
            let row = &x[iy * d.w..][cols.clone()];
            for (ix, &v) in (cols.start..).zip(row) {
                // Strictly larger, or the first NaN: ties keep the earlier index.
                if !max.is_nan() && (v > max || v.is_nan()) {
                    (best, max) = (iy * d.w + ix, v);
                }
            }
        }
        [max, T::from_usize(best).expect("a plane index fits")]
    })?;
    Ok((y, argmax))
}

// ANCHOR: backward
/// `gx[i] = Σ f(o, i) gy[o]` over the outputs `o` whose windows cover input `i`, per plane.
fn gather<T: Element>(
    gy: &[T],
    d: Pool2dDims,
    f: impl Fn(&[T], usize, usize) -> T + Sync,
) -> Alloc<Vec<T>> {
    let (in_plane, out_plane) = (d.h * d.w, d.oh * d.ow);
    let mut gx = pool::for_overwrite(d.planes * in_plane)?;
    let (rows, cols) = per_axis(&d, (d.h, d.w), (d.oh, d.ow), covering);
    gx.par_chunks_mut(in_plane.max(1))
        .enumerate()
        .for_each(|(plane, gx)| {
            for (iy, gx) in gx.chunks_exact_mut(d.w.max(1)).enumerate() {
                for (ix, gx) in gx.iter_mut().enumerate() {
                    let i = iy * d.w + ix;
                    let mut sum = T::zero();
                    for oy in rows[iy].clone() {
                        let row = plane * out_plane + oy * d.ow;
                        for ox in cols[ix].clone() {
                            sum = sum + f(gy, row + ox, i);
                        }
                    }
                    *gx = sum;
                }
            }
        });
    Ok(gx)
}

/// Gradient of max pooling: each `gy[o]` goes to the input element `argmax[o]` of its plane.
/// Scattered in output order, these are the terms that [`gather`] would add for each input, in
/// its order (the others are zeros).
pub(super) fn max_backward<T: Element>(gy: &[T], argmax: &[T], d: Pool2dDims) -> Alloc<Vec<T>> {
    let (in_plane, out_plane) = (d.h * d.w, d.oh * d.ow);
    let mut gx = pool::zeros(d.planes * in_plane)?;
    gx.par_chunks_mut(in_plane.max(1))
        .zip(gy.par_chunks(out_plane.max(1)))
        .zip(argmax.par_chunks(out_plane.max(1)))
        .for_each(|((gx, gy), argmax)| {
            for (&g, at) in gy.iter().zip(argmax) {
                let i = at.to_usize().expect("an index");
                gx[i] = gx[i] + g;
            }
        });
    Ok(gx)
}

/// Average pooling: the in-bounds window sum over `kh * kw`.
pub(super) fn avg_forward<T: Element>(x: &[T], d: Pool2dDims) -> Alloc<Vec<T>> {
    let area = T::from_usize(d.kh * d.kw).expect("window size fits");
    let [y] = per_window(x, d, |x, rows, cols| {
        let mut sum = T::zero();
        for iy in rows {
            for ix in cols.clone() {
                sum = sum + x[iy * d.w + ix];
            }
        }
        [sum / area]
    })?;
    Ok(y)
}

/// Gradient of average pooling: every covering window's `gy / (kh * kw)`.
pub(super) fn avg_backward<T: Element>(gy: &[T], d: Pool2dDims) -> Alloc<Vec<T>> {
    let area = T::from_usize(d.kh * d.kw).expect("window size fits");
    gather(gy, d, |gy, o, _| gy[o] / area)
}
// ANCHOR_END: backward

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covering_inverts_window() {
        for (stride, pad, k, len) in [(1, 0, 1, 5), (2, 1, 3, 7), (3, 1, 2, 8), (1, 2, 5, 4)] {
            let out_len = (len + 2 * pad - k) / stride + 1;
            for i in 0..len {
                let want: Vec<usize> = (0..out_len)
                    .filter(|&o| window(o, stride, pad, k, len).contains(&i))
                    .collect();
                let got: Vec<usize> = covering(i, stride, pad, k, out_len).collect();
                assert_eq!(
                    got, want,
                    "i {i}, stride {stride}, pad {pad}, k {k}, len {len}"
                );
            }
        }
    }
}
