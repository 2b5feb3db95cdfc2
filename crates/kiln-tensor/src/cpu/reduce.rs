//! Reductions along one axis and row-wise argmax. NaN propagates: a maximum over values that
//! include NaN is NaN, and argmax points at the first NaN, as in PyTorch.

use super::{pool, Alloc, Element};
use crate::kernels::{ReduceDims, ReduceOp};
use rayon::prelude::*;

/// Elements per parallel task. Fixed, so that the partial results and their order, and hence
/// the rounding, do not depend on the number of threads.
const BLOCK: usize = 1 << 15;

/// Interleaved running results of [`fold_run`].
const LANES: usize = 16;

/// Reduces `[outer, len, inner]` over the middle axis to `[outer, inner]`.
///
/// With `inner == 1` each result folds a contiguous run (see [`fold_run`]); otherwise the `len`
/// rows of `inner` elements are folded into the result row by row, in order.
pub(super) fn reduce<T: Element>(op: ReduceOp, x: &[T], d: ReduceDims) -> Alloc<Vec<T>> {
    match op {
        ReduceOp::Sum => fold(x, d, T::zero(), |a, b| a + b),
        ReduceOp::Max => fold(x, d, T::neg_infinity(), T::max_nan),
    }
}

/// [`reduce`] with `f` from `init`. Generic over `f`, so that each operation gets its own
/// vectorized loops.
fn fold<T: Element>(
    x: &[T],
    d: ReduceDims,
    init: T,
    f: impl Fn(T, T) -> T + Copy + Sync,
) -> Alloc<Vec<T>> {
    let mut out = pool::filled(d.outer * d.inner, init)?;
    if out.is_empty() || d.len == 0 {
        return Ok(out);
    }
    let plane = d.len * d.inner;
    if d.inner == 1 {
        let runs = out.par_iter_mut().zip(x.par_chunks(d.len));
        runs.with_min_len(BLOCK.div_ceil(d.len))
            .for_each(|(o, run)| *o = fold_run(run, init, f));
        return Ok(out);
    }
    // Tasks of at most BLOCK output columns, each folding its columns over all `len` rows.
    let width = d.inner.min(BLOCK);
    out.par_chunks_mut(d.inner)
        .zip(x.par_chunks(plane))
        .for_each(|(out, x)| {
            out.par_chunks_mut(width)
                .enumerate()
                .with_min_len((BLOCK / (width * d.len).max(1)).max(1))
                .for_each(|(c, out)| {
                    for row in x.chunks_exact(d.inner) {
                        let row = &row[c * width..][..out.len()];
                        out.iter_mut().zip(row).for_each(|(o, &v)| *o = f(*o, v));
                    }
                });
        });
    Ok(out)
}

/// `init` folded with every element of `x`: in [`LANES`] interleaved running results, which
/// vectorizes (and for a sum rounds better than one running total), combined in order; long
/// runs in parallel blocks of [`BLOCK`] elements whose results are combined in order.
fn fold_run<T: Element>(x: &[T], init: T, f: impl Fn(T, T) -> T + Copy + Sync) -> T {
    if x.len() > BLOCK {
        let blocks: Vec<T> = x
            .par_chunks(BLOCK)
            .map(|block| fold_run(block, init, f))
            .collect();
        return fold_run(&blocks, init, f);
    }
    let mut lanes = [init; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        lanes
            .iter_mut()
            .zip(chunk)
            .for_each(|(l, &v)| *l = f(*l, v));
    }
    rest.iter()
        .fold(lanes.into_iter().fold(init, f), |a, &v| f(a, v))
}

/// Index of the largest element of each row of `[rows, cols]` (first on ties, first NaN in a
/// row that holds NaN).
pub(super) fn argmax<T: Element>(x: &[T], rows: usize, cols: usize) -> Alloc<Vec<T>> {
    let mut out = pool::with_capacity(rows)?;
    out.extend((0..rows).map(|r| {
        let row = &x[r * cols..(r + 1) * cols];
        let mut best = 0;
        for (i, &v) in row.iter().enumerate() {
            // Once the best is NaN nothing replaces it; until then a NaN or a larger value does.
            if !row[best].is_nan() && (v.is_nan() || v > row[best]) {
                best = i;
            }
        }
        T::from_usize(best).expect("index fits")
    }));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fold of each output in plain order, in f64.
    fn naive(op: ReduceOp, x: &[f64], d: ReduceDims) -> Vec<f64> {
        let mut out = Vec::new();
        for o in 0..d.outer {
            for i in 0..d.inner {
                let values = (0..d.len).map(|l| x[(o * d.len + l) * d.inner + i]);
                out.push(match op {
                    ReduceOp::Sum => values.sum(),
                    ReduceOp::Max => values.fold(f64::NEG_INFINITY, f64::max_nan),
                });
            }
        }
        out
    }

    #[test]
    fn every_path_matches_the_plain_fold() {
        // Runs shorter and longer than a block (parallel blocks), many short runs, columns
        // narrower and wider than a block, and an empty axis.
        let shapes = [
            (3, 17, 1),
            (2, 2 * BLOCK + 5, 1),
            (BLOCK + 3, 2, 1),
            (2, 5, 7),
            (1, 3, BLOCK + 9),
            (2, 0, 3),
        ];
        for (outer, len, inner) in shapes {
            let d = ReduceDims { outer, len, inner };
            // Integers and halves: every order of summation rounds alike.
            let mut x: Vec<f64> = (0..outer * len * inner)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) / 2.0)
                .collect();
            for op in [ReduceOp::Sum, ReduceOp::Max] {
                let got = reduce(op, &x, d).unwrap();
                assert_eq!(got, naive(op, &x, d), "{op:?} over {outer}x{len}x{inner}");
            }
            if let Some(v) = x.get_mut(len * inner / 2) {
                *v = f64::NAN;
                for op in [ReduceOp::Sum, ReduceOp::Max] {
                    let got = reduce(op, &x, d).unwrap();
                    let nan = got.iter().filter(|v| v.is_nan()).count();
                    assert_eq!(nan, 1, "{op:?} over {outer}x{len}x{inner}: one NaN result");
                }
            }
        }
    }
}
