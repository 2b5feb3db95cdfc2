//! Batch normalization over `[n, c, spatial]`: per-channel statistics, normalization, and the
//! fused analytic backward.
//!
//! With `M = n * spatial`, `x̂ = (x - μ) / sqrt(σ² + ε)` and `y = γ x̂ + β`:
//! `∂L/∂β = Σ gy`, `∂L/∂γ = Σ gy x̂`, and when `μ`, `σ²` are the batch's own statistics
//! `∂L/∂x = γ / (M sqrt(σ² + ε)) · (M gy - Σ gy - x̂ Σ gy x̂)`; with fixed statistics (eval)
//! `∂L/∂x = γ gy / sqrt(σ² + ε)`.

use super::Element;
use crate::kernels::BnDims;
use rayon::prelude::*;

/// The values of channel `ch`: `n` runs of `spatial` contiguous elements.
fn channel<T: Copy>(x: &[T], d: BnDims, ch: usize) -> impl Iterator<Item = T> + '_ {
    (0..d.n).flat_map(move |b| {
        let start = (b * d.c + ch) * d.spatial;
        x[start..start + d.spatial].iter().copied()
    })
}

// ANCHOR: stats
/// Per-channel mean and biased variance (two passes, for accuracy).
pub(super) fn stats<T: Element>(x: &[T], d: BnDims) -> (Vec<T>, Vec<T>) {
    let count = T::from_usize(d.n * d.spatial).expect("count fits");
    (0..d.c)
        .into_par_iter()
        .map(|ch| {
            let mean = channel(x, d, ch).sum::<T>() / count;
            let var = channel(x, d, ch)
                .map(|v| (v - mean) * (v - mean))
                .sum::<T>()
                / count;
            (mean, var)
        })
        .unzip()
}
// ANCHOR_END: stats

/// Calls `f(channel, slice)` for each run of `spatial` elements of `out`, in parallel.
fn for_each_run<T: Send>(out: &mut [T], d: BnDims, f: impl Fn(usize, usize, &mut [T]) + Sync) {
    if d.spatial == 0 {
        return;
    }
    out.par_chunks_mut(d.spatial)
        .enumerate()
        .for_each(|(run, slice)| f(run % d.c, run * d.spatial, slice));
}

/// `y = (x - mean) / sqrt(var + eps) * gamma + beta`, per channel.
pub(super) fn normalize<T: Element>(
    x: &[T],
    mean: &[T],
    var: &[T],
    gamma: &[T],
    beta: &[T],
    eps: f32,
    d: BnDims,
) -> Vec<T> {
    let mut y = super::pool::for_overwrite(x.len());
    for_each_run(&mut y, d, |ch, start, run| {
        let scale = gamma[ch] / (var[ch] + T::of(eps)).sqrt();
        for (j, out) in run.iter_mut().enumerate() {
            *out = (x[start + j] - mean[ch]) * scale + beta[ch];
        }
    });
    y
}

// ANCHOR: backward
/// Returns `(gx, dgamma, dbeta)`; see the module docs for the formulas.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward<T: Element>(
    gy: &[T],
    x: &[T],
    mean: &[T],
    var: &[T],
    gamma: &[T],
    eps: f32,
    d: BnDims,
    batch_stats: bool,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let invstd: Vec<T> = var
        .iter()
        .map(|&v| T::one() / (v + T::of(eps)).sqrt())
        .collect();
    let (dgamma, dbeta): (Vec<T>, Vec<T>) = (0..d.c)
        .into_par_iter()
        .map(|ch| {
            channel(gy, d, ch)
                .zip(channel(x, d, ch))
                .fold((T::zero(), T::zero()), |(sg, s), (g, v)| {
                    (sg + g * (v - mean[ch]) * invstd[ch], s + g)
                })
        })
        .unzip();
    let count = T::from_usize(d.n * d.spatial).expect("count fits");
    let mut gx = super::pool::for_overwrite(x.len());
    for_each_run(&mut gx, d, |ch, start, run| {
        let scale = gamma[ch] * invstd[ch];
        for (j, out) in run.iter_mut().enumerate() {
            let g = gy[start + j];
            *out = if batch_stats {
                let xhat = (x[start + j] - mean[ch]) * invstd[ch];
                scale * (g - dbeta[ch] / count - xhat * dgamma[ch] / count)
            } else {
                scale * g
            };
        }
    });
    (gx, dgamma, dbeta)
}
// ANCHOR_END: backward
