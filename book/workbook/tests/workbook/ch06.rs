//! Chapter 6: the seven-loop convolution and its backward passes, against kiln's CPU kernels
//! (im2col and GEMM) in `f64`, and the adjoint identities that the derivation rests on.

use crate::support::{assert_close, cases, dot, random, read};
use kiln::tensor::cpu::CpuKernels;
use kiln::tensor::kernels::Conv2dDims;
use kiln::tensor::{Kernels, Storage};
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

fn storage(values: &[f64]) -> Storage {
    Storage::F64(values.to_vec())
}

/// `(forward, backward_data, backward_weight)` by kiln's CPU kernels.
fn kiln_passes(x: &[f64], w: &[f64], gy: &[f64], d: Conv2dDims) -> [Vec<f64>; 3] {
    let k = CpuKernels;
    let (x, w, gy) = (storage(x), storage(w), storage(gy));
    [
        read(&k.conv2d(&x, &w, d).expect("conv2d")),
        read(&k.conv2d_backward_data(&gy, &w, d).expect("backward data")),
        read(
            &k.conv2d_backward_weight(&x, &gy, d)
                .expect("backward weight"),
        ),
    ]
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
