//! The layers: dense, convolution, batch and layer norm, pooling, activations, dropout,
//! flatten, and the residual wrapper.

/// `stateless_module!(Type, |self_name, x| forward)`: implements [`crate::Module`] for a module
/// without tensors or mode, whose forward is the given expression of `self_name` (the module)
/// and `x` (the input).
macro_rules! stateless_module {
    ($name:ty, |$s:ident, $x:ident| $forward:expr) => {
        impl $crate::module::Module for $name {
            fn forward(
                &self,
                $x: &kiln_tensor::Tensor,
            ) -> kiln_tensor::Result<kiln_tensor::Tensor> {
                let $s = self;
                $forward
            }

            fn visit_tensors(
                &self,
                _: &mut dyn FnMut(&str, &kiln_tensor::Tensor, $crate::module::TensorRole),
            ) {
            }

            fn map_tensors(
                &mut self,
                _: &mut dyn FnMut(&kiln_tensor::Tensor) -> kiln_tensor::Result<kiln_tensor::Tensor>,
            ) -> kiln_tensor::Result<()> {
                Ok(())
            }

            fn visit_counters(&self, _: &mut dyn FnMut(&str, &std::sync::atomic::AtomicU64)) {}

            fn set_training(&mut self, _: bool) {}
        }
    };
}

mod activation;
mod batch_norm;
mod conv;
mod dropout;
mod flatten;
mod layer_norm;
mod linear;
mod pooling;
mod residual;
mod scale;

pub use activation::{Clamp, LeakyReLU, ReLU, SiLU, Sigmoid, Tanh, GELU};
pub use batch_norm::{BatchNorm, BatchNorm1d, BatchNorm2d, BatchNormConfig, Momentum};
pub use conv::Conv2d;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use layer_norm::LayerNorm;
pub use linear::Linear;
pub use pooling::{AvgPool2d, GlobalAvgPool, GlobalMaxPool, MaxPool2d};
pub use residual::Residual;
pub use scale::Scale;

use kiln_tensor::{Error, Result};

/// Checks a layer's sizes: each `(name, value)` must be at least 1, else an error naming
/// `layer`, the size and its value (a layer of zero units or channels has nothing to compute,
/// and its statistics or fans would divide by zero).
fn check_sizes(layer: &'static str, sizes: &[(&str, usize)]) -> Result<()> {
    match sizes.iter().find(|(_, value)| *value == 0) {
        Some((name, value)) => Err(Error::invalid(
            layer,
            format!("{name} must be at least 1, got {value}"),
        )),
        None => Ok(()),
    }
}
