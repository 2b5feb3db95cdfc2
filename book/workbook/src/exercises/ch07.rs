//! Chapter 7: batch normalization in train mode, forward and backward, composed from
//! primitives, and its running statistics.
//!
//! Tests: `cargo test --release --manifest-path book/workbook/Cargo.toml ch07`. They compare
//! with kiln's fused `batch_norm_train` and its backward pass in `f64`, with finite
//! differences of your forward pass, and with kiln's `BatchNorm1d` layer.

use crate::geometry::BnDims;
use kiln::nn::Momentum;
use kiln::tensor::{Result, Tensor};

/// Train-mode batch norm of `x`, viewed as `[n, c, spatial]` (`d`): per channel over its
/// `M = n · spatial` values, `μ` the mean, `σ²` the biased variance (divided by `M`),
/// `y = γ (x − μ) / √(σ² + ε) + β`. Returns `(y, μ, σ²)`; `gamma`, `beta`, `μ`, `σ²` are `[c]`.
///
/// Hint: channel `ch`'s values are, for each sample `b`, the run
/// `x[(b·c + ch)·spatial ..][..spatial]`. Take the variance in a second pass over
/// `(x − μ)²`, not as `mean(x²) − μ²` (chapter 7 says why).
pub fn batch_norm_forward(
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    eps: f64,
    d: BnDims,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    todo!()
}

/// Train-mode backward of [`batch_norm_forward`]: from `gy = ∂L/∂y` and the forward's `x`,
/// `gamma`, `eps`, returns `(∂L/∂x, ∂L/∂γ, ∂L/∂β)`, with `μ` and `σ²` functions of `x`:
/// `∂L/∂β = Σ gy`, `∂L/∂γ = Σ gy x̂`, `∂L/∂x = γ s / M · (M gy − ∂L/∂β − x̂ ∂L/∂γ)`, where
/// `s = 1/√(σ² + ε)`, `x̂ = (x − μ) s` and the sums run over each channel's `M` values.
///
/// Hint: recompute `μ` and `σ²` (or reuse your forward pass), then per channel the two sums,
/// then one pass for `∂L/∂x`. Derive the formula yourself first (chapter 7, "Backward,
/// derived"); one test checks that `∂L/∂x` sums to zero over each channel: why must it?
pub fn batch_norm_backward(
    gy: &[f64],
    x: &[f64],
    gamma: &[f64],
    eps: f64,
    d: BnDims,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    todo!()
}

/// Train-mode batch norm of `x` (`[n, c]` or `[n, c, h, w]`) composed from kiln's tensor
/// operations (`mean`, `sub`, `mul`, `sqrt`, `div`, `add`, `reshape`, ...), so that autograd
/// derives its backward pass: the same function as `x.batch_norm_train(Some(gamma), Some(beta),
/// eps)`, `gamma` and `beta` being `[c]`.
///
/// Hint: reduce over every axis but 1 with `keepdim`, so that the statistics broadcast back
/// against `x`; reshape `gamma` and `beta` to `[c, 1, 1]` (for 4-D inputs) for the same reason.
/// The test compares your output and the gradients autograd finds through it with the fused
/// operation's: the chain of primitives and the derivation of chapter 7 must agree.
pub fn batch_norm_composed(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f32) -> Result<Tensor> {
    todo!()
}

/// One update of the running statistics (`[c]` each) from a batch's `mean` and biased `var`
/// over `count` values per channel: with `w = momentum.batch_weight()`,
/// `running_mean ← (1 − w) running_mean + w mean` and
/// `running_var ← (1 − w) running_var + w var · count / (count − 1)` (the unbiased variance).
///
/// Hint: `Momentum::Torch(m)` and `Momentum::TensorFlow(1 - m)` are the same update (`w` is
/// `m`); the test runs `Torch(0.1)` and `TensorFlow(0.75)` against kiln's `BatchNorm1d` in
/// train mode.
pub fn update_running(
    running_mean: &mut [f32],
    running_var: &mut [f32],
    mean: &[f32],
    var: &[f32],
    count: usize,
    momentum: Momentum,
) {
    todo!()
}
