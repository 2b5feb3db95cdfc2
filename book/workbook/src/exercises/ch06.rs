//! Chapter 6: the convolution as seven plain loops, its two backward passes, and a strided,
//! padded example by hand.
//!
//! Tests: `cargo test --release --manifest-path book/workbook/Cargo.toml ch06`. They compare
//! with kiln's `conv2d` and its backward passes (im2col and GEMM on the CPU) in `f64` on random
//! geometries, and check that each backward pass is the adjoint of your forward pass.

use kiln::tensor::Conv2dDims;

/// The convolution (a cross-correlation, as in kiln): `x` `[n, c_in, h, w]` and `w`
/// `[c_out, c_in, kh, kw]` to `y` `[n, c_out, oh, ow]`, with
/// `y[b, o, i, j] = Σ_{c, p, q} w[o, c, p, q] · x[b, c, i·s_h + p − pad_top, j·s_w + q − pad_left]`
/// and `x` read as zero outside the image. Geometry from `d` (see [`Conv2dDims`]).
///
/// Hint: seven loops, `b, o, i, j` over the output and `c, p, q` over the filter. The input
/// row `i·s_h + p − pad_top` is outside the image when it would be negative (use
/// `checked_sub`) or `>= h`; likewise the column.
pub fn conv2d_forward(x: &[f64], w: &[f64], d: Conv2dDims) -> Vec<f64> {
    todo!()
}

/// `∂L/∂x` `[n, c_in, h, w]` from `gy = ∂L/∂y` `[n, c_out, oh, ow]` and the weight: each input
/// pixel gathers `w[o, c, p, q] · gy[b, o, i, j]` from every output whose window read it at tap
/// `(p, q)`.
///
/// Hint: the same seven loops as the forward pass; where the forward pass adds
/// `w · x` into `y`, add `w · gy` into `gx` at the pixel that was read (a scatter). Write the
/// loops once, shared by the three passes, and pass each pass's update as a closure.
pub fn conv2d_backward_data(gy: &[f64], w: &[f64], d: Conv2dDims) -> Vec<f64> {
    todo!()
}

/// `∂L/∂w` `[c_out, c_in, kh, kw]` from the input and `gy = ∂L/∂y`: each tap sums
/// `gy[b, o, i, j] · x[b, c, i·s_h + p − pad_top, j·s_w + q − pad_left]` over images and
/// output pixels.
///
/// Hint: the same loops again, adding `gy · x` into `gw`.
pub fn conv2d_backward_weight(x: &[f64], gy: &[f64], d: Conv2dDims) -> Vec<f64> {
    todo!()
}

/// The output `[1, 1, 2, 2]` of a convolution computed by hand: the image `[1, 1, 4, 4]` holding
/// 1 to 16 row by row, the filter `[1, 1, 3, 3]` `[[0, 1, 0], [1, -4, 1], [0, 1, 0]]` (a
/// Laplacian), stride 2 and one row and column of zero padding on every side.
///
/// Hint: work out `oh` and `ow` first, then where each window sits: with padding 1 and stride
/// 2, output `(i, j)`'s window is centred on pixel `(2i, 2j)`. Return the four numbers as
/// literals; the test computes them with kiln.
pub fn stride2_pad1_by_hand() -> Vec<f64> {
    todo!()
}
