//! kiln: a from-scratch deep-learning micro-framework.
//!
//! This facade re-exports the three crates: [`tensor`] (tensors, autograd, CPU and GPU
//! kernels), [`nn`] (layers, losses, optimizers, checkpoints) and [`data`] (CIFAR-10 and the
//! loader). `use kiln::prelude::*` brings the everyday names into scope; it exports no name
//! that shadows the standard library's (no `Result`, no `Error`).
//!
//! Errors: each crate has its own (`kiln::tensor::Error`, `kiln::nn::CheckpointError`,
//! `kiln::data::DataError`). [`kiln::Error`](Error) holds any of them, so `?` works in a function
//! returning [`kiln::Result`](Result), and all are `std::error::Error`, so `?` works as well in
//! one returning `Box<dyn std::error::Error>` or `anyhow::Result`:
//!
//! ```
//! use kiln::prelude::*;
//!
//! fn train_and_save(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
//!     let net = Sequential::new().with(Linear::new(2, 2, LayerInit::default(), 0)?);
//!     let y = net.forward(&Tensor::ones(&[1, 2]))?; // kiln::tensor::Error
//!     assert_eq!(y.dims(), &[1, 2]);
//!     checkpoint::save(path, &net, None)?; // kiln::nn::CheckpointError
//!     Ok(())
//! }
//!
//! fn load(path: &std::path::Path) -> kiln::Result<Sequential> {
//!     let net = Sequential::new().with(Linear::new(2, 2, LayerInit::default(), 1)?);
//!     checkpoint::load(path, &net, None)?;
//!     Ok(net)
//! }
//!
//! let path = std::env::temp_dir().join(format!("kiln-facade-{}.safetensors", std::process::id()));
//! train_and_save(&path).unwrap();
//! assert!(load(&path).is_ok());
//! assert!(matches!(
//!     load(&path.with_extension("missing")),
//!     Err(kiln::Error::Checkpoint(_))
//! ));
//! # std::fs::remove_file(&path).unwrap();
//! ```
//!
//! A two-layer perceptron by hand: forward, backward, and the gradients.
//!
//! ```
//! use kiln::prelude::*;
//!
//! # fn main() -> kiln::tensor::Result<()> {
//! // A batch of 4 inputs with 3 features, and integer class labels.
//! let x = Tensor::rand_uniform(&[4, 3], -1.0, 1.0, 0);
//! let labels = [0, 1, 1, 0];
//!
//! // Parameters are leaves that require grad. Weights are [out, in].
//! let w1 = Tensor::rand_normal(&[8, 3], 0.0, 0.5, 1).requires_grad();
//! let b1 = Tensor::zeros(&[8]).requires_grad();
//! let w2 = Tensor::rand_normal(&[2, 8], 0.0, 0.5, 2).requires_grad();
//! let b2 = Tensor::zeros(&[2]).requires_grad();
//!
//! // x · w1ᵀ + b1 -> relu -> · w2ᵀ + b2 -> mean cross-entropy.
//! let hidden = x.matmul(&w1.t())?.add(&b1)?.relu()?;
//! let logits = hidden.matmul(&w2.t())?.add(&b2)?;
//! let loss = logits.softmax_cross_entropy(&labels)?;
//! loss.backward()?;
//!
//! let g = w1.grad().expect("w1 requires grad");
//! assert_eq!(g.dims(), &[8, 3]);
//! assert_eq!(b2.grad().unwrap().dims(), &[2]);
//! // The gradient of the mean loss with respect to the output bias sums to zero over classes.
//! let gb2 = b2.grad().unwrap().to_vec()?;
//! assert!((gb2[0] + gb2[1]).abs() < 1e-6);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub use kiln_data as data;
pub use kiln_nn as nn;
pub use kiln_tensor as tensor;

/// Any error of kiln's crates; `?` converts each crate's error into it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tensor operation failed (shapes, devices, the GPU).
    #[error(transparent)]
    Tensor(#[from] kiln_tensor::Error),
    /// A checkpoint could not be saved or loaded.
    #[error(transparent)]
    Checkpoint(#[from] kiln_nn::CheckpointError),
    /// A dataset could not be read, written or downloaded.
    #[error(transparent)]
    Data(#[from] kiln_data::DataError),
}

/// `Result` with [`Error`] as its default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The names most programs need: tensors, layers, losses, optimizers and the data loader.
///
/// Every layer is among them, so that a current CNN needs nothing else:
///
/// ```
/// use kiln::prelude::*;
///
/// # fn main() -> kiln::tensor::Result<()> {
/// let init = LayerInit::default();
/// let block = Sequential::new()
///     .with(Conv2d::new(4, 4, (1, 1), init, 1)?)
///     .with(BatchNorm2d::new(4, BatchNormConfig::default())?)
///     .with(GELU(Gelu::Erf));
/// let net = Sequential::new()
///     .with(Conv2d::new(3, 4, (1, 1), init, 0)?)
///     .with(Residual::new(block))
///     .with(MaxPool2d(Pool2dOptions::window(2)))
///     .with(AvgPool2d(Pool2dOptions::window(1)))
///     .with(LayerNorm::new(&[4, 2, 2], 1e-5, true)?)
///     .with(GlobalMaxPool)
///     .with(Linear::new(4, 3, init, 2)?)
///     .with(Clamp { low: -5.0, high: 5.0 })
///     .with(LeakyReLU::default())
///     .with(Scale(0.5));
/// let logits = net.forward(&Tensor::rand_uniform(&[2, 3, 4, 4], 0.0, 1.0, 3))?;
/// cross_entropy_smoothed(&logits, &[0, 2], 0.1)?.backward()?;
/// assert_eq!(logits.dims(), &[2, 3]);
/// # let _ = (GlobalAvgPool, SiLU);
/// # Ok(())
/// # }
/// ```
pub mod prelude {
    pub use kiln_data::{Cifar10, DataLoader, DataSource, LoaderConfig, Transform, Transforms};
    pub use kiln_nn::{
        accuracy, checkpoint, cross_entropy, cross_entropy_smoothed, mse, Adam, AdamConfig,
        AvgPool2d, BatchNorm1d, BatchNorm2d, BatchNormConfig, Clamp, Conv2d, Dropout, Flatten,
        GlobalAvgPool, GlobalMaxPool, LayerInit, LayerNorm, LeakyReLU, Linear, MaxPool2d, Module,
        Momentum, Optimizer, ReLU, Residual, Scale, Sequential, Sgd, SgdConfig, SiLU, Sigmoid,
        Tanh, GELU,
    };
    pub use kiln_tensor::{
        default_device, no_grad, Conv2dOptions, Device, DeviceChoice, Gelu, Padding, Pool2dOptions,
        Shape, Tensor,
    };
}
