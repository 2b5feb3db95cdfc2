//! The residual connection.

use crate::module::{Module, TensorRole};
use kiln_tensor::{Error, Result, Tensor};
use std::sync::atomic::AtomicU64;

/// `x + inner(x)`: a skip connection around `inner`, whose output must have its input's shape.
/// The tensors of `inner` are named `inner.{name}`; mode changes and device moves reach it.
pub struct Residual {
    inner: Box<dyn Module>,
}

impl Residual {
    /// The residual connection around `inner`.
    pub fn new(inner: impl Module + 'static) -> Residual {
        Residual {
            inner: Box::new(inner),
        }
    }
}

impl Module for Residual {
    // ANCHOR: forward
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = self.inner.forward(x)?;
        if y.shape() != x.shape() {
            return Err(Error::ShapeMismatch {
                op: "Residual (input vs the inner module's output)",
                lhs: x.shape().clone(),
                rhs: y.shape().clone(),
            });
        }
        x.add(&y)
    }
    // ANCHOR_END: forward

    fn visit_tensors(&self, f: &mut dyn FnMut(&str, &Tensor, TensorRole)) {
        self.inner
            .visit_tensors(&mut |name, t, role| f(&format!("inner.{name}"), t, role));
    }

    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.inner.map_tensors(f)
    }

    fn visit_counters(&self, f: &mut dyn FnMut(&str, &AtomicU64)) {
        self.inner
            .visit_counters(&mut |name, c| f(&format!("inner.{name}"), c));
    }

    fn set_training(&mut self, training: bool) {
        self.inner.set_training(training);
    }
}
