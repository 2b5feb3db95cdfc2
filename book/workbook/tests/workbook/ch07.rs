//! Chapter 7: batch norm in train mode, against kiln's fused operation and its backward pass in
//! `f64`, finite differences, the fused operation's autograd, and kiln's `BatchNorm1d` layer.

use crate::support::{assert_close, cases, dot, grad, leaf, random, tensor, values};
use kiln::nn::{BatchNorm1d, BatchNormConfig, Module, Momentum};
use kiln::tensor::gradcheck::random_input;
use kiln::tensor::{Result, Tensor};
use kiln_workbook::ch07;
use kiln_workbook::geometry::BnDims;
use proptest::prelude::*;

/// `ε` as kiln's kernels see it (an `f32`), in `f64`.
const EPS: f32 = 1e-3;

/// `[n, c, spatial]` with at least two values per channel.
fn dims() -> impl Strategy<Value = BnDims> {
    (2usize..=5, 1usize..=4, 1usize..=6).prop_map(|(n, c, spatial)| BnDims { n, c, spatial })
}

/// `x` with a per-channel offset (so that the means matter), `gamma`, `beta`, `gy`.
fn operands(d: BnDims, seed: u64) -> [Vec<f64>; 4] {
    let len = d.n * d.c * d.spatial;
    let x = random(len, seed)
        .into_iter()
        .enumerate()
        .map(|(i, v)| 3.0 * v + (i / d.spatial % d.c) as f64)
        .collect();
    [
        x,
        random(d.c, seed + 1),
        random(d.c, seed + 2),
        random(len, seed + 3),
    ]
}

/// kiln's fused train-mode batch norm of `x` viewed as `[n, c, spatial]`, and the backward
/// pass of `L = ⟨gy, y⟩`: `[y, mean, biased variance, ∂L/∂x, ∂L/∂γ, ∂L/∂β]`.
fn kiln_batch_norm(x: &[f64], gamma: &[f64], beta: &[f64], gy: &[f64], d: BnDims) -> [Vec<f64>; 6] {
    let run = || -> Result<[Vec<f64>; 6]> {
        let dims = [d.n, d.c, d.spatial];
        let (x, gamma, beta) = (leaf(x, &dims), leaf(gamma, &[d.c]), leaf(beta, &[d.c]));
        let (y, stats) = x.batch_norm_train(Some(&gamma), Some(&beta), EPS)?;
        y.mul(&tensor(gy, &dims))?.sum_all()?.backward()?;
        Ok([
            values(&y),
            values(&stats.mean),
            values(&stats.var),
            grad(&x),
            grad(&gamma),
            grad(&beta),
        ])
    };
    run().expect("kiln's batch norm")
}

mod batch_norm_forward {
    use super::*;

    proptest! {
        #![proptest_config(cases(48))]
        #[test]
        fn matches_kiln(d in dims(), seed in 0u64..1000) {
            let [x, gamma, beta, gy] = operands(d, seed);
            let [y, mean, var, ..] = kiln_batch_norm(&x, &gamma, &beta, &gy, d);
            let (ours, our_mean, our_var) =
                ch07::batch_norm_forward(&x, &gamma, &beta, EPS as f64, d);
            assert_close(&our_mean, &mean, 1e-12, 1e-12, "mean");
            assert_close(&our_var, &var, 1e-12, 1e-12, "biased variance");
            assert_close(&ours, &y, 1e-12, 1e-12, "y");
        }
    }

    /// Four values by hand: mean 2.5, biased variance 1.25.
    #[test]
    fn by_hand() {
        let d = BnDims {
            n: 4,
            c: 1,
            spatial: 1,
        };
        let (y, mean, var) =
            ch07::batch_norm_forward(&[1.0, 2.0, 3.0, 4.0], &[2.0], &[1.0], 0.0, d);
        assert_eq!((mean, var), (vec![2.5], vec![1.25]));
        let s = 1.25f64.sqrt();
        assert_close(
            &y,
            &[1.0 - 3.0 / s, 1.0 - 1.0 / s, 1.0 + 1.0 / s, 1.0 + 3.0 / s],
            1e-15,
            1e-15,
            "y",
        );
    }
}

mod batch_norm_backward {
    use super::*;

    proptest! {
        #![proptest_config(cases(48))]
        #[test]
        fn matches_kiln(d in dims(), seed in 0u64..1000) {
            let [x, gamma, beta, gy] = operands(d, seed);
            let [.., gx, dgamma, dbeta] = kiln_batch_norm(&x, &gamma, &beta, &gy, d);
            let (ours, our_dgamma, our_dbeta) =
                ch07::batch_norm_backward(&gy, &x, &gamma, EPS as f64, d);
            assert_close(&ours, &gx, 1e-11, 1e-10, "dL/dx");
            assert_close(&our_dgamma, &dgamma, 1e-11, 1e-10, "dL/dgamma");
            assert_close(&our_dbeta, &dbeta, 1e-11, 1e-10, "dL/dbeta");
        }

        /// `L = ⟨gy, y(x, γ, β)⟩` through your forward pass, differentiated numerically.
        #[test]
        fn matches_finite_differences(d in dims(), seed in 0u64..1000) {
            let [x, gamma, beta, gy] = operands(d, seed);
            let eps = EPS as f64;
            let (gx, dgamma, dbeta) = ch07::batch_norm_backward(&gy, &x, &gamma, eps, d);
            let loss = |x: &[f64], gamma: &[f64], beta: &[f64]| {
                dot(&gy, &ch07::batch_norm_forward(x, gamma, beta, eps, d).0)
            };
            let h = 1e-6;
            let numeric = |values: &[f64], which: usize, j: usize| {
                let at = |delta: f64| {
                    let mut moved = values.to_vec();
                    moved[j] += delta;
                    match which {
                        0 => loss(&moved, &gamma, &beta),
                        1 => loss(&x, &moved, &beta),
                        _ => loss(&x, &gamma, &moved),
                    }
                };
                (at(h) - at(-h)) / (2.0 * h)
            };
            let pairs = [(&x, &gx), (&gamma, &dgamma), (&beta, &dbeta)];
            for (which, (values, analytic)) in pairs.into_iter().enumerate() {
                prop_assert_eq!(analytic.len(), values.len());
                for (j, &a) in analytic.iter().enumerate() {
                    let n = numeric(values, which, j);
                    prop_assert!(
                        (a - n).abs() <= 1e-5 + 1e-3 * n.abs(),
                        "input {} element {}: {} vs {}", which, j, a, n
                    );
                }
            }
        }

        /// Shifting a channel's inputs changes nothing after normalization, so the gradient has
        /// no component along that shift: it sums to zero over each channel.
        #[test]
        fn sums_to_zero_per_channel(d in dims(), seed in 0u64..1000) {
            let [x, gamma, _, gy] = operands(d, seed);
            let (gx, _, _) = ch07::batch_norm_backward(&gy, &x, &gamma, EPS as f64, d);
            for ch in 0..d.c {
                let runs = (0..d.n).map(|b| &gx[(b * d.c + ch) * d.spatial..][..d.spatial]);
                let sum: f64 = runs.flatten().sum();
                prop_assert!(sum.abs() < 1e-10, "channel {}: {}", ch, sum);
            }
        }
    }
}

mod batch_norm_composed {
    use super::*;

    /// Output and gradients of `L = Σ w ⊙ bn(x)` through your composition and through kiln's
    /// fused operation, for `[n, c]` and `[n, c, h, w]` inputs.
    #[test]
    fn matches_the_fused_op() {
        for (i, dims) in [vec![6, 3], vec![2, 3, 4, 5], vec![3, 1, 2, 2]]
            .into_iter()
            .enumerate()
        {
            let seed = 10 * i as u64;
            let c = dims[1];
            let inputs = [
                random_input(&dims, seed),
                random_input(&[c], seed + 1),
                random_input(&[c], seed + 2),
            ];
            let weights = random_input(&dims, seed + 3);
            let run = |composed: bool| {
                let [x, gamma, beta] = inputs.clone().map(|t| t.detach().requires_grad());
                let y = if composed {
                    ch07::batch_norm_composed(&x, &gamma, &beta, EPS)
                } else {
                    x.batch_norm_train(Some(&gamma), Some(&beta), EPS)
                        .map(|(y, _)| y)
                }
                .expect("batch norm");
                y.mul(&weights)
                    .and_then(|l| l.sum_all())
                    .and_then(|l| l.backward())
                    .expect("backward");
                let grad = |t: &Tensor| t.grad().expect("a gradient").to_vec_f64().unwrap();
                [y.to_vec_f64().unwrap(), grad(&x), grad(&gamma), grad(&beta)]
            };
            let (ours, fused) = (run(true), run(false));
            // kiln's `mean` scales by an `f32` constant (1/6 to about 1e-8), even in `f64`.
            for (what, (o, f)) in ["y", "dL/dx", "dL/dgamma", "dL/dbeta"]
                .iter()
                .zip(ours.iter().zip(&fused))
            {
                assert_close(o, f, 1e-7, 1e-6, &format!("{what} for {dims:?}"));
            }
        }
    }
}

mod update_running {
    use super::*;

    /// Two train-mode steps of kiln's `BatchNorm1d`, in both momentum conventions, against your
    /// update from the same batch statistics.
    #[test]
    fn matches_kiln_layer() {
        let (n, c) = (5, 3);
        for momentum in [Momentum::Torch(0.1), Momentum::TensorFlow(0.75)] {
            let config = BatchNormConfig {
                eps: EPS,
                momentum,
                affine: false,
            };
            let bn = BatchNorm1d::new(c, config).expect("layer");
            let (mut mean, mut var) = (vec![0.0f32; c], vec![1.0f32; c]);
            for step in 0..2 {
                let x = Tensor::rand_normal(&[n, c], 1.0, 2.0, step);
                bn.forward(&x).expect("train-mode forward");
                let (_, batch) = x
                    .batch_norm_train(None, None, EPS)
                    .expect("batch statistics");
                let (batch_mean, batch_var) =
                    (batch.mean.to_vec().unwrap(), batch.var.to_vec().unwrap());
                ch07::update_running(&mut mean, &mut var, &batch_mean, &batch_var, n, momentum);
                let what = format!("{momentum:?}, step {step}");
                assert_close(
                    &mean,
                    &bn.running_mean().to_vec().unwrap(),
                    1e-6,
                    1e-6,
                    &format!("running mean, {what}"),
                );
                assert_close(
                    &var,
                    &bn.running_var().to_vec().unwrap(),
                    1e-6,
                    1e-6,
                    &format!("running variance, {what}"),
                );
            }
        }
    }
}
