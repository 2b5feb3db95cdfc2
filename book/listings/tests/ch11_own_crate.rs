//! Chapter 11: what a crate that depends on kiln writes.

// ANCHOR: main
use kiln::prelude::*; // tensors, layers, losses, optimizers, the loader

#[test]
fn a_program_that_uses_kiln() -> kiln::Result<()> {
    // KILN_DEVICE=auto|gpu|cpu picks the device; auto takes a hardware GPU, else the CPU.
    let device = default_device()?;
    let mut model = Sequential::new()
        .with(Linear::new(4, 16, LayerInit::default(), 0)?)
        .with(ReLU)
        .with(Linear::new(16, 3, LayerInit::default(), 1)?);
    model.to_device(device)?;
    let mut adam = Adam::new(model.parameters(), AdamConfig::default())?;

    let x = Tensor::rand_normal(&[8, 4], 0.0, 1.0, 42).to_device(device)?;
    let labels = [0, 1, 2, 0, 1, 2, 0, 1];
    let mut losses = Vec::new();
    for _ in 0..20 {
        adam.zero_grad();
        let loss = cross_entropy(&model.forward(&x)?, &labels)?;
        loss.backward()?;
        adam.step()?;
        losses.push(loss.item()?); // the one read-back of the step
    }
    assert!(losses[19] < losses[0]);
    Ok(())
}
// ANCHOR_END: main

// ANCHOR: custom_module
use kiln::nn::TensorRole;
use kiln::tensor::Result;
use std::sync::atomic::AtomicU64;

/// `x + inner(x)`: a residual block, written outside kiln. Delegating `visit_tensors`,
/// `map_tensors`, `visit_counters` and `set_training` is what makes its parameters visible to
/// optimizers, checkpoints and `to_device`, its counters to checkpoints, and its mode follow
/// `train()` / `eval()`.
struct Residual<M: Module>(M);

impl<M: Module> Module for Residual<M> {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.add(&self.0.forward(x)?)
    }
    fn visit_tensors(&self, f: &mut dyn FnMut(&str, &Tensor, TensorRole)) {
        self.0
            .visit_tensors(&mut |name, t, role| f(&format!("inner.{name}"), t, role));
    }
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.0.map_tensors(f)
    }
    fn visit_counters(&self, f: &mut dyn FnMut(&str, &AtomicU64)) {
        self.0
            .visit_counters(&mut |name, c| f(&format!("inner.{name}"), c));
    }
    fn set_training(&mut self, training: bool) {
        self.0.set_training(training);
    }
}

#[test]
fn a_module_of_your_own() -> Result<()> {
    let block = Residual(Linear::new(3, 3, LayerInit::default(), 7)?);
    let names: Vec<String> = block
        .named_parameters()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["inner.weight", "inner.bias"]);
    let model = Sequential::new().with(block).with(ReLU);
    let y = model.forward(&Tensor::ones(&[2, 3]))?;
    y.sum_all()?.backward()?;
    assert!(model.parameters().iter().all(|p| p.grad().is_some()));
    Ok(())
}
// ANCHOR_END: custom_module
