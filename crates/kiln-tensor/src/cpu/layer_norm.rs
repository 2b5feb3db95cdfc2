//! Layer normalization over the rows of `[rows, cols]`, forward and fused analytic backward.
//!
//! With `x̂ = (x - μ) r`, `r = 1 / sqrt(σ² + ε)` per row and `y = γ x̂ + β` per column:
//! `∂L/∂β = Σ_rows gy`, `∂L/∂γ = Σ_rows gy x̂`, and with `ĝ = gy γ`,
//! `∂L/∂x = r (ĝ - mean(ĝ) - x̂ mean(ĝ x̂))`, the means over the row.
//!
//! Rows are independent parallel tasks; the column sums add fixed blocks of rows in parallel
//! and the blocks in order, so the rounding does not depend on the thread count.

use super::{pool, Alloc, Element};
use crate::kernels::LnDims;
use rayon::prelude::*;

/// Rows per task of the column sums.
const ROWS_PER_TASK: usize = 16;

/// The mean of `values`.
fn mean<T: Element>(values: impl Iterator<Item = T>, count: T) -> T {
    values.fold(T::zero(), |a, v| a + v) / count
}

// ANCHOR: forward
/// `(y, mean, rstd)`; see the module docs.
pub(super) fn forward<T: Element>(
    x: &[T],
    gamma: &[T],
    beta: &[T],
    eps: f32,
    d: LnDims,
) -> Alloc<(Vec<T>, Vec<T>, Vec<T>)> {
    let mut y = pool::for_overwrite(d.rows * d.cols)?;
    let mut means = pool::for_overwrite(d.rows)?;
    let mut rstds = pool::for_overwrite(d.rows)?;
    let count = T::from_usize(d.cols).expect("count fits");
    let (gamma, beta) = (&gamma[..d.cols], &beta[..d.cols]);
    y.par_chunks_mut(d.cols.max(1))
        .zip(x.par_chunks(d.cols.max(1)))
        .zip(means.par_iter_mut().zip(rstds.par_iter_mut()))
        .for_each(|((y, x), (m, r))| {
            let mu = mean(x.iter().copied(), count);
            let var = mean(x.iter().map(|&v| (v - mu) * (v - mu)), count);
            let rstd = T::one() / (var + T::of(eps)).sqrt();
            for (j, y) in y.iter_mut().enumerate() {
                *y = (x[j] - mu) * rstd * gamma[j] + beta[j];
            }
            (*m, *r) = (mu, rstd);
        });
    Ok((y, means, rstds))
}
// ANCHOR_END: forward

/// `(gx, dgamma, dbeta)`; see the module docs.
pub(super) fn backward<T: Element>(
    gy: &[T],
    x: &[T],
    means: &[T],
    rstds: &[T],
    gamma: &[T],
    d: LnDims,
) -> Alloc<(Vec<T>, Vec<T>, Vec<T>)> {
    let cols = d.cols.max(1);
    let count = T::from_usize(d.cols).expect("count fits");
    let gamma = &gamma[..d.cols];
    let mut gx = pool::for_overwrite(d.rows * d.cols)?;
    gx.par_chunks_mut(cols)
        .zip(gy.par_chunks(cols).zip(x.par_chunks(cols)))
        .zip(means.par_iter().zip(rstds))
        .for_each(|((gx, (gy, x)), (&mu, &r))| {
            let x_hat = |j: usize| (x[j] - mu) * r;
            let mean_g = mean((0..d.cols).map(|j| gy[j] * gamma[j]), count);
            let mean_gx = mean((0..d.cols).map(|j| gy[j] * gamma[j] * x_hat(j)), count);
            for (j, gx) in gx.iter_mut().enumerate() {
                *gx = r * (gy[j] * gamma[j] - mean_g - x_hat(j) * mean_gx);
            }
        });
    let partials: Vec<(Vec<T>, Vec<T>)> = (0..d.rows.div_ceil(ROWS_PER_TASK))
        .into_par_iter()
        .map(|task| {
            let (mut dgamma, mut dbeta) = (vec![T::zero(); d.cols], vec![T::zero(); d.cols]);
            for row in task * ROWS_PER_TASK..((task + 1) * ROWS_PER_TASK).min(d.rows) {
                let (gy, x) = (&gy[row * d.cols..][..d.cols], &x[row * d.cols..][..d.cols]);
                for j in 0..d.cols {
                    dgamma[j] = dgamma[j] + gy[j] * (x[j] - means[row]) * rstds[row];
                    dbeta[j] = dbeta[j] + gy[j];
                }
            }
            (dgamma, dbeta)
        })
        .collect();
    let (mut dgamma, mut dbeta) = (
        pool::filled(d.cols, T::zero())?,
        pool::filled(d.cols, T::zero())?,
    );
    for (pg, pb) in partials {
        dgamma.iter_mut().zip(pg).for_each(|(t, p)| *t = *t + p);
        dbeta.iter_mut().zip(pb).for_each(|(t, p)| *t = *t + p);
    }
    Ok((gx, dgamma, dbeta))
}
