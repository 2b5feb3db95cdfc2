//! Chapter 8: the softmax cross-entropy with its gradient, and the SGD and Adam updates.
//!
//! Tests: `cargo test --release --manifest-path book/workbook/Cargo.toml ch08`. They compare
//! with kiln's `softmax_cross_entropy`, `sgd_update_` and `adam_update_` on the CPU over several
//! steps and every option.

use kiln::tensor::{AdamStep, SgdStep};

/// Mean softmax cross-entropy of `logits` `[rows, cols]` (row-major, `rows = labels.len()`)
/// against class indices `labels` (each `< cols`), and its gradient with respect to the
/// logits: `(L, ∂L/∂z)` with `L = −(1/rows) Σ_i log softmax(z_i)[labels_i]` and
/// `∂L/∂z = (softmax(z) − onehot(labels)) / rows`, `[rows, cols]`. Stable for logits in the
/// thousands: each row's maximum is subtracted before exponentiating.
///
/// Hint: per row, `log softmax(z)_c = z_c − max − ln Σ_k e^(z_k − max)`; the gradient needs
/// the same exponentials, so compute both in one pass over the row.
pub fn softmax_cross_entropy(logits: &[f32], labels: &[u32], cols: usize) -> (f32, Vec<f32>) {
    todo!()
}

/// One SGD step in place, in PyTorch's formulation: `g ← g + λ θ` (for `λ =
/// hp.weight_decay ≠ 0`); with momentum `μ > 0`, `v ← μ v + g` and the direction `d = v`, or
/// `d = g + μ v` with Nesterov; without momentum `d = g` (and `velocity` is `None`); then
/// `θ ← θ − η d`. `param`, `grad` and `velocity` have one length.
///
/// Hint: one loop over the elements; `velocity.as_deref_mut()` lends the buffer to each
/// iteration.
pub fn sgd_step(param: &mut [f32], grad: &[f32], velocity: Option<&mut [f32]>, hp: SgdStep) {
    todo!()
}

/// One Adam or AdamW step in place on `param` with moments `m` and `v` (all one length;
/// moments start at zero, `hp.step` counts from 1):
/// AdamW (`hp.decoupled`) first decays the weights, `θ ← θ − η λ θ`; Adam adds `λ θ` to the
/// gradient instead (for `λ ≠ 0`). Then `m ← β₁ m + (1 − β₁) g`, `v ← β₂ v + (1 − β₂) g²` and
/// `θ ← θ − η m̂ / (√v̂ + ε)`, with `m̂ = m / (1 − β₁ᵗ)` and `v̂ = v / (1 − β₂ᵗ)`.
///
/// Hint: the bias corrections `1 − β₁ᵗ` and `1 − β₂ᵗ` are the same for every element: compute
/// them once (`powi`). Get Adam right first; AdamW is a second test, and one more line.
pub fn adam_step(param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], hp: AdamStep) {
    todo!()
}
