//! Elementwise activations as modules (no tensors, no mode).

use crate::module::{Module, TensorRole};
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

            fn visit_tensors(&self, _: &mut dyn FnMut(&str, &Tensor, TensorRole)) {}

            fn map_tensors(
                &mut self,
                _: &mut dyn FnMut(&Tensor) -> Result<Tensor>,
            ) -> Result<()> {
                Ok(())
            }

            fn set_training(&mut self, _: bool) {}
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
