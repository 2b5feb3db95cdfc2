//! Flattening the per-example axes.

use crate::module::Module;
use kiln_tensor::{Result, Tensor};

/// Collapses every axis after the first: `[n, c, h, w]` becomes `[n, c*h*w]`. Free: the output
/// shares the input's storage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flatten;

impl Module for Flatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.flatten_from(1)
    }
}
