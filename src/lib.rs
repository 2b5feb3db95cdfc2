//! kiln: a from-scratch deep-learning micro-framework.
//!
//! This facade re-exports the three crates: [`tensor`] (tensors, autograd, CPU and GPU
//! kernels), [`nn`] (layers, losses, optimizers, checkpoints) and [`data`] (CIFAR-10 and the
//! loader). `use kiln::prelude::*` brings the everyday names into scope.

pub use kiln_data as data;
pub use kiln_nn as nn;
pub use kiln_tensor as tensor;

/// The names most programs need.
pub mod prelude {
    pub use kiln_tensor::{no_grad, Device, Error, Result, Shape, Tensor};
}
