//! The layers: dense, convolution, batch norm, activations, dropout and flatten.

mod activation;
mod batch_norm;
mod conv;
mod dropout;
mod flatten;
mod linear;

pub use activation::{ReLU, Sigmoid, Tanh};
pub use batch_norm::{BatchNorm, BatchNorm1d, BatchNorm2d, BatchNormConfig, Momentum};
pub use conv::Conv2d;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use linear::Linear;

use crate::module::TensorRole;
use kiln_tensor::{Result, Tensor};

/// The trainable tensors of a dense or convolution layer: a weight `[out, ...]` and an
/// optional bias `[out]`, named `weight` and `bias`.
#[derive(Debug)]
pub(crate) struct WeightBias {
    pub(crate) weight: Tensor,
    pub(crate) bias: Option<Tensor>,
}

impl WeightBias {
    /// [`crate::Module::visit_tensors`] for these two.
    fn visit(&self, f: &mut dyn FnMut(&str, &Tensor, TensorRole)) {
        f("weight", &self.weight, TensorRole::Parameter);
        if let Some(b) = &self.bias {
            f("bias", b, TensorRole::Parameter);
        }
    }

    /// [`crate::Module::map_tensors`] for these two.
    fn map(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.weight = f(&self.weight)?;
        if let Some(b) = &mut self.bias {
            *b = f(b)?;
        }
        Ok(())
    }
}
