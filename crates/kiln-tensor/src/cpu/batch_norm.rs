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
//! not depend on the thread count; elementwise passes take one sample per task. Per-channel
//! parameters and inputs are sliced to their exact lengths before the inner loops, which lets
//! the compiler drop the bounds checks there and vectorize.

use super::{pool, Alloc, Element};
use crate::kernels::BnDims;
use rayon::prelude::*;
use std::array::from_fn;

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
        from_fn(|k| total[k] + lane[k])
    })
}

/// Per-channel sums over the batch: `sums[k][ch]` adds up `term(params, values)[k]` over every
/// index `i` of channel `ch`, where `params` are `channel_params[p][ch]` and `values` are
/// `inputs[j][i]`.
fn channel_sums<T: Element, const P: usize, const I: usize, const K: usize>(
    d: BnDims,
    channel_params: [&[T]; P],
    inputs: [&[T]; I],
    term: impl Fn([T; P], [T; I]) -> [T; K] + Sync,
) -> [Vec<T>; K] {
    let c = d.c;
    let params = channel_params.map(|p| &p[..c]);
    let sample_len = c * d.spatial;
    let partials: Vec<[Vec<T>; K]> = (0..d.n.div_ceil(SAMPLES_PER_TASK))
        .into_par_iter()
        .map(|task| {
            let mut acc: [Vec<T>; K] = from_fn(|_| vec![T::zero(); c]);
            for b in task * SAMPLES_PER_TASK..((task + 1) * SAMPLES_PER_TASK).min(d.n) {
                let sample = inputs.map(|x| &x[b * sample_len..][..sample_len]);
                if d.spatial == 1 {
                    // `[n, c]` input: one value per channel, in a loop that vectorizes.
                    let acc = acc.each_mut().map(|a| &mut a[..c]);
                    let sample = sample.map(|x| &x[..c]);
                    for ch in 0..c {
                        let sum = term(from_fn(|k| params[k][ch]), from_fn(|k| sample[k][ch]));
                        for k in 0..K {
                            acc[k][ch] = acc[k][ch] + sum[k];
                        }
                    }
                    continue;
                }
                for ch in 0..c {
                    let p = from_fn(|k| params[k][ch]);
                    let run = sample.map(|x| &x[ch * d.spatial..][..d.spatial]);
                    let sum = run_sums(d.spatial, |j| term(p, from_fn(|k| run[k][j])));
                    for (acc, s) in acc.iter_mut().zip(sum) {
                        acc[ch] = acc[ch] + s;
                    }
                }
            }
            acc
        })
        .collect();
    let mut total: [Vec<T>; K] = from_fn(|_| vec![T::zero(); c]);
    for part in partials {
        for (total, part) in total.iter_mut().zip(part) {
            total.iter_mut().zip(part).for_each(|(t, p)| *t = *t + p);
        }
    }
    total
}

// ANCHOR: stats
/// Per-channel mean and biased variance (two passes, for accuracy).
pub(super) fn stats<T: Element>(x: &[T], d: BnDims) -> Alloc<(Vec<T>, Vec<T>)> {
    let count = T::from_usize(d.n * d.spatial).expect("count fits");
    let [sum] = channel_sums(d, [], [x], |[], [x]| [x]);
    let mean: Vec<T> = sum.iter().map(|&s| s / count).collect();
    let [squares] = channel_sums(d, [&mean], [x], |[mean], [x]| [(x - mean) * (x - mean)]);
    let var = squares.iter().map(|&s| s / count).collect();
    Ok((mean, var))
}
// ANCHOR_END: stats

/// `out[i] = f(params, values)` for every index `i` of every channel `ch`, where `params` are
/// `channel_params[p][ch]` and `values` are `inputs[j][i]`; one sample per parallel task.
fn map_per_channel<T: Element, const P: usize, const I: usize>(
    out: &mut [T],
    d: BnDims,
    channel_params: [&[T]; P],
    inputs: [&[T]; I],
    f: impl Fn([T; P], [T; I]) -> T + Sync,
) {
    let c = d.c;
    let params = channel_params.map(|p| &p[..c]);
    let sample_len = c * d.spatial;
    if sample_len == 0 {
        return;
    }
    out.par_chunks_mut(sample_len)
        .enumerate()
        .for_each(|(b, sample)| {
            let ins = inputs.map(|x| &x[b * sample_len..][..sample_len]);
            if d.spatial == 1 {
                // `[n, c]` input: one value per channel, in a loop that vectorizes.
                let (sample, ins) = (&mut sample[..c], ins.map(|x| &x[..c]));
                for ch in 0..c {
                    sample[ch] = f(from_fn(|k| params[k][ch]), from_fn(|k| ins[k][ch]));
                }
                return;
            }
            for (ch, run) in sample.chunks_exact_mut(d.spatial).enumerate() {
                let p = from_fn(|k| params[k][ch]);
                let ins = ins.map(|x| &x[ch * d.spatial..][..d.spatial]);
                for (j, out) in run.iter_mut().enumerate() {
                    *out = f(p, from_fn(|k| ins[k][j]));
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
) -> Alloc<Vec<T>> {
    let scale: Vec<T> = (0..d.c)
        .map(|ch| gamma[ch] / (var[ch] + T::of(eps)).sqrt())
        .collect();
    let mut y = pool::for_overwrite(x.len())?;
    map_per_channel(
        &mut y,
        d,
        [mean, &scale, beta],
        [x],
        |[mean, scale, beta], [x]| (x - mean) * scale + beta,
    );
    Ok(y)
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
) -> Alloc<(Vec<T>, Vec<T>, Vec<T>)> {
    let invstd: Vec<T> = var
        .iter()
        .map(|&v| T::one() / (v + T::of(eps)).sqrt())
        .collect();
    let [dgamma, dbeta] = channel_sums(d, [mean, &invstd], [gy, x], |[mean, invstd], [g, x]| {
        [g * (x - mean) * invstd, g]
    });
    let count = T::from_usize(d.n * d.spatial).expect("count fits");
    let scale: Vec<T> = (0..d.c).map(|ch| gamma[ch] * invstd[ch]).collect();
    let mut gx = pool::for_overwrite(x.len())?;
    if batch_stats {
        let mean_g: Vec<T> = dbeta.iter().map(|&db| db / count).collect();
        let mean_gxhat: Vec<T> = dgamma.iter().map(|&dg| dg / count).collect();
        let params = [mean, &invstd, &scale, &mean_g, &mean_gxhat];
        map_per_channel(
            &mut gx,
            d,
            params,
            [gy, x],
            |[mean, invstd, scale, mean_g, mean_gxhat], [g, x]| {
                scale * (g - mean_g - (x - mean) * invstd * mean_gxhat)
            },
        );
    } else {
        map_per_channel(&mut gx, d, [&scale], [gy], |[scale], [g]| scale * g);
    }
    Ok((gx, dgamma, dbeta))
}
// ANCHOR_END: backward
