//! Chapter 6, solutions: the convolution as seven plain loops, its two backward passes, and a
//! strided, padded example by hand.

use kiln::tensor::Conv2dDims;

/// Where output `(i, j)` at filter tap `(p, q)` reads the input: `(row, col)` in the image, or
/// `None` in the zero padding.
fn input_pixel(
    d: Conv2dDims,
    (i, j): (usize, usize),
    (p, q): (usize, usize),
) -> Option<(usize, usize)> {
    let row = (i * d.stride.0 + p).checked_sub(d.pad.0)?;
    let col = (j * d.stride.1 + q).checked_sub(d.pad.1)?;
    (row < d.h && col < d.w).then_some((row, col))
}

/// Calls `f(x index, w index, y index)` for every term `w[o, c, p, q] * x[b, c, row, col]` of
/// every output `y[b, o, i, j]`: the seven loops, shared by the three passes.
fn for_each_term(d: Conv2dDims, mut f: impl FnMut(usize, usize, usize)) {
    for b in 0..d.n {
        for o in 0..d.c_out {
            for i in 0..d.oh {
                for j in 0..d.ow {
                    let y = ((b * d.c_out + o) * d.oh + i) * d.ow + j;
                    for c in 0..d.c_in {
                        for p in 0..d.kh {
                            for q in 0..d.kw {
                                if let Some((row, col)) = input_pixel(d, (i, j), (p, q)) {
                                    let x = ((b * d.c_in + c) * d.h + row) * d.w + col;
                                    let w = ((o * d.c_in + c) * d.kh + p) * d.kw + q;
                                    f(x, w, y);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The convolution (a cross-correlation, as in kiln): `x` `[n, c_in, h, w]` and `w`
/// `[c_out, c_in, kh, kw]` to `y` `[n, c_out, oh, ow]`, with
/// `y[b, o, i, j] = Σ_{c, p, q} w[o, c, p, q] · x[b, c, i·s_h + p − pad_top, j·s_w + q − pad_left]`
/// and `x` read as zero outside the image. Geometry from `d` (see [`Conv2dDims`]).
pub fn conv2d_forward(x: &[f64], w: &[f64], d: Conv2dDims) -> Vec<f64> {
    let mut y = vec![0.0; d.n * d.c_out * d.oh * d.ow];
    for_each_term(d, |xi, wi, yi| y[yi] += w[wi] * x[xi]);
    y
}

/// `∂L/∂x` `[n, c_in, h, w]` from `gy = ∂L/∂y` `[n, c_out, oh, ow]` and the weight: each input
/// pixel gathers `w[o, c, p, q] · gy[b, o, i, j]` from every output whose window read it at tap
/// `(p, q)`.
pub fn conv2d_backward_data(gy: &[f64], w: &[f64], d: Conv2dDims) -> Vec<f64> {
    let mut gx = vec![0.0; d.n * d.c_in * d.h * d.w];
    for_each_term(d, |xi, wi, yi| gx[xi] += w[wi] * gy[yi]);
    gx
}

/// `∂L/∂w` `[c_out, c_in, kh, kw]` from the input and `gy = ∂L/∂y`: each tap sums
/// `gy[b, o, i, j] · x[b, c, i·s_h + p − pad_top, j·s_w + q − pad_left]` over images and
/// output pixels.
pub fn conv2d_backward_weight(x: &[f64], gy: &[f64], d: Conv2dDims) -> Vec<f64> {
    let mut gw = vec![0.0; d.c_out * d.c_in * d.kh * d.kw];
    for_each_term(d, |xi, wi, yi| gw[wi] += gy[yi] * x[xi]);
    gw
}

/// The output `[1, 1, 2, 2]` of a convolution computed by hand: the image `[1, 1, 4, 4]` holding
/// 1 to 16 row by row, the filter `[1, 1, 3, 3]` `[[0, 1, 0], [1, -4, 1], [0, 1, 0]]` (a
/// Laplacian), stride 2 and one row and column of zero padding on every side.
pub fn stride2_pad1_by_hand() -> Vec<f64> {
    // Windows centred on pixels (0, 0), (0, 2), (2, 0), (2, 2) of the image:
    //   (0, 0) = 1:  up 0, left 0, right 2, down 5          ->  7 - 4 =   3
    //   (0, 2) = 3:  up 0, left 2, right 4, down 7          -> 13 - 12 =  1
    //   (2, 0) = 9:  up 5, left 0, right 10, down 13        -> 28 - 36 = -8
    //   (2, 2) = 11: up 7, left 10, right 12, down 15       -> 44 - 44 =  0
    vec![3.0, 1.0, -8.0, 0.0]
}
