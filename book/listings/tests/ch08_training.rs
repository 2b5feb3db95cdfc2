//! Chapter 8: the loss gradient and an optimizer step by hand, then a whole training loop.

use kiln::nn::{
    accuracy, cross_entropy, Adam, AdamConfig, BatchNorm1d, BatchNormConfig, LayerInit, Linear,
    Module, Optimizer, ReLU, Sequential, Sgd, SgdConfig,
};
use kiln::prelude::*;
use kiln::tensor::Result;

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
}

// ANCHOR: cross_entropy
#[test]
fn cross_entropy_gradient_is_softmax_minus_onehot_over_n() -> Result<()> {
    // Two rows of equal logits: softmax is 1/3 everywhere, the loss is ln 3.
    let logits = Tensor::zeros(&[2, 3]).requires_grad();
    let loss = cross_entropy(&logits, &[0, 2])?;
    assert!((loss.item()? - 3f32.ln()).abs() < 1e-6);
    loss.backward()?;
    let third = 1.0 / 3.0;
    let expected = [
        (third - 1.0) / 2.0,
        third / 2.0,
        third / 2.0, // label 0
        third / 2.0,
        third / 2.0,
        (third - 1.0) / 2.0, // label 2
    ];
    assert!(close(&logits.grad().unwrap().to_vec()?, &expected));
    Ok(())
}
// ANCHOR_END: cross_entropy

// ANCHOR: sgd
#[test]
fn sgd_with_momentum_by_hand() -> Result<()> {
    let p = Tensor::from_vec(vec![1.0], &[1])?.requires_grad();
    let config = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..SgdConfig::default()
    };
    let mut sgd = Sgd::new(vec![p.clone()], config)?;
    for expected in [0.95, 0.855] {
        sgd.zero_grad();
        p.mul_scalar(0.5)?.sum_all()?.backward()?; // gradient 0.5
        sgd.step()?; // v = 0.9 v + g; p -= 0.1 v: v = 0.5, then 0.95
        assert!(close(&p.to_vec()?, &[expected]));
    }
    Ok(())
}
// ANCHOR_END: sgd

/// Two interleaved half-moons of `n` points each, with deterministic jitter.
fn moons(n: usize) -> (Tensor, Vec<u32>) {
    let mut points = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        let t = std::f32::consts::PI * i as f32 / (n - 1) as f32;
        let jitter = 0.05 * ((i * 37 % 11) as f32 / 5.0 - 1.0);
        points.extend([t.cos() + jitter, t.sin() - jitter]);
        points.extend([1.0 - t.cos() - jitter, 0.5 - t.sin() + jitter]);
        labels.extend([0, 1]);
    }
    (Tensor::from_vec(points, &[2 * n, 2]).unwrap(), labels)
}

// ANCHOR: training_loop
#[test]
fn a_training_loop() -> Result<()> {
    let (x, labels) = moons(100);
    let init = LayerInit::torch();
    let mut model = Sequential::new()
        .with(Linear::new(2, 32, init, 1)?)
        .with(BatchNorm1d::new(32, BatchNormConfig::default())?)
        .with(ReLU)
        .with(Linear::new(32, 2, init, 2)?);
    model.to_device(Device::Cpu)?; // build the optimizer after moving the model
    let mut adam = Adam::new(model.parameters(), AdamConfig::default().lr(0.05))?;
    for _ in 0..200 {
        adam.zero_grad(); // gradients accumulate: clear them every step
        let loss = cross_entropy(&model.forward(&x)?, &labels)?;
        loss.backward()?;
        adam.step()?;
    }
    model.eval(); // batch norm switches to its running statistics
    let logits = no_grad(|| model.forward(&x))?;
    let acc = accuracy(&logits, &labels)?;
    assert!(acc > 0.95, "accuracy {acc}");
    Ok(())
}
// ANCHOR_END: training_loop
