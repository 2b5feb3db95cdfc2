//! Chapter 8: the loss gradient and the optimizer updates, against kiln's on the CPU.

use crate::support::{assert_close, cases, random_f32};
use kiln::tensor::{AdamStep, SgdStep, Tensor};
use kiln_workbook::ch08;
use proptest::prelude::*;

mod softmax_cross_entropy {
    use super::*;

    /// kiln's mean loss over the rows and its gradient by autograd.
    fn kiln(logits: &[f32], labels: &[u32], cols: usize) -> (f32, Vec<f32>) {
        let logits = Tensor::from_slice(logits, &[labels.len(), cols])
            .expect("logits")
            .requires_grad();
        let loss = logits.softmax_cross_entropy(labels).expect("kiln's loss");
        loss.backward().expect("backward");
        let grad = logits.grad().expect("a gradient").to_vec().unwrap();
        (loss.item().unwrap(), grad)
    }

    proptest! {
        #![proptest_config(cases(64))]
        #[test]
        fn matches_kiln(
            (rows, cols) in (1usize..6, 1usize..12),
            seed in 0u64..1000,
            picks in prop::collection::vec(any::<prop::sample::Index>(), 6),
        ) {
            let logits: Vec<f32> = random_f32(rows * cols, seed).iter().map(|v| 5.0 * v).collect();
            let labels: Vec<u32> = picks[..rows].iter().map(|p| p.index(cols) as u32).collect();
            let (loss, grad) = ch08::softmax_cross_entropy(&logits, &labels, cols);
            let (kiln_loss, kiln_grad) = kiln(&logits, &labels, cols);
            assert_close(&[loss], &[kiln_loss], 1e-6, 1e-5, "loss");
            assert_close(&grad, &kiln_grad, 1e-7, 1e-5, "dL/dlogits");
        }
    }

    /// Equal logits: the softmax is 1/3 everywhere and the loss is ln 3.
    #[test]
    fn by_hand() {
        let (loss, grad) = ch08::softmax_cross_entropy(&[0.0; 6], &[0, 2], 3);
        assert!((loss - 3f32.ln()).abs() < 1e-6, "{loss}");
        let (t, h) = (1.0 / 3.0, 0.5);
        let want = [(t - 1.0) * h, t * h, t * h, t * h, t * h, (t - 1.0) * h];
        assert_close(&grad, &want, 1e-7, 0.0, "dL/dlogits");
    }

    /// Logits in the thousands: the same loss and gradient as after subtracting 1000.
    #[test]
    fn is_stable_for_large_logits() {
        let small = [1.0, -2.0, 0.5, 3.0];
        let large: Vec<f32> = small.iter().map(|v| v + 1000.0).collect();
        let (loss, grad) = ch08::softmax_cross_entropy(&large, &[3], 4);
        let (want_loss, want_grad) = ch08::softmax_cross_entropy(&small, &[3], 4);
        assert!(loss.is_finite(), "loss {loss}");
        assert_close(&[loss], &[want_loss], 1e-5, 1e-4, "loss");
        assert_close(&grad, &want_grad, 1e-6, 1e-4, "dL/dlogits");
        let (loss, _) = ch08::softmax_cross_entropy(&[-1000.0, 1000.0], &[0], 2);
        assert_eq!(loss, 2000.0);
    }
}

/// Six steps of an update by your function and by kiln's in-place update, from the same
/// parameters and gradients; `state` buffers (momentum or moments) start at zero.
fn six_steps<const S: usize>(
    ours: impl Fn(&mut [f32], &[f32], &mut [Vec<f32>; S], u32),
    kiln: impl Fn(&Tensor, &Tensor, &[Tensor; S], u32),
    what: &str,
) {
    let len = 37;
    let start = random_f32(len, 1);
    let kp = Tensor::from_slice(&start, &[len]).unwrap();
    let mut p = start;
    let mut state: [Vec<f32>; S] = std::array::from_fn(|_| vec![0.0; len]);
    let kstate: [Tensor; S] = std::array::from_fn(|_| Tensor::zeros(&[len]));
    for step in 1..=6 {
        let g = random_f32(len, 10 + step as u64);
        ours(&mut p, &g, &mut state, step);
        kiln(&kp, &Tensor::from_slice(&g, &[len]).unwrap(), &kstate, step);
        assert_close(
            &p,
            &kp.to_vec().unwrap(),
            1e-7,
            1e-5,
            &format!("{what}, step {step}"),
        );
    }
}

mod sgd_step {
    use super::*;

    fn compare(hp: SgdStep) {
        let what = format!("{hp:?}");
        if hp.momentum == 0.0 {
            six_steps::<0>(
                |p, g, _, _| ch08::sgd_step(p, g, None, hp),
                |p, g, _, _| p.sgd_update_(g, None, &hp).expect("sgd"),
                &what,
            );
        } else {
            six_steps::<1>(
                |p, g, [v], _| ch08::sgd_step(p, g, Some(&mut v[..]), hp),
                |p, g, [v], _| p.sgd_update_(g, Some(v), &hp).expect("sgd"),
                &what,
            );
        }
    }

    #[test]
    fn matches_kiln() {
        let plain = SgdStep {
            lr: 0.1,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        };
        compare(plain);
        compare(SgdStep {
            weight_decay: 0.01,
            ..plain
        });
        compare(SgdStep {
            momentum: 0.9,
            ..plain
        });
        compare(SgdStep {
            momentum: 0.9,
            nesterov: true,
            ..plain
        });
        compare(SgdStep {
            momentum: 0.9,
            nesterov: true,
            weight_decay: 0.05,
            ..plain
        });
    }
}

mod adam_step {
    use super::*;

    fn compare(hp: AdamStep) {
        six_steps::<2>(
            |p, g, [m, v], step| ch08::adam_step(p, g, m, v, AdamStep { step, ..hp }),
            |p, g, [m, v], step| {
                p.adam_update_(g, m, v, &AdamStep { step, ..hp })
                    .expect("adam")
            },
            &format!("{hp:?}"),
        );
    }

    const ADAM: AdamStep = AdamStep {
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
        decoupled: false,
        step: 1,
    };

    #[test]
    fn matches_kiln_adam() {
        compare(ADAM);
        compare(AdamStep {
            weight_decay: 0.1,
            ..ADAM
        });
        compare(AdamStep {
            beta1: 0.5,
            beta2: 0.9,
            eps: 1e-3,
            ..ADAM
        });
    }

    /// AdamW: the decay applied to the weights, not added to the gradient.
    #[test]
    fn matches_kiln_adamw() {
        compare(AdamStep {
            weight_decay: 0.1,
            decoupled: true,
            ..ADAM
        });
        compare(AdamStep {
            weight_decay: 0.5,
            decoupled: true,
            lr: 0.1,
            ..ADAM
        });
    }
}
