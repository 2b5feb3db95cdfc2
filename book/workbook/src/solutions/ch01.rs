//! Chapter 1, solutions: strides, broadcasting, and `sum_to`.

/// Row-major strides of `dims`, in elements: the last is 1, each other is the product of the
/// dimensions to its right. A scalar (`[]`) has no strides.
pub fn strides(dims: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * dims[i + 1];
    }
    strides
}

/// The shape `a` and `b` broadcast to (NumPy's rule: align from the right, each pair equal or
/// containing a 1, a missing dimension counting as 1), or `None` when they do not broadcast.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    // Dimension `i` of `dims` counted from the right, 1 past its rank.
    let from_right = |dims: &[usize], i: usize| {
        if i < dims.len() {
            dims[dims.len() - 1 - i]
        } else {
            1
        }
    };
    let mut out = vec![0; rank];
    for i in 0..rank {
        out[rank - 1 - i] = match (from_right(a, i), from_right(b, i)) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Strides that read a tensor of shape `dims` as if it were broadcast to `out`: one per axis of
/// `out`, 0 on the axes `dims` lacks (leading) or has as 1, else the row-major stride of `dims`.
/// `out` must be a broadcast of `dims`.
pub fn broadcast_strides(dims: &[usize], out: &[usize]) -> Vec<usize> {
    let own = strides(dims);
    let offset = out.len() - dims.len();
    (0..out.len())
        .map(|i| {
            if i < offset || dims[i - offset] == 1 {
                0
            } else {
                own[i - offset]
            }
        })
        .collect()
}

/// Sums `grad`, of shape `from` (a broadcast of `to`), back to shape `to`: each element of the
/// result is the sum of every element of `grad` that was read from it when broadcasting.
/// `grad` is row-major; so is the result, of `to.iter().product()` elements.
pub fn sum_to(grad: &[f64], from: &[usize], to: &[usize]) -> Vec<f64> {
    let source = strides(from);
    let target = broadcast_strides(to, from);
    let mut out = vec![0.0; to.iter().product()];
    for (linear, &g) in grad.iter().enumerate() {
        // The coordinate along axis k is (linear / source[k]) % from[k]; dotted with the
        // broadcast strides it is the offset of the element it was read from.
        let offset: usize = (0..from.len())
            .map(|k| (linear / source[k]) % from[k] * target[k])
            .sum();
        out[offset] += g;
    }
    out
}
