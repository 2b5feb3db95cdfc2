//! Chapter 6: the seven-loop convolution and its backward passes, against kiln's `conv2d` and
//! its autograd (im2col and GEMM on the CPU) in `f64`, and the adjoint identities that the
//! derivation rests on.

use crate::support::{assert_close, cases, dot, grad, leaf, random, tensor, values};
use kiln::tensor::{Conv2dDims, Conv2dOptions, Padding, Result};
use kiln_workbook::ch06;

use proptest::prelude::*;

/// Geometries with sizes 1 to 3 or 7, strides 1 to 3 and padding 0 to 2 on each side,
/// asymmetric more often than not.
fn geometry() -> impl Strategy<Value = Conv2dDims> {
    (
        (1usize..=2, 1usize..=3, 1usize..=3),
        (1usize..=7, 1usize..=7, 1usize..=3, 1usize..=3),
        (1usize..=3, 1usize..=3),
        (0usize..=2, 0usize..=2, 0usize..=2, 0usize..=2),
    )
        .prop_filter_map(
            "the filter must fit the padded image",
            |((n, c_in, c_out), (h, w, kh, kw), stride, (top, bottom, left, right))| {
                let (ph, pw) = (h + top + bottom, w + left + right);
                (ph >= kh && pw >= kw).then(|| Conv2dDims {
                    n,
                    c_in,
                    h,
                    w,
                    c_out,
                    kh,
                    kw,
                    stride,
                    pad: (top, left),
                    oh: (ph - kh) / stride.0 + 1,
                    ow: (pw - kw) / stride.1 + 1,
                })
            },
        )
}

/// Random `x`, `w` and `gy` for a geometry.
fn operands(d: Conv2dDims, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    (
        random(d.n * d.c_in * d.h * d.w, seed),
        random(d.c_out * d.c_in * d.kh * d.kw, seed + 1),
        random(d.n * d.c_out * d.oh * d.ow, seed + 2),
    )
}

/// kiln's options for the geometry: its stride and padding, the bottom and right padding being
/// what the output size needs.
fn options(d: Conv2dDims) -> Conv2dOptions {
    let rest = |out: usize, stride: usize, k: usize, size: usize, before: usize| {
        ((out - 1) * stride + k).saturating_sub(size + before)
    };
    Conv2dOptions {
        stride: d.stride,
        padding: Padding::Explicit {
            top: d.pad.0,
            bottom: rest(d.oh, d.stride.0, d.kh, d.h, d.pad.0),
            left: d.pad.1,
            right: rest(d.ow, d.stride.1, d.kw, d.w, d.pad.1),
        },
    }
}

/// `(forward, backward_data, backward_weight)` by kiln: `conv2d` in `f64`, then the backward
/// pass of `L = ⟨gy, y⟩`, which sends `gy` into the convolution.
fn kiln_passes(x: &[f64], w: &[f64], gy: &[f64], d: Conv2dDims) -> [Vec<f64>; 3] {
    let run = || -> Result<[Vec<f64>; 3]> {
        let x = leaf(x, &[d.n, d.c_in, d.h, d.w]);
        let w = leaf(w, &[d.c_out, d.c_in, d.kh, d.kw]);
        let y = x.conv2d(&w, None, options(d))?;
        assert_eq!(y.dims(), [d.n, d.c_out, d.oh, d.ow], "{d:?}");
        let gy = tensor(gy, y.dims());
        y.mul(&gy)?.sum_all()?.backward()?;
        Ok([values(&y), grad(&x), grad(&w)])
    };
    run().expect("kiln's convolution")
}

mod conv2d_forward {
    use super::*;

    /// Chapter 6's 3 x 3 image and 2 x 2 filter.
    #[test]
    fn by_hand() {
        let d = Conv2dDims {
            n: 1,
            c_in: 1,
            h: 3,
            w: 3,
            c_out: 1,
            kh: 2,
            kw: 2,
            stride: (1, 1),
            pad: (0, 0),
            oh: 2,
            ow: 2,
        };
        let x: Vec<f64> = (1..=9).map(f64::from).collect();
        let y = ch06::conv2d_forward(&x, &[1.0, 0.0, 0.0, -1.0], d);
        assert_eq!(y, [-4.0; 4]);
    }

    proptest! {
        #![proptest_config(cases(48))]
        #[test]
        fn matches_kiln(d in geometry(), seed in 0u64..1000) {
            let (x, w, gy) = operands(d, seed);
            let [y, _, _] = kiln_passes(&x, &w, &gy, d);
            assert_close(&ch06::conv2d_forward(&x, &w, d), &y, 1e-12, 1e-12, &format!("{d:?}"));
        }
    }
}

mod conv2d_backward_data {
    use super::*;

    proptest! {
        #![proptest_config(cases(48))]
        #[test]
        fn matches_kiln(d in geometry(), seed in 0u64..1000) {
            let (x, w, gy) = operands(d, seed);
            let [_, gx, _] = kiln_passes(&x, &w, &gy, d);
            let ours = ch06::conv2d_backward_data(&gy, &w, d);
            assert_close(&ours, &gx, 1e-12, 1e-12, &format!("{d:?}"));
        }

        /// `⟨gy, conv(x, w)⟩ = ⟨backward_data(gy, w), x⟩` for every `x`, `w`, `gy`.
        #[test]
        fn is_the_adjoint_of_the_forward_pass(d in geometry(), seed in 0u64..1000) {
            let (x, w, gy) = operands(d, seed);
            let lhs = dot(&gy, &ch06::conv2d_forward(&x, &w, d));
            let rhs = dot(&ch06::conv2d_backward_data(&gy, &w, d), &x);
            prop_assert!((lhs - rhs).abs() < 1e-10, "{} vs {} for {:?}", lhs, rhs, d);
        }
    }
}

mod conv2d_backward_weight {
    use super::*;

    proptest! {
        #![proptest_config(cases(48))]
        #[test]
        fn matches_kiln(d in geometry(), seed in 0u64..1000) {
            let (x, w, gy) = operands(d, seed);
            let [_, _, gw] = kiln_passes(&x, &w, &gy, d);
            let ours = ch06::conv2d_backward_weight(&x, &gy, d);
            assert_close(&ours, &gw, 1e-12, 1e-12, &format!("{d:?}"));
        }

        /// `⟨gy, conv(x, w)⟩ = ⟨backward_weight(x, gy), w⟩` for every `x`, `w`, `gy`.
        #[test]
        fn is_the_adjoint_of_the_forward_pass(d in geometry(), seed in 0u64..1000) {
            let (x, w, gy) = operands(d, seed);
            let lhs = dot(&gy, &ch06::conv2d_forward(&x, &w, d));
            let rhs = dot(&ch06::conv2d_backward_weight(&x, &gy, d), &w);
            prop_assert!((lhs - rhs).abs() < 1e-10, "{} vs {} for {:?}", lhs, rhs, d);
        }
    }
}

mod stride2_pad1_by_hand {
    use super::*;

    #[test]
    fn matches_kiln() {
        let d = Conv2dDims {
            n: 1,
            c_in: 1,
            h: 4,
            w: 4,
            c_out: 1,
            kh: 3,
            kw: 3,
            stride: (2, 2),
            pad: (1, 1),
            oh: 2,
            ow: 2,
        };
        let x: Vec<f64> = (1..=16).map(f64::from).collect();
        let w = [0.0, 1.0, 0.0, 1.0, -4.0, 1.0, 0.0, 1.0, 0.0];
        let [y, _, _] = kiln_passes(&x, &w, &[0.0; 4], d);
        assert_eq!(ch06::stride2_pad1_by_hand(), y);
    }
}
