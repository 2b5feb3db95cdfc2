//! Optimizers on a scalar parameter, against updates computed by hand.
//!
//! The loss is `0.5 * p²` (gradient `p`) or `0 * p` (gradient 0, to isolate weight decay).

use kiln_nn::{Adam, AdamConfig, LayerInit, Linear, Module, Optimizer, Sequential, Sgd, SgdConfig};
use kiln_tensor::{Device, Tensor};

fn scalar_param(value: f32) -> Tensor {
    Tensor::from_vec(vec![value], &[1]).unwrap().requires_grad()
}

/// Runs `steps` steps of `opt` on `p`, with gradient `p * grad_scale`, returning `p` after each.
fn run(opt: &mut dyn Optimizer, p: &Tensor, grad_scale: f32, steps: usize) -> Vec<f32> {
    (0..steps)
        .map(|_| {
            opt.zero_grad();
            let loss = p.mul(p).unwrap().mul_scalar(0.5 * grad_scale).unwrap();
            loss.sum_all().unwrap().backward().unwrap();
            opt.step().unwrap();
            p.item().unwrap()
        })
        .collect()
}

fn assert_trajectory(actual: &[f32], expected: &[f64]) {
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (*a as f64 - e).abs() < 1e-6,
            "step {}: got {a}, expected {e}",
            i + 1
        );
    }
}

#[test]
fn adam_first_steps_match_hand_computed_updates() {
    // t=1: m = 0.1, v = 0.001, m̂ = v̂ = 1: p = 1 - 0.1 = 0.9.
    // t=2: g = 0.9, m = 0.18, v = 0.001809, m̂ = 0.18/0.19, v̂ = 0.001809/0.001999: p = 0.80041.
    let p = scalar_param(1.0);
    let config = AdamConfig::default().lr(0.1);
    let mut adam = Adam::new(vec![p.clone()], config).unwrap();
    let expected = [0.900000001, 0.8004122297123382, 0.701586274504415];
    assert_trajectory(&run(&mut adam, &p, 1.0, 3), &expected);
}

#[test]
fn adam_l2_decay_goes_through_the_moments_and_adamw_decays_the_weight() {
    // Zero loss gradient, p0 = 2, lr = 0.1, decay 0.5.
    // Adam: g = 0.5 p enters m and v: 1.9, then 1.80017.
    let config = AdamConfig {
        lr: 0.1,
        weight_decay: 0.5,
        ..AdamConfig::default()
    };
    let p = scalar_param(2.0);
    let mut adam = Adam::new(vec![p.clone()], config).unwrap();
    assert_trajectory(
        &run(&mut adam, &p, 0.0, 2),
        &[1.900000001, 1.8001664876318761],
    );
    // AdamW: m = v = 0, so only p -= lr * wd * p acts: 2 * 0.95, then 2 * 0.95².
    let p = scalar_param(2.0);
    let mut adamw = Adam::new(
        vec![p.clone()],
        AdamConfig {
            decoupled_weight_decay: true,
            ..config
        },
    )
    .unwrap();
    assert_trajectory(&run(&mut adamw, &p, 0.0, 2), &[1.9, 1.805]);
    let defaults = AdamConfig::adamw();
    assert!(defaults.decoupled_weight_decay && defaults.weight_decay == 1e-2);
}

#[test]
fn sgd_with_momentum_matches_hand_computed_updates() {
    // v = 0.9 v + g, p -= 0.1 v: v = 1, 1.8, 2.34; p = 0.9, 0.72, 0.486.
    let p = scalar_param(1.0);
    let config = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..SgdConfig::default()
    };
    let mut sgd = Sgd::new(vec![p.clone()], config).unwrap();
    assert_trajectory(&run(&mut sgd, &p, 1.0, 3), &[0.9, 0.72, 0.486]);
}

#[test]
fn sgd_with_nesterov_matches_hand_computed_updates() {
    // v = 0.9 v + g, p -= 0.1 (g + 0.9 v):
    // t=1: g = 1, v = 1, p = 1 - 0.19 = 0.81.
    // t=2: g = 0.81, v = 1.71, p = 0.81 - 0.1 (0.81 + 1.539) = 0.5751.
    let p = scalar_param(1.0);
    let config = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        nesterov: true,
        ..SgdConfig::default()
    };
    let mut sgd = Sgd::new(vec![p.clone()], config).unwrap();
    assert_trajectory(&run(&mut sgd, &p, 1.0, 2), &[0.81, 0.5751]);
    assert!(Sgd::new(
        vec![],
        SgdConfig {
            momentum: 0.0,
            ..config
        }
    )
    .is_err());
}

#[test]
fn plain_sgd_with_weight_decay_and_a_learning_rate_schedule() {
    // g = 0 + 0.5 p: p = 2 - 0.1 * 1 = 1.9, then at lr 0.2: 1.9 - 0.2 * 0.95 = 1.71.
    let p = scalar_param(2.0);
    let config = SgdConfig {
        lr: 0.1,
        weight_decay: 0.5,
        ..SgdConfig::default()
    };
    let mut sgd = Sgd::new(vec![p.clone()], config).unwrap();
    assert_trajectory(&run(&mut sgd, &p, 0.0, 1), &[1.9]);
    sgd.set_learning_rate(0.2);
    assert_eq!(sgd.learning_rate(), 0.2);
    assert_trajectory(&run(&mut sgd, &p, 0.0, 1), &[1.71]);
}

#[test]
fn parameters_without_a_gradient_are_left_alone() {
    let (used, unused) = (scalar_param(1.0), scalar_param(5.0));
    let mut adam = Adam::new(vec![used.clone(), unused.clone()], AdamConfig::default()).unwrap();
    used.mul_scalar(3.0)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    adam.step().unwrap();
    assert_ne!(used.item().unwrap(), 1.0);
    assert_eq!(unused.item().unwrap(), 5.0);
    adam.zero_grad();
    assert!(used.grad().is_none());
}

#[test]
fn negative_and_non_finite_hyper_parameters_are_refused() {
    let sgd = SgdConfig::default();
    for lr in [-0.1, f32::NAN, f32::INFINITY] {
        let err = Sgd::new(vec![], SgdConfig { lr, ..sgd }).unwrap_err();
        assert!(err.to_string().contains("finite and >= 0"), "{err}");
        assert!(
            Adam::new(vec![], AdamConfig::default().lr(lr)).is_err(),
            "{lr}"
        );
    }
    for momentum in [-0.5, f32::NAN] {
        assert!(Sgd::new(vec![], SgdConfig { momentum, ..sgd }).is_err());
    }
    for weight_decay in [-1e-4, f32::NAN] {
        assert!(Sgd::new(
            vec![],
            SgdConfig {
                weight_decay,
                ..sgd
            }
        )
        .is_err());
    }
    for eps in [-1e-8, f32::NAN] {
        let config = AdamConfig {
            eps,
            ..AdamConfig::default()
        };
        assert!(Adam::new(vec![], config).is_err(), "{eps}");
    }
}

#[test]
fn a_step_when_no_parameter_has_a_gradient_is_refused() {
    let p = scalar_param(1.0);
    let mut sgd = Sgd::new(vec![p.clone()], SgdConfig::default()).unwrap();
    let mut adam = Adam::new(vec![p.clone()], AdamConfig::default()).unwrap();
    for (name, opt) in [("Sgd", &mut sgd as &mut dyn Optimizer), ("Adam", &mut adam)] {
        let err = opt.step().unwrap_err().to_string();
        assert!(
            err.contains(name) && err.contains("has a gradient"),
            "{err}"
        );
    }
    assert_eq!(p.item().unwrap(), 1.0);
    // The usual cause: an optimizer built before its module moved to the GPU holds the CPU
    // tensors the move replaced, which never get a gradient.
    if kiln_tensor::test_util::gpu_or_skip().is_none() {
        return;
    }
    let mut model = Sequential::new().with(Linear::new(2, 1, LayerInit::torch(), 0).unwrap());
    let mut early = Sgd::new(model.parameters(), SgdConfig::default()).unwrap();
    model.to_device(Device::Gpu).unwrap();
    let x = Tensor::ones(&[3, 2]).to_device(Device::Gpu).unwrap();
    model
        .forward(&x)
        .and_then(|y| y.sum_all())
        .and_then(|loss| loss.backward())
        .unwrap();
    assert!(early.step().is_err(), "a step on the replaced tensors");
}
