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
