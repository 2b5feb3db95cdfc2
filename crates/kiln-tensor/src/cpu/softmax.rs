//! Row-wise log-softmax and the fused softmax cross-entropy, both max-subtracted. A row that
//! holds NaN comes out all NaN (its maximum is NaN), as in PyTorch.

use super::{Alloc, Element};
use rayon::prelude::*;

/// `log_softmax` of one row into `out`: `x - max - ln Σ exp(x - max)`.
fn log_softmax_row<T: Element>(row: &[T], out: &mut [T]) {
    let max = row.iter().fold(T::neg_infinity(), |m, &v| m.max_nan(v));
    let log_sum = row.iter().map(|&v| (v - max).exp()).sum::<T>().ln();
    for (o, &v) in out.iter_mut().zip(row) {
        *o = v - max - log_sum;
    }
}

/// Row-wise log-softmax of `[rows, cols]`.
pub(super) fn log_softmax<T: Element>(x: &[T], rows: usize, cols: usize) -> Alloc<Vec<T>> {
    let mut out = super::pool::for_overwrite(rows * cols)?;
    if cols > 0 {
        out.par_chunks_mut(cols)
            .zip(x.par_chunks(cols))
            .for_each(|(o, row)| log_softmax_row(row, o));
    }
    Ok(out)
}

// ANCHOR: cross_entropy
/// Mean cross-entropy of `[rows, cols]` logits against `labels` with label smoothing `s`,
/// `(1 - s) * nll + s * mean_j(-log p_j)` per row, and its gradient
/// `(softmax - (1 - s) * onehot - s / cols) / rows`.
pub(super) fn cross_entropy<T: Element>(
    x: &[T],
    labels: &[u32],
    rows: usize,
    cols: usize,
    smoothing: f32,
) -> Alloc<(T, Vec<T>)> {
    let mut grad = log_softmax(x, rows, cols)?;
    let scale = T::one() / T::from_usize(rows).expect("rows fit");
    let s = T::of(smoothing);
    let uniform = s / T::from_usize(cols).expect("cols fit");
    // Per-row losses are summed in order, so the result does not depend on scheduling.
    let losses: Vec<T> = grad
        .par_chunks_mut(cols)
        .zip(labels.par_iter())
        .map(|(row, &label)| {
            let nll = -row[label as usize];
            let loss = if smoothing == 0.0 {
                nll
            } else {
                let smooth = -row.iter().copied().sum::<T>() / T::from_usize(cols).expect("fits");
                (T::one() - s) * nll + s * smooth
            };
            for (j, g) in row.iter_mut().enumerate() {
                let target = if j == label as usize {
                    T::one() - s + uniform
                } else {
                    uniform
                };
                *g = (g.exp() - target) * scale;
            }
            loss
        })
        .collect();
    Ok((losses.into_iter().sum::<T>() * scale, grad))
}
// ANCHOR_END: cross_entropy
