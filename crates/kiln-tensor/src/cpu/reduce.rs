//! Reductions along one axis and row-wise argmax. NaN propagates: a maximum over values that
//! include NaN is NaN, and argmax points at the first NaN, as in PyTorch.

use super::{pool, Alloc, Element};
use crate::kernels::{ReduceDims, ReduceOp};
use ndarray::{ArrayView3, Axis};

/// Reduces `[outer, len, inner]` over the middle axis to `[outer, inner]`.
pub(super) fn reduce<T: Element>(op: ReduceOp, x: &[T], d: ReduceDims) -> Alloc<Vec<T>> {
    let v = ArrayView3::from_shape((d.outer, d.len, d.inner), x).expect("length matches dims");
    let r = match op {
        ReduceOp::Sum => v.sum_axis(Axis(1)),
        ReduceOp::Max => v.fold_axis(Axis(1), T::neg_infinity(), |&m, &e| m.max_nan(e)),
    };
    let mut out = pool::with_capacity(r.len())?;
    out.extend(r.as_standard_layout().iter().copied());
    Ok(out)
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
