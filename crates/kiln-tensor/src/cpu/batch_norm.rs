//! Batch normalization over `[n, c, spatial]`: per-channel statistics, normalization, and the
//! fused analytic backward.
//!
//! With `M = n * spatial`, `x̂ = (x - μ) / sqrt(σ² + ε)` and `y = γ x̂ + β`:
//! `∂L/∂β = Σ gy`, `∂L/∂γ = Σ gy x̂`, and when `μ`, `σ²` are the batch's own statistics
//! `∂L/∂x = γ / (M sqrt(σ² + ε)) · (M gy - Σ gy - x̂ Σ gy x̂)`; with fixed statistics (eval)
//! `∂L/∂x = γ gy / sqrt(σ² + ε)`.
//!
//! Memory is sample-major: sample `b` holds `c` runs of `spatial` values (`spatial` is 1 for
//! `[n, c]` inputs). Every pass walks it in that order. Reductions sum fixed chunks of samples
//! into per-channel partial sums in parallel and add the chunks in order, so the rounding does
//! not depend on the thread count; elementwise passes take one sample per task.

use super::Element;
use crate::kernels::BnDims;
use rayon::prelude::*;

/// Samples per task of the per-channel sums. Fixed, so that the partial sums and their order
/// (and hence the rounding) do not depend on the thread count.
const SAMPLES_PER_TASK: usize = 8;
/// Interleaved partial sums within a run, so that the additions pipeline and vectorize.
const LANES: usize = 8;

/// `Σ f(j)` for `j` in `0..len`, for `K` quantities at once.
#[inline]
fn run_sums<T: Element, const K: usize>(len: usize, f: impl Fn(usize) -> [T; K]) -> [T; K] {
    let mut lanes = [[T::zero(); K]; LANES];
    let mut add = |lane: usize, j: usize| {
        for (acc, v) in lanes[lane].iter_mut().zip(f(j)) {
            *acc = *acc + v;
        }
    };
    let full = len / LANES * LANES;
    for base in (0..full).step_by(LANES) {
        for lane in 0..LANES {
            add(lane, base + lane);
        }
    }
    for j in full..len {
        add(0, j);
    }
    lanes.iter().fold([T::zero(); K], |total, lane| {
        std::array::from_fn(|k| total[k] + lane[k])
    })
}

/// Per-channel sums over the batch: entry `ch` adds up `channel(ch)([inputs[0][i], ...])` over
/// every index `i` of channel `ch` (`channel` reads the channel's parameters and returns the
/// term).
fn channel_sums<T: Element, const I: usize, const K: usize, F: Fn([T; I]) -> [T; K]>(
    d: BnDims,
    inputs: [&[T]; I],
    channel: impl Fn(usize) -> F + Sync,
) -> Vec<[T; K]> {
    let add = |total: &mut [T; K], part: [T; K]| {
        for (t, p) in total.iter_mut().zip(part) {
            *t = *t + p;
        }
    };
    let sample_len = d.c * d.spatial;
    let partials: Vec<Vec<[T; K]>> = (0..d.n.div_ceil(SAMPLES_PER_TASK))
        .into_par_iter()
        .map(|task| {
            let mut acc = vec![[T::zero(); K]; d.c];
            for b in task * SAMPLES_PER_TASK..((task + 1) * SAMPLES_PER_TASK).min(d.n) {
                let sample = inputs.map(|x| &x[b * sample_len..(b + 1) * sample_len]);
                for (ch, total) in acc.iter_mut().enumerate() {
                    let term = channel(ch);
                    let sum = if d.spatial == 1 {
                        // `[n, c]` input: one value, no run to sum.
                        term(sample.map(|x| x[ch]))
                    } else {
                        let run = sample.map(|x| &x[ch * d.spatial..(ch + 1) * d.spatial]);
                        run_sums(d.spatial, |j| term(run.map(|x| x[j])))
                    };
                    add(total, sum);
                }
            }
            acc
        })
        .collect();
    let mut total = vec![[T::zero(); K]; d.c];
    for part in partials {
        total.iter_mut().zip(part).for_each(|(t, p)| add(t, p));
    }
    total
}

// ANCHOR: stats
/// Per-channel mean and biased variance (two passes, for accuracy).
pub(super) fn stats<T: Element>(x: &[T], d: BnDims) -> (Vec<T>, Vec<T>) {
    let count = T::from_usize(d.n * d.spatial).expect("count fits");
    let mean: Vec<T> = channel_sums(d, [x], |_| |[x]| [x])
        .iter()
        .map(|[sum]| *sum / count)
        .collect();
    let var = channel_sums(d, [x], |ch| {
        let mean = mean[ch];
        move |[x]| [(x - mean) * (x - mean)]
    })
    .iter()
    .map(|[sum]| *sum / count)
    .collect();
    (mean, var)
}
// ANCHOR_END: stats

/// `out[i] = channel(ch)([inputs[0][i], ...])` for every index `i` of every channel `ch`
/// (`channel` reads the channel's parameters and returns the elementwise map), one sample per
/// parallel task.
fn map_per_channel<T: Element, const K: usize, F: Fn([T; K]) -> T>(
    out: &mut [T],
    d: BnDims,
    inputs: [&[T]; K],
    channel: impl Fn(usize) -> F + Sync,
) {
    let sample_len = d.c * d.spatial;
    if sample_len == 0 {
        return;
    }
    out.par_chunks_mut(sample_len)
        .enumerate()
        .for_each(|(b, sample)| {
            let ins = inputs.map(|x| &x[b * sample_len..(b + 1) * sample_len]);
            if d.spatial == 1 {
                // `[n, c]` input: one value per channel.
                for (ch, out) in sample.iter_mut().enumerate() {
                    *out = channel(ch)(ins.map(|x| x[ch]));
                }
                return;
            }
            for (ch, run) in sample.chunks_exact_mut(d.spatial).enumerate() {
                let f = channel(ch);
                let ins = ins.map(|x| &x[ch * d.spatial..(ch + 1) * d.spatial]);
                for (j, out) in run.iter_mut().enumerate() {
                    *out = f(ins.map(|x| x[j]));
                }
            }
        });
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
    let scale: Vec<T> = (0..d.c)
        .map(|ch| gamma[ch] / (var[ch] + T::of(eps)).sqrt())
        .collect();
    let mut y = super::pool::for_overwrite(x.len());
    map_per_channel(&mut y, d, [x], |ch| {
        let (mean, scale, beta) = (mean[ch], scale[ch], beta[ch]);
        move |[x]| (x - mean) * scale + beta
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
    let sums = channel_sums(d, [gy, x], |ch| {
        let (mean, invstd) = (mean[ch], invstd[ch]);
        move |[g, x]| [g * (x - mean) * invstd, g]
    });
    let (dgamma, dbeta): (Vec<T>, Vec<T>) = sums.iter().map(|&[dg, db]| (dg, db)).unzip();
    let count = T::from_usize(d.n * d.spatial).expect("count fits");
    let mut gx = super::pool::for_overwrite(x.len());
    let scale: Vec<T> = (0..d.c).map(|ch| gamma[ch] * invstd[ch]).collect();
    if batch_stats {
        map_per_channel(&mut gx, d, [gy, x], |ch| {
            let (mean, invstd, scale) = (mean[ch], invstd[ch], scale[ch]);
            let (mean_g, mean_gxhat) = (dbeta[ch] / count, dgamma[ch] / count);
            move |[g, x]| scale * (g - mean_g - (x - mean) * invstd * mean_gxhat)
        });
    } else {
        map_per_channel(&mut gx, d, [gy], |ch| {
            let scale = scale[ch];
            move |[g]| scale * g
        });
    }
    (gx, dgamma, dbeta)
}
// ANCHOR_END: backward
