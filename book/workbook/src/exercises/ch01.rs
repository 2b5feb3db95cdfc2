//! Chapter 1: strides, broadcasting, and `sum_to`, on plain slices of dimensions.
//!
//! Tests: `cargo test --release --manifest-path book/workbook/Cargo.toml ch01`. They compare
//! your functions with kiln's `Shape::strides`, `Shape::broadcast`, `Shape::broadcast_strides`
//! and `Tensor::sum_to` on random shapes.

/// Row-major strides of `dims`, in elements: the last is 1, each other is the product of the
/// dimensions to its right. A scalar (`[]`) has no strides.
///
/// Hint: walk the axes from the right, carrying the product of the dimensions seen so far.
/// `[2, 3, 4]` has strides `[12, 4, 1]`.
pub fn strides(dims: &[usize]) -> Vec<usize> {
    todo!()
}

/// The shape `a` and `b` broadcast to (NumPy's rule: align from the right, each pair equal or
/// containing a 1, a missing dimension counting as 1), or `None` when they do not broadcast.
///
/// Hint: the result has the larger rank; for each position counted from the right, take the
/// two dimensions (1 where a shape has run out). `[4, 1, 3]` and `[5, 1]` give `[4, 5, 3]`;
/// `[2, 3]` and `[2]` give `None`. Mind that a 1 against a 0 broadcasts to 0.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    todo!()
}

/// Strides that read a tensor of shape `dims` as if it were broadcast to `out`: one per axis of
/// `out`, 0 on the axes `dims` lacks (leading) or has as 1, else the row-major stride of `dims`.
/// `out` must be a broadcast of `dims`.
///
/// Hint: use your [`strides`]. `[5, 1]` read as `[4, 5, 3]` has strides `[0, 1, 0]`: moving
/// along a stride-0 axis re-reads the same element.
pub fn broadcast_strides(dims: &[usize], out: &[usize]) -> Vec<usize> {
    todo!()
}

/// Sums `grad`, of shape `from` (a broadcast of `to`), back to shape `to`: each element of the
/// result is the sum of every element of `grad` that was read from it when broadcasting.
/// `grad` is row-major; so is the result, of `to.iter().product()` elements.
///
/// This is the rule every broadcast operand's gradient needs (chapter 1, "Broadcasting
/// backwards").
///
/// Hint: you need no reduction per axis. Walk `grad` in order; turn each linear index into
/// coordinates with the strides of `from` (`(linear / stride) % dim` per axis), dot them with
/// `broadcast_strides(to, from)`, and add the value at that offset of the result.
pub fn sum_to(grad: &[f64], from: &[usize], to: &[usize]) -> Vec<f64> {
    todo!()
}
