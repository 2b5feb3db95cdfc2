//! Chapter 3: central differences, and a gradient check that accepts kiln's gradients and
//! rejects the bugs that chapter 3 warns about.

use crate::support::cases;
use kiln::tensor::gradcheck::{check, random_input, Tolerance};
use kiln::tensor::{Result, Tensor};
use kiln_workbook::ch03;
use proptest::prelude::*;

mod central_difference {
    use super::*;

    proptest! {
        #![proptest_config(cases(32))]
        /// A quadratic's central difference is exact, up to rounding.
        #[test]
        fn is_exact_on_quadratics(
            x in prop::collection::vec(-2.0f64..2.0, 1..6),
            c in -3.0f64..3.0,
        ) {
            let f = |x: &[f64]| {
                let squares = x.iter().enumerate().map(|(i, v)| (i as f64 + c) * v * v);
                squares.sum::<f64>() + c * x[0]
            };
            let got = ch03::central_difference(&f, &x, 1e-6);
            prop_assert_eq!(got.len(), x.len());
            for (i, (g, v)) in got.iter().zip(&x).enumerate() {
                let want = 2.0 * (i as f64 + c) * v + if i == 0 { c } else { 0.0 };
                prop_assert!((g - want).abs() < 1e-7, "element {}: {} vs {}", i, g, want);
            }
        }
    }

    /// On `x³` the central difference is `3x² + ε²`; a one-sided one would be `3x² + 3xε + ε²`.
    #[test]
    fn has_second_order_error() {
        let eps = 1e-2;
        let got = ch03::central_difference(&|x: &[f64]| x[0].powi(3), &[1.0], eps);
        assert!((got[0] - (3.0 + eps * eps)).abs() < 1e-10, "{got:?}");
    }
}

/// The chapter's bug: `xᵀ` forward, the identity backward (the gradient reaches `x` through
/// `x − x.detach()`, whose value is zero).
fn forgotten_transpose(x: &Tensor) -> Result<Tensor> {
    x.detach().transpose(0, 1)?.add(&x.sub(&x.detach())?)
}

/// `a ⊙ b` with `a` `[2, 3]` and `b` `[3]`, whose gradient for `b` keeps only the first row of
/// the broadcast instead of summing over the rows.
fn forgotten_sum(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let first_row = Tensor::from_vec_f64(vec![1.0, 1.0, 1.0, 0.0, 0.0, 0.0], &[2, 3])?;
    let value = a.mul(&b.detach())?;
    let wrong = b.sub(&b.detach())?.mul(&a.detach())?.mul(&first_row)?;
    value.add(&wrong)
}

/// `2x`, whose gradient is 1% too large.
fn one_percent_off(x: &Tensor) -> Result<Tensor> {
    let twice = x.detach().mul_scalar(2.0)?;
    twice.add(&x.sub(&x.detach())?.mul_scalar(2.02)?)
}

mod gradient_check {
    use super::*;

    /// A shape and a second one that broadcasts against it, in either role, sizes 1 to 4.
    fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
        prop::collection::vec(1usize..5, 1..=3)
            .prop_flat_map(|a| {
                let rank = a.len();
                (
                    Just(a),
                    prop::collection::vec(any::<bool>(), rank),
                    0..rank,
                    any::<bool>(),
                )
            })
            .prop_map(|(a, ones, drop, swap)| {
                let b: Vec<usize> = a
                    .iter()
                    .zip(ones)
                    .map(|(&d, one)| if one { 1 } else { d })
                    .skip(drop)
                    .collect();
                if swap {
                    (b, a)
                } else {
                    (a, b)
                }
            })
    }

    proptest! {
        #![proptest_config(cases(24))]
        #[test]
        fn accepts_kiln_arithmetic((da, db) in broadcast_pair(), op in 0u8..4, seed in 0u64..1000) {
            let inputs = [random_input(&da, seed), random_input(&db, seed + 1)];
            let f = move |x: &[Tensor]| match op {
                0 => x[0].add(&x[1]),
                1 => x[0].sub(&x[1]),
                2 => x[0].mul(&x[1]),
                // The divisor is kept away from zero.
                _ => x[0].div(&x[1].mul(&x[1])?.add_scalar(0.5)?),
            };
            let verdict = ch03::gradient_check(&f, &inputs, Tolerance::default(), seed);
            prop_assert!(verdict.is_ok(), "{:?}", verdict);
        }

        #[test]
        fn accepts_kiln_matmul(
            (m, k, n) in (1usize..5, 1usize..5, 1usize..5),
            ta: bool,
            tb: bool,
            seed in 0u64..1000,
        ) {
            let a = if ta { [k, m] } else { [m, k] };
            let b = if tb { [n, k] } else { [k, n] };
            let inputs = [random_input(&a, seed), random_input(&b, seed + 1)];
            let view = |t: &Tensor, transposed: bool| if transposed { t.t() } else { t.clone() };
            let f = move |x: &[Tensor]| view(&x[0], ta).matmul(&view(&x[1], tb));
            let verdict = ch03::gradient_check(&f, &inputs, Tolerance::default(), seed);
            prop_assert!(verdict.is_ok(), "{:?}", verdict);
        }
    }

    /// Through a plain sum every output weighs 1 and the forgotten transpose passes; through
    /// random weights it is caught.
    #[test]
    fn rejects_a_forgotten_transpose() {
        let inputs = [random_input(&[3, 3], 1)];
        let tol = Tolerance::default();
        let plain_sum = |x: &[Tensor]| forgotten_transpose(&x[0])?.sum_all();
        assert_eq!(ch03::gradient_check(&plain_sum, &inputs, tol, 1), Ok(()));
        let verdict = ch03::gradient_check(&|x| forgotten_transpose(&x[0]), &inputs, tol, 1);
        let message = verdict.expect_err("a forgotten transpose must be caught");
        assert!(message.contains("input 0"), "{message}");
    }

    #[test]
    fn rejects_a_forgotten_sum() {
        let inputs = [random_input(&[2, 3], 2), random_input(&[3], 3)];
        let f = |x: &[Tensor]| forgotten_sum(&x[0], &x[1]);
        let message = ch03::gradient_check(&f, &inputs, Tolerance::default(), 2)
            .expect_err("a gradient that misses a broadcast row must be caught");
        assert!(message.contains("input 1"), "{message}");
    }

    #[test]
    fn rejects_one_percent_off() {
        let inputs = [random_input(&[4], 4)];
        let f = |x: &[Tensor]| one_percent_off(&x[0]);
        let message = ch03::gradient_check(&f, &inputs, Tolerance::default(), 4)
            .expect_err("a 1% error is above the tolerance");
        assert!(
            message.contains("input 0") && message.contains("element 0"),
            "{message}"
        );
    }

    /// Your check and kiln's `gradcheck::check` reach the same verdicts.
    #[test]
    fn agrees_with_kiln() {
        type F = fn(&[Tensor]) -> Result<Tensor>;
        let cases: [(F, Vec<Tensor>); 5] = [
            (
                |x| x[0].tanh()?.mul(&x[1]),
                vec![random_input(&[2, 3], 5), random_input(&[3], 6)],
            ),
            (
                |x| x[0].matmul(&x[1])?.relu(),
                vec![random_input(&[3, 2], 7), random_input(&[2, 4], 8)],
            ),
            (
                |x| forgotten_transpose(&x[0]),
                vec![random_input(&[2, 2], 9)],
            ),
            (
                |x| forgotten_sum(&x[0], &x[1]),
                vec![random_input(&[2, 3], 10), random_input(&[3], 11)],
            ),
            (|x| one_percent_off(&x[0]), vec![random_input(&[3], 12)]),
        ];
        for (i, (f, inputs)) in cases.iter().enumerate() {
            let ours = ch03::gradient_check(f, inputs, Tolerance::default(), 7).is_ok();
            let kiln = check(f, inputs, Tolerance::default(), 7).is_ok();
            assert_eq!(ours, kiln, "case {i}: yours says {ours}, kiln says {kiln}");
        }
    }
}
