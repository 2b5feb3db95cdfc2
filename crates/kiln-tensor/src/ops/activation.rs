//! Activations beyond ReLU, sigmoid and tanh: GELU (exact and tanh forms), SiLU, leaky ReLU,
//! absolute value and clamping.
//!
//! NaN in, NaN out, and the gradient at a NaN input is NaN. Each backward rule keeps the input
//! and multiplies the output gradient by the function's derivative there, one kernel
//! (`UnaryOp::*Grad`, `UnaryOp::Sign`). At the kinks the derivative follows PyTorch: `abs`
//! has gradient 0 at 0, leaky ReLU the slope at 0, and `clamp` passes the gradient at its
//! bounds.

use super::elementwise::Saves;
use crate::kernels::UnaryOp;
use crate::{Error, Result, Tensor};

/// The two forms of GELU, as PyTorch's `approximate` argument names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gelu {
    /// Exact: `x Φ(x) = x (1 + erf(x / √2)) / 2` (PyTorch's `approximate="none"`).
    #[default]
    Erf,
    /// The tanh approximation `x (1 + tanh(√(2/π) (x + 0.044715 x³))) / 2`
    /// (PyTorch's `approximate="tanh"`).
    Tanh,
}

impl Tensor {
    /// `self` elementwise through `op`, whose derivative is the elementwise `derivative`.
    fn activation(&self, op: UnaryOp, derivative: UnaryOp) -> Result<Tensor> {
        self.unary_op(op, Saves::Input, move |x, g| {
            g.mul(&x.unary_value(derivative)?)
        })
    }

    /// GELU in the given form.
    pub fn gelu(&self, form: Gelu) -> Result<Tensor> {
        match form {
            Gelu::Erf => self.activation(UnaryOp::GeluErf, UnaryOp::GeluErfGrad),
            Gelu::Tanh => self.activation(UnaryOp::GeluTanh, UnaryOp::GeluTanhGrad),
        }
    }

    /// SiLU (swish): `x sigmoid(x)`.
    pub fn silu(&self) -> Result<Tensor> {
        self.activation(UnaryOp::Silu, UnaryOp::SiluGrad)
    }

    /// Leaky ReLU: `x` where `x > 0`, else `slope * x`; an error naming the slope unless it is
    /// finite.
    pub fn leaky_relu(&self, slope: f32) -> Result<Tensor> {
        if !slope.is_finite() {
            return Err(Error::invalid(
                "leaky_relu",
                format!(
                    "slope {slope} is not finite (tensor of shape {})",
                    self.shape()
                ),
            ));
        }
        self.activation(UnaryOp::LeakyRelu(slope), UnaryOp::LeakyReluGrad(slope))
    }

    /// `|x|`.
    pub fn abs(&self) -> Result<Tensor> {
        self.activation(UnaryOp::Abs, UnaryOp::Sign)
    }

    /// `x` limited to `[low, high]`; an error naming the bounds unless `low <= high`. The
    /// gradient passes where `low <= x <= high`, bounds included, as for PyTorch's `clamp`.
    pub fn clamp(&self, low: f32, high: f32) -> Result<Tensor> {
        if low.is_nan() || high.is_nan() || low > high {
            return Err(Error::invalid(
                "clamp",
                format!(
                    "bounds [{low}, {high}] are not ordered (tensor of shape {})",
                    self.shape()
                ),
            ));
        }
        self.activation(UnaryOp::Clamp(low, high), UnaryOp::ClampGrad(low, high))
    }
}
