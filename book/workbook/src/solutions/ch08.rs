//! Chapter 8, solutions: the softmax cross-entropy with its gradient, and the SGD and Adam
//! updates.

use kiln::tensor::{AdamStep, SgdStep};

/// Mean softmax cross-entropy of `logits` `[rows, cols]` (row-major, `rows = labels.len()`)
/// against class indices `labels` (each `< cols`), and its gradient with respect to the
/// logits: `(L, ∂L/∂z)` with `L = −(1/rows) Σ_i log softmax(z_i)[labels_i]` and
/// `∂L/∂z = (softmax(z) − onehot(labels)) / rows`, `[rows, cols]`. Stable for logits in the
/// thousands: each row's maximum is subtracted before exponentiating.
pub fn softmax_cross_entropy(logits: &[f32], labels: &[u32], cols: usize) -> (f32, Vec<f32>) {
    let rows = labels.len();
    assert_eq!(logits.len(), rows * cols, "logits are [rows, cols]");
    let mut grad = vec![0.0; logits.len()];
    let mut loss = 0.0;
    for ((z, g), &label) in logits
        .chunks_exact(cols)
        .zip(grad.chunks_exact_mut(cols))
        .zip(labels)
    {
        let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f32 = z.iter().map(|&v| (v - max).exp()).sum();
        let log_sum = sum.ln();
        loss -= z[label as usize] - max - log_sum;
        for (c, (g, &v)) in g.iter_mut().zip(z).enumerate() {
            let onehot = if c == label as usize { 1.0 } else { 0.0 };
            *g = ((v - max).exp() / sum - onehot) / rows as f32;
        }
    }
    (loss / rows as f32, grad)
}

/// One SGD step in place, in PyTorch's formulation: `g ← g + λ θ` (for `λ =
/// hp.weight_decay ≠ 0`); with momentum `μ > 0`, `v ← μ v + g` and the direction `d = v`, or
/// `d = g + μ v` with Nesterov; without momentum `d = g` (and `velocity` is `None`); then
/// `θ ← θ − η d`. `param`, `grad` and `velocity` have one length.
pub fn sgd_step(param: &mut [f32], grad: &[f32], mut velocity: Option<&mut [f32]>, hp: SgdStep) {
    for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
        let g = if hp.weight_decay != 0.0 {
            g + hp.weight_decay * *p
        } else {
            g
        };
        let direction = match velocity.as_deref_mut() {
            Some(v) => {
                v[i] = hp.momentum * v[i] + g;
                if hp.nesterov {
                    g + hp.momentum * v[i]
                } else {
                    v[i]
                }
            }
            None => g,
        };
        *p -= hp.lr * direction;
    }
}

/// One Adam or AdamW step in place on `param` with moments `m` and `v` (all one length;
/// moments start at zero, `hp.step` counts from 1):
/// AdamW (`hp.decoupled`) first decays the weights, `θ ← θ − η λ θ`; Adam adds `λ θ` to the
/// gradient instead (for `λ ≠ 0`). Then `m ← β₁ m + (1 − β₁) g`, `v ← β₂ v + (1 − β₂) g²` and
/// `θ ← θ − η m̂ / (√v̂ + ε)`, with `m̂ = m / (1 − β₁ᵗ)` and `v̂ = v / (1 − β₂ᵗ)`.
pub fn adam_step(param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], hp: AdamStep) {
    let t = hp.step as i32;
    let (c1, c2) = (1.0 - hp.beta1.powi(t), 1.0 - hp.beta2.powi(t));
    for i in 0..param.len() {
        let mut g = grad[i];
        if hp.decoupled {
            param[i] -= hp.lr * hp.weight_decay * param[i];
        } else if hp.weight_decay != 0.0 {
            g += hp.weight_decay * param[i];
        }
        m[i] = hp.beta1 * m[i] + (1.0 - hp.beta1) * g;
        v[i] = hp.beta2 * v[i] + (1.0 - hp.beta2) * g * g;
        param[i] -= hp.lr * (m[i] / c1) / ((v[i] / c2).sqrt() + hp.eps);
    }
}
