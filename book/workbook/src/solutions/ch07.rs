//! Chapter 7, solutions: batch normalization in train mode, forward and backward, composed from
//! primitives, and its running statistics.

use crate::geometry::BnDims;
use kiln::nn::Momentum;
use kiln::tensor::{Result, Tensor};

/// The flat indices of channel `ch`'s `n * spatial` values in a `[n, c, spatial]` input.
fn channel(d: BnDims, ch: usize) -> impl Iterator<Item = usize> {
    (0..d.n).flat_map(move |b| {
        let start = (b * d.c + ch) * d.spatial;
        start..start + d.spatial
    })
}

/// Per-channel mean and biased variance of `x` `[n, c, spatial]`, each `[c]`.
fn stats(x: &[f64], d: BnDims) -> (Vec<f64>, Vec<f64>) {
    let count = (d.n * d.spatial) as f64;
    (0..d.c)
        .map(|ch| {
            let mean = channel(d, ch).map(|i| x[i]).sum::<f64>() / count;
            let var = channel(d, ch).map(|i| (x[i] - mean).powi(2)).sum::<f64>() / count;
            (mean, var)
        })
        .unzip()
}

/// Train-mode batch norm of `x`, viewed as `[n, c, spatial]` (`d`): per channel over its
/// `M = n · spatial` values, `μ` the mean, `σ²` the biased variance (divided by `M`),
/// `y = γ (x − μ) / √(σ² + ε) + β`. Returns `(y, μ, σ²)`; `gamma`, `beta`, `μ`, `σ²` are `[c]`.
pub fn batch_norm_forward(
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    eps: f64,
    d: BnDims,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mean, var) = stats(x, d);
    let mut y = vec![0.0; x.len()];
    for ch in 0..d.c {
        let invstd = 1.0 / (var[ch] + eps).sqrt();
        for i in channel(d, ch) {
            y[i] = gamma[ch] * (x[i] - mean[ch]) * invstd + beta[ch];
        }
    }
    (y, mean, var)
}

/// Train-mode backward of [`batch_norm_forward`]: from `gy = ∂L/∂y` and the forward's `x`,
/// `gamma`, `eps`, returns `(∂L/∂x, ∂L/∂γ, ∂L/∂β)`, with `μ` and `σ²` functions of `x`:
/// `∂L/∂β = Σ gy`, `∂L/∂γ = Σ gy x̂`, `∂L/∂x = γ s / M · (M gy − ∂L/∂β − x̂ ∂L/∂γ)`, where
/// `s = 1/√(σ² + ε)`, `x̂ = (x − μ) s` and the sums run over each channel's `M` values.
pub fn batch_norm_backward(
    gy: &[f64],
    x: &[f64],
    gamma: &[f64],
    eps: f64,
    d: BnDims,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mean, var) = stats(x, d);
    let count = (d.n * d.spatial) as f64;
    let mut gx = vec![0.0; x.len()];
    let (mut dgamma, mut dbeta) = (vec![0.0; d.c], vec![0.0; d.c]);
    for ch in 0..d.c {
        let s = 1.0 / (var[ch] + eps).sqrt();
        let x_hat = |i: usize| (x[i] - mean[ch]) * s;
        dbeta[ch] = channel(d, ch).map(|i| gy[i]).sum();
        dgamma[ch] = channel(d, ch).map(|i| gy[i] * x_hat(i)).sum();
        for i in channel(d, ch) {
            gx[i] = gamma[ch] * s / count * (count * gy[i] - dbeta[ch] - x_hat(i) * dgamma[ch]);
        }
    }
    (gx, dgamma, dbeta)
}

/// Train-mode batch norm of `x` (`[n, c]` or `[n, c, h, w]`) composed from kiln's tensor
/// operations (`mean`, `sub`, `mul`, `sqrt`, `div`, `add`, `reshape`, ...), so that autograd
/// derives its backward pass: the same function as `x.batch_norm_train(Some(gamma), Some(beta),
/// eps)`, `gamma` and `beta` being `[c]`.
pub fn batch_norm_composed(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f32) -> Result<Tensor> {
    // Every axis but the channel axis 1; per-channel tensors broadcast as [c, 1, ...].
    let axes: Vec<usize> = (0..x.rank()).filter(|&a| a != 1).collect();
    let mut channel_dims = vec![x.dims()[1]];
    channel_dims.resize(x.rank() - 1, 1);
    let mean = x.mean(&axes, true)?;
    let centred = x.sub(&mean)?;
    let var = centred.mul(&centred)?.mean(&axes, true)?;
    let x_hat = centred.div(&var.add_scalar(eps)?.sqrt()?)?;
    x_hat
        .mul(&gamma.reshape(&channel_dims)?)?
        .add(&beta.reshape(&channel_dims)?)
}

/// One update of the running statistics (`[c]` each) from a batch's `mean` and biased `var`
/// over `count` values per channel: with `w = momentum.batch_weight()`,
/// `running_mean ← (1 − w) running_mean + w mean` and
/// `running_var ← (1 − w) running_var + w var · count / (count − 1)` (the unbiased variance).
pub fn update_running(
    running_mean: &mut [f32],
    running_var: &mut [f32],
    mean: &[f32],
    var: &[f32],
    count: usize,
    momentum: Momentum,
) {
    let w = momentum.batch_weight();
    let unbiased = count as f32 / (count as f32 - 1.0);
    for (r, &m) in running_mean.iter_mut().zip(mean) {
        *r = (1.0 - w) * *r + w * m;
    }
    for (r, &v) in running_var.iter_mut().zip(var) {
        *r = (1.0 - w) * *r + w * v * unbiased;
    }
}
