//! Tensors with reverse-mode autograd for kiln.
//!
//! A [`Tensor`] is an n-dimensional array of `f32` (or `f64` on the CPU, for gradient checks)
//! in contiguous row-major storage, living on a [`Device`]. Operations return `Result`: shape,
//! device and dtype mistakes are reported as an [`Error`] naming the operation and the shapes
//! involved, before any kernel runs.
//!
//! Every operation calls one kernel interface, private to this crate and implemented twice: the
//! CPU reference (plain loops generic over `f32`/`f64`, with a real GEMM) and the WGSL kernels
//! on the GPU, each GPU kernel tested against its CPU reference. Autograd is define-by-run: operations on tensors that
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
mod cpu;
mod device;
mod error;
pub mod gpu;
pub mod gradcheck;
#[cfg(test)]
mod kernel_tests;
mod kernels;
#[cfg(test)]
mod memory_tests;
mod ops;
pub mod random;
mod read_async;
mod shape;
mod storage;
mod tensor;
#[cfg(any(test, feature = "test-util"))]
pub mod test_util;

pub use autograd::{is_grad_enabled, no_grad, NoGradGuard};
pub use device::Device;
pub use error::{Error, Result};
pub use gpu::{
    default_device, matmul_precision, subgroup_reductions, with_matmul_precision,
    with_subgroup_reductions, DeviceChoice, MatmulPrecision,
};
pub(crate) use kernels::Kernels;
pub use kernels::{AdamStep, Conv2dDims, SgdStep};
pub use ops::activation::Gelu;
pub use ops::batch_norm::BatchStats;
pub use ops::conv::{Conv2dOptions, Padding};
pub use ops::pooling::Pool2dOptions;
pub use shape::Shape;
pub use storage::DType;
pub(crate) use storage::Storage;
pub use tensor::Tensor;
