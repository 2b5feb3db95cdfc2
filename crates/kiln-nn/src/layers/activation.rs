//! Elementwise activations as modules (no tensors, no mode).

use crate::module::Module;
use kiln_tensor::{Result, Tensor};

/// Defines a unit-struct module that applies one elementwise tensor method.
macro_rules! activation {
    ($(#[$doc:meta])* $name:ident => $method:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl Module for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                x.$method()
            }
        }
    };
}

activation!(
    /// `max(x, 0)` elementwise, any shape.
    ReLU => relu
);
activation!(
    /// `1 / (1 + e^-x)` elementwise, any shape.
    Sigmoid => sigmoid
);
activation!(
    /// `tanh(x)` elementwise, any shape.
    Tanh => tanh
);
