//! Fused optimizer updates, in place.

use super::Element;
use crate::kernels::{AdamStep, SgdStep};
use rayon::prelude::*;

/// Elements per parallel task of an update.
const CHUNK: usize = 1 << 14;

/// Adam over all elements, chunks in parallel.
pub(super) fn adam<T: Element>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], hp: AdamStep) {
    p.par_chunks_mut(CHUNK)
        .zip(g.par_chunks(CHUNK))
        .zip(m.par_chunks_mut(CHUNK))
        .zip(v.par_chunks_mut(CHUNK))
        .for_each(|(((p, g), m), v)| adam_chunk(p, g, m, v, hp));
}

/// SGD over all elements, chunks in parallel.
pub(super) fn sgd<T: Element>(p: &mut [T], g: &[T], velocity: Option<&mut [T]>, hp: SgdStep) {
    match velocity {
        Some(v) => p
            .par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .for_each(|((p, g), v)| sgd_chunk(p, g, Some(v), hp)),
        None => p
            .par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .for_each(|(p, g)| sgd_chunk(p, g, None, hp)),
    }
}

// ANCHOR: adam
/// Adam (L2 decay added to the gradient) or AdamW (decay applied to the weights):
/// `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g²`,
/// `p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)`, with the bias corrections folded into
/// two constants so that an element costs one division and one square root (three divisions
/// made the loop slower than memory). As in PyTorch, Adam adds its L2 term only for a nonzero
/// decay (so a NaN weight does not reach the moments through a zero one).
fn adam_chunk<T: Element>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], hp: AdamStep) {
    let (b1, b2) = (T::of(hp.beta1), T::of(hp.beta2));
    let (lr, eps, wd) = (T::of(hp.lr), T::of(hp.eps), T::of(hp.weight_decay));
    let l2 = !hp.decoupled && hp.weight_decay != 0.0;
    let t = hp.exponent();
    let step_size = lr / (T::one() - b1.powi(t));
    let inv_root_c2 = T::one() / (T::one() - b2.powi(t)).sqrt();
    for i in 0..p.len() {
        let mut grad = g[i];
        if hp.decoupled {
            p[i] = p[i] - lr * wd * p[i];
        } else if l2 {
            grad = grad + wd * p[i];
        }
        m[i] = b1 * m[i] + (T::one() - b1) * grad;
        v[i] = b2 * v[i] + (T::one() - b2) * grad * grad;
        p[i] = p[i] - step_size * m[i] / (v[i].sqrt() * inv_root_c2 + eps);
    }
}
// ANCHOR_END: adam

// ANCHOR: sgd
/// SGD in PyTorch's formulation: `g += wd p` (for a nonzero `wd` only, as PyTorch); with
/// momentum `v = mu v + g` and the step direction `g + mu v` (Nesterov) or `v`; then
/// `p -= lr * direction`.
fn sgd_chunk<T: Element>(p: &mut [T], g: &[T], velocity: Option<&mut [T]>, hp: SgdStep) {
    let (lr, mu, wd) = (T::of(hp.lr), T::of(hp.momentum), T::of(hp.weight_decay));
    let decays = hp.weight_decay != 0.0;
    let decayed = |g: T, p: T| if decays { g + wd * p } else { g };
    match velocity {
        Some(v) => {
            for i in 0..p.len() {
                let grad = decayed(g[i], p[i]);
                v[i] = mu * v[i] + grad;
                let dir = if hp.nesterov { grad + mu * v[i] } else { v[i] };
                p[i] = p[i] - lr * dir;
            }
        }
        None => {
            for i in 0..p.len() {
                p[i] = p[i] - lr * decayed(g[i], p[i]);
            }
        }
    }
}
// ANCHOR_END: sgd
