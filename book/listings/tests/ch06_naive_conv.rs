//! Chapter 6: the convolution as its definition, seven plain loops, and kiln's CPU kernel
//! (im2col then a GEMM, reached through `Tensor::conv2d` on `f64` tensors) checked against it on
//! geometries that leave nothing symmetric: strides 1 to 3, asymmetric padding, non-square
//! filters, one-pixel images.

use kiln::prelude::*;
use kiln::tensor::{Conv2dOptions, Padding, Result};

/// The shapes of a convolution: input `[n, c_in, h, w]`, weight `[c_out, c_in, kh, kw]`, stride
/// `(s_h, s_w)`, padding `top` and `left` (bottom and right only decide `oh` and `ow`).
#[derive(Debug, Clone, Copy)]
struct Geometry {
    n: usize,
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    kh: usize,
    kw: usize,
    stride: (usize, usize),
    top: usize,
    left: usize,
    oh: usize,
    ow: usize,
}

// ANCHOR: naive
/// `y[b, o, i, j] = Σ_{c, p, q} w[o, c, p, q] · x[b, c, i·s_h + p − top, j·s_w + q − left]`,
/// `x` read as zero outside the image: the definition, one loop per index.
fn conv2d_naive(x: &[f64], w: &[f64], d: Geometry) -> Vec<f64> {
    let mut y = vec![0.0; d.n * d.c_out * d.oh * d.ow];
    for b in 0..d.n {
        for o in 0..d.c_out {
            for i in 0..d.oh {
                for j in 0..d.ow {
                    let mut sum = 0.0;
                    for c in 0..d.c_in {
                        for p in 0..d.kh {
                            for q in 0..d.kw {
                                // The input pixel under tap (p, q), in padded coordinates.
                                let row = (i * d.stride.0 + p) as isize - d.top as isize;
                                let col = (j * d.stride.1 + q) as isize - d.left as isize;
                                let inside = (0..d.h as isize).contains(&row)
                                    && (0..d.w as isize).contains(&col);
                                if inside {
                                    let (row, col) = (row as usize, col as usize);
                                    sum += w[((o * d.c_in + c) * d.kh + p) * d.kw + q]
                                        * x[((b * d.c_in + c) * d.h + row) * d.w + col];
                                }
                            }
                        }
                    }
                    y[((b * d.c_out + o) * d.oh + i) * d.ow + j] = sum;
                }
            }
        }
    }
    y
}
// ANCHOR_END: naive

/// Deterministic values in [-1, 1].
fn values(len: usize, seed: usize) -> Vec<f64> {
    (0..len)
        .map(|i| (((i * 7919 + seed * 104_729) % 2001) as f64 - 1000.0) / 1000.0)
        .collect()
}

#[test]
fn kiln_cpu_convolution_matches_the_seven_loops() -> Result<()> {
    // (n, c_in, h, w), (c_out, kh, kw), stride, (top, bottom), (left, right)
    let cases = [
        ((1, 1, 1, 1), (1, 1, 1), (1, 1), (0, 0), (0, 0)),
        ((1, 1, 3, 3), (1, 2, 2), (1, 1), (0, 0), (0, 0)),
        ((2, 3, 7, 6), (4, 3, 2), (2, 1), (1, 1), (2, 2)),
        ((1, 2, 5, 5), (3, 3, 3), (2, 2), (1, 0), (0, 1)),
        ((3, 1, 8, 5), (2, 1, 3), (3, 2), (0, 2), (1, 0)),
        ((1, 4, 4, 4), (2, 3, 3), (1, 1), (1, 1), (1, 1)),
    ];
    for (case, ((n, c_in, h, w), (c_out, kh, kw), stride, (top, bottom), (left, right))) in
        cases.into_iter().enumerate()
    {
        let d = Geometry {
            n,
            c_in,
            h,
            w,
            c_out,
            kh,
            kw,
            stride,
            top,
            left,
            oh: (h + top + bottom - kh) / stride.0 + 1,
            ow: (w + left + right - kw) / stride.1 + 1,
        };
        let x = values(n * c_in * h * w, case);
        let wv = values(c_out * c_in * kh * kw, case + 50);
        let padding = Padding::Explicit {
            top,
            bottom,
            left,
            right,
        };
        let y = Tensor::from_vec_f64(x.clone(), &[n, c_in, h, w])?.conv2d(
            &Tensor::from_vec_f64(wv.clone(), &[c_out, c_in, kh, kw])?,
            None,
            Conv2dOptions { stride, padding },
        )?;
        assert_eq!(y.dims(), &[n, c_out, d.oh, d.ow], "{d:?}");
        let want = conv2d_naive(&x, &wv, d);
        for (g, e) in y.to_vec_f64()?.iter().zip(&want) {
            assert!((g - e).abs() < 1e-12, "{d:?}: {g} against {e}");
        }
    }
    Ok(())
}
