//! Layers, losses, optimizers and checkpoints for kiln.
//!
//! - [`Module`]: forward, named parameters and buffers in a stable order, train/eval mode,
//!   `to_device`; [`Sequential`] chains modules and names their tensors `0.weight`, `1.bias`...
//! - Layers ([`layers`]): [`Linear`], [`Conv2d`], [`BatchNorm1d`], [`BatchNorm2d`],
//!   [`LayerNorm`], [`MaxPool2d`], [`AvgPool2d`], [`GlobalAvgPool`], [`GlobalMaxPool`],
//!   [`ReLU`], [`Sigmoid`], [`Tanh`], [`GELU`], [`SiLU`], [`LeakyReLU`], [`Clamp`],
//!   [`Dropout`], [`Flatten`], and [`Residual`] (`x + inner(x)`). Layout NCHW; weights in
//!   PyTorch's layout (`[out, in]`, `[out, in, kh, kw]`).
//! - Initializers ([`init`]): Glorot uniform, Kaiming uniform, zeros, ones; seeded.
//! - Losses ([`loss`]): softmax cross-entropy from logits, mean squared error; [`accuracy`].
//! - Optimizers ([`optim`]): [`Sgd`] and [`Adam`]/AdamW, updating in place on the parameters'
//!   device through the fused kernels.
//! - Checkpoints ([`checkpoint`]): parameters, buffers and optimizer state in safetensors.
//!
//! Parameters are created on the CPU from a seed and moved with [`Module::to_device`].
//!
//! # Example: a CIFAR-10 network with batch norm
//!
//! A batch norm at the input of every layer; batch norm with `eps = 1e-3` and TensorFlow's
//! momentum 0.75, Glorot-uniform weights and zero biases, trained with Adam at `lr = 1e-3`.
//! Input `[batch, 3, 32, 32]`; the convolutions give `[batch, 30, 15, 15]`,
//! `[batch, 50, 13, 13]` and `[batch, 60, 11, 11]`, flattened to `[batch, 7260]`. The network
//! of the experiment is `cifar_net(3500, 700)`; the example builds narrower dense layers to run
//! fast.
//!
//! ```
//! use kiln_nn::{
//!     checkpoint, cross_entropy, Adam, AdamConfig, BatchNorm1d, BatchNorm2d, BatchNormConfig,
//!     Conv2d, Flatten, LayerInit, Linear, Module, Momentum, Optimizer, ReLU, Sequential,
//! };
//! use kiln_tensor::{no_grad, Device, Tensor};
//!
//! fn cifar_net(h1: usize, h2: usize) -> kiln_tensor::Result<Sequential> {
//!     let bn = BatchNormConfig { eps: 1e-3, momentum: Momentum::TensorFlow(0.75), affine: true };
//!     let init = LayerInit::tensorflow(); // Glorot-uniform weights, zero biases
//!     Ok(Sequential::new()
//!         .with(BatchNorm2d::new(3, bn)?)
//!         .with(Conv2d::new(3, 30, (3, 3), init, 1)?.stride(2))
//!         .with(ReLU)
//!         .with(BatchNorm2d::new(30, bn)?)
//!         .with(Conv2d::new(30, 50, (3, 3), init, 2)?)
//!         .with(ReLU)
//!         .with(BatchNorm2d::new(50, bn)?)
//!         .with(Conv2d::new(50, 60, (3, 3), init, 3)?)
//!         .with(ReLU)
//!         .with(Flatten)
//!         .with(BatchNorm1d::new(7260, bn)?)
//!         .with(Linear::new(7260, h1, init, 4)?)
//!         .with(ReLU)
//!         .with(BatchNorm1d::new(h1, bn)?)
//!         .with(Linear::new(h1, h2, init, 5)?)
//!         .with(ReLU)
//!         .with(BatchNorm1d::new(h2, bn)?)
//!         .with(Linear::new(h2, 10, init, 6)?))
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut net = cifar_net(64, 32)?;
//! net.to_device(Device::Cpu)?; // or Device::Gpu
//! let mut adam = Adam::new(net.parameters(), AdamConfig::default().lr(1e-3))?;
//! assert_eq!(net.named_parameters()[0].0, "0.weight");
//!
//! // One training step on a batch of 4 images.
//! let images = Tensor::rand_uniform(&[4, 3, 32, 32], 0.0, 1.0, 7);
//! let labels = [3, 1, 4, 1];
//! net.train();
//! adam.zero_grad();
//! let loss = cross_entropy(&net.forward(&images)?, &labels)?;
//! loss.backward()?;
//! adam.step()?;
//!
//! // Evaluation uses the running statistics and records no graph.
//! net.eval();
//! let logits = no_grad(|| net.forward(&images))?;
//! assert_eq!(logits.dims(), &[4, 10]);
//!
//! // Save, then load into a fresh network: identical outputs.
//! let path = std::env::temp_dir().join(format!("kiln-doc-{}.safetensors", std::process::id()));
//! checkpoint::save(&path, &net, Some(&adam))?;
//! let mut restored = cifar_net(64, 32)?;
//! let mut restored_adam = Adam::new(restored.parameters(), AdamConfig::default())?;
//! checkpoint::load(&path, &restored, Some(&mut restored_adam))?;
//! restored.eval();
//! let again = no_grad(|| restored.forward(&images))?;
//! assert_eq!(again.to_vec()?, logits.to_vec()?);
//! # std::fs::remove_file(&path)?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod checkpoint;
mod durable;
pub mod init;
mod inplace;
pub mod layers;
pub mod loss;
pub mod metrics;
mod module;
pub mod optim;
pub mod schedule;
mod sequential;
mod state_dict;

pub use checkpoint::{CheckpointError, StateDict};
pub use init::{Fans, Init, LayerInit};
pub use layers::{
    AvgPool2d, BatchNorm, BatchNorm1d, BatchNorm2d, BatchNormConfig, Clamp, Conv2d, Dropout,
    Flatten, GlobalAvgPool, GlobalMaxPool, LayerNorm, LeakyReLU, Linear, MaxPool2d, Momentum, ReLU,
    Residual, Scale, SiLU, Sigmoid, Tanh, GELU,
};
pub use loss::{cross_entropy, cross_entropy_smoothed, mse};
pub use metrics::{accuracy, accuracy_async};
pub use module::{Module, TensorRole};
pub use optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
pub use schedule::{Schedule, Scheduler};
pub use sequential::Sequential;
