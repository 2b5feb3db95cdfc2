//! kiln's optimizers against PyTorch's: four steps from one start and four gradients, each
//! configuration's result saved by `data/torch_optim.py`. The flags mean what PyTorch's do:
//! `SgdConfig::weight_decay` is `SGD(weight_decay)`, an L2 term added to the gradient; momentum
//! and Nesterov are `SGD(momentum, nesterov, dampening=0)`; `AdamConfig` with
//! `decoupled_weight_decay: false` is `Adam(weight_decay)` and with `true` is `AdamW`.

use kiln_nn::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig, StateDict};
use kiln_tensor::Tensor;
use std::path::PathBuf;

fn torch() -> StateDict {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/torch_optim.safetensors");
    StateDict::load(path).unwrap()
}

/// Four steps of the optimizer `make` builds, each from `L = Σ g_t ⊙ p` (so the gradient is
/// `g_t`), compared with PyTorch's parameter after the same steps.
fn check(name: &str, make: impl Fn(Vec<Tensor>) -> Box<dyn Optimizer>) {
    let dict = torch();
    let p = dict
        .tensor("start")
        .unwrap()
        .copy()
        .unwrap()
        .requires_grad();
    let grads = dict.tensor("grads").unwrap().to_vec().unwrap();
    let mut opt = make(vec![p.clone()]);
    for g in grads.chunks(7) {
        opt.zero_grad();
        let g = Tensor::from_slice(g, &[7]).unwrap();
        p.mul(&g).unwrap().sum_all().unwrap().backward().unwrap();
        opt.step().unwrap();
    }
    let got = p.to_vec().unwrap();
    let want = dict.tensor(name).unwrap().to_vec().unwrap();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-6 + 1e-5 * w.abs(),
            "{name}: element {i} is {g}, PyTorch has {w}"
        );
    }
    // The steps moved the parameter: a test of a no-op would pass the comparison above only if
    // PyTorch's had not moved either.
    let start = dict.tensor("start").unwrap().to_vec().unwrap();
    assert!(
        got.iter().zip(&start).any(|(g, s)| (g - s).abs() > 1e-3),
        "{name}: no step taken"
    );
}

fn sgd(config: SgdConfig) -> impl Fn(Vec<Tensor>) -> Box<dyn Optimizer> {
    move |params| Box::new(Sgd::new(params, config).unwrap())
}

fn adam(config: AdamConfig) -> impl Fn(Vec<Tensor>) -> Box<dyn Optimizer> {
    move |params| Box::new(Adam::new(params, config).unwrap())
}

#[test]
fn sgd_matches_pytorch() {
    let plain = SgdConfig {
        lr: 0.1,
        ..SgdConfig::default()
    };
    check("sgd_plain", sgd(plain));
    let momentum = SgdConfig {
        momentum: 0.9,
        weight_decay: 0.01,
        ..plain
    };
    check("sgd_momentum_l2", sgd(momentum));
    check(
        "sgd_nesterov_l2",
        sgd(SgdConfig {
            nesterov: true,
            ..momentum
        }),
    );
}

#[test]
fn adam_and_adamw_match_pytorch() {
    let base = AdamConfig {
        weight_decay: 0.1,
        ..AdamConfig::default().lr(0.01)
    };
    check(
        "adam_l2",
        adam(AdamConfig {
            decoupled_weight_decay: false,
            ..base
        }),
    );
    check(
        "adamw",
        adam(AdamConfig {
            decoupled_weight_decay: true,
            ..base
        }),
    );
}
