//! Tensors with reverse-mode autograd for kiln.
//!
//! A [`Tensor`] is an n-dimensional array of `f32` (or `f64` on the CPU, for gradient checks)
//! in contiguous row-major storage, living on a [`Device`]. Operations return `Result`: shape,
//! device and dtype mistakes are reported as an [`Error`] naming the operation and the shapes
//! involved, before any kernel runs.
//!
//! Every operation calls the [`Kernels`] interface, implemented twice: the CPU reference in
//! [`cpu`] and the WGSL kernels on the GPU. Autograd is define-by-run: operations on tensors that
//! track gradients record how to propagate them, and [`Tensor::backward`] walks that record once
//! in reverse topological order.
//!
//! ```
//! use kiln_tensor::{Tensor, Result};
//! # fn main() -> Result<()> {
//! let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2])?;
//! let w = Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.0], &[2, 2])?.requires_grad();
//! let loss = x.matmul(&w)?.relu()?.sum_all()?;
//! loss.backward()?;
//! let gw = w.grad().expect("w tracks gradients");
//! assert_eq!(gw.to_vec()?, vec![4.0, 0.0, 6.0, 0.0]);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod autograd;
pub mod cpu;
mod device;
mod error;
pub mod gpu;
pub mod gradcheck;
pub mod kernels;
mod ops;
mod read_async;
mod shape;
mod storage;
mod tensor;
#[cfg(any(test, feature = "test-util"))]
pub mod test_util;

pub use autograd::{is_grad_enabled, no_grad, NoGradGuard};
pub use device::Device;
pub use error::{Error, Result};
pub use gpu::default_device;
pub use kernels::{AdamStep, Kernels, SgdStep};
pub use ops::batch_norm::BatchStats;
pub use ops::conv::{Conv2dOptions, Padding};
pub use shape::Shape;
pub use storage::{DType, Storage};
pub use tensor::Tensor;
