//! Layers, initializers and losses for kiln.
//!
//! - [`Module`]: forward, named parameters and buffers in a stable order, train/eval mode,
//!   `to_device`; [`Sequential`] chains modules and names their tensors `0.weight`, `1.bias`...
//! - Layers ([`layers`]): [`Linear`], [`Conv2d`], [`BatchNorm1d`], [`BatchNorm2d`], [`ReLU`],
//!   [`Sigmoid`], [`Tanh`], [`Dropout`], [`Flatten`]. Layout NCHW; weights in PyTorch's layout
//!   (`[out, in]`, `[out, in, kh, kw]`).
//! - Initializers ([`init`]): Glorot uniform, Kaiming uniform, zeros, ones; seeded.
//! - Losses ([`loss`]): softmax cross-entropy from logits, mean squared error; [`accuracy`].
//!
//! Parameters are created on the CPU from a seed and moved with [`Module::to_device`].

#![warn(missing_docs)]

pub mod init;
mod inplace;
pub mod layers;
pub mod loss;
pub mod metrics;
mod module;
mod sequential;

pub use init::{Fans, Init, LayerInit};
pub use layers::{
    BatchNorm, BatchNorm1d, BatchNorm2d, BatchNormConfig, Conv2d, Dropout, Flatten, Linear,
    Momentum, ReLU, Sigmoid, Tanh,
};
pub use loss::{cross_entropy, mse};
pub use metrics::accuracy;
pub use module::{Module, TensorRole};
pub use sequential::Sequential;
