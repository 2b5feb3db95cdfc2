//! Reductions along one axis and row-wise argmax.

use super::Element;
use crate::kernels::{ReduceDims, ReduceOp};
use ndarray::{ArrayView3, Axis};

/// Reduces `[outer, len, inner]` over the middle axis to `[outer, inner]`.
pub(super) fn reduce<T: Element>(op: ReduceOp, x: &[T], d: ReduceDims) -> Vec<T> {
    let v = ArrayView3::from_shape((d.outer, d.len, d.inner), x).expect("length matches dims");
    let r = match op {
        ReduceOp::Sum => v.sum_axis(Axis(1)),
        ReduceOp::Max => v.fold_axis(Axis(1), T::neg_infinity(), |&m, &e| m.max(e)),
    };
    r.as_standard_layout().iter().copied().collect()
}

/// Index of the largest element of each row of `[rows, cols]` (first on ties).
pub(super) fn argmax<T: Element>(x: &[T], rows: usize, cols: usize) -> Vec<T> {
    (0..rows)
        .map(|r| {
            let row = &x[r * cols..(r + 1) * cols];
            let mut best = 0;
            for (i, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = i;
                }
            }
            T::from_usize(best).expect("index fits")
        })
        .collect()
}
