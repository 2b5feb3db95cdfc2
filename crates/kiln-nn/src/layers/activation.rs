//! Elementwise activations as modules (no tensors, no mode), any input shape.

use kiln_tensor::Gelu;

/// Defines a unit-struct module that applies one elementwise tensor method.
macro_rules! activation {
    ($(#[$doc:meta])* $name:ident => $method:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        stateless_module!($name, |_layer, x| x.$method());
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
activation!(
    /// SiLU (swish), `x sigmoid(x)` elementwise, any shape.
    SiLU => silu
);

/// GELU elementwise, exact (the default, [`Gelu::Erf`]) or in its tanh form ([`Gelu::Tanh`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct GELU(pub Gelu);

stateless_module!(GELU, |layer, x| x.gelu(layer.0));

/// Leaky ReLU elementwise: `x` where `x > 0`, else `slope * x` (PyTorch's default slope is
/// 0.01, [`LeakyReLU::default`]).
#[derive(Debug, Clone, Copy)]
pub struct LeakyReLU(pub f32);

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU(0.01)
    }
}

stateless_module!(LeakyReLU, |layer, x| x.leaky_relu(layer.0));

/// `x` limited to `[low, high]` elementwise, as PyTorch's `clamp`: the forward pass of its
/// `Hardtanh` (`Clamp { low: 0.0, high: 6.0 }` is ReLU6's), with `clamp`'s gradient, which
/// passes at `x` equal to a bound where `Hardtanh`'s and ReLU6's are 0.
#[derive(Debug, Clone, Copy)]
pub struct Clamp {
    /// The lower bound.
    pub low: f32,
    /// The upper bound, at least `low`.
    pub high: f32,
}

stateless_module!(Clamp, |layer, x| x.clamp(layer.low, layer.high));
