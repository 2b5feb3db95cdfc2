//! Flattening the per-example axes.

use crate::module::{Module, TensorRole};
use kiln_tensor::{Result, Tensor};

/// Collapses every axis after the first: `[n, c, h, w]` becomes `[n, c*h*w]`. Free: the output
/// shares the input's storage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flatten;

impl Module for Flatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.flatten_from(1)
    }

    fn visit_tensors(&self, _: &mut dyn FnMut(&str, &Tensor, TensorRole)) {}

    fn map_tensors(&mut self, _: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        Ok(())
    }

    fn set_training(&mut self, _: bool) {}
}
