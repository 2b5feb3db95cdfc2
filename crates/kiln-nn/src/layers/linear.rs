//! Fully connected layer.

use super::check_sizes;
use crate::init::LayerInit;
use crate::init::WeightBias;
use crate::module::{Module, TensorRole};
use kiln_tensor::{Error, Result, Tensor};
use std::sync::atomic::AtomicU64;

/// `y = x · Wᵀ + b`: input `[n, in_features]`, output `[n, out_features]`.
///
/// The weight is stored `[out_features, in_features]` (PyTorch's layout) and used through a
/// transpose flag of the matrix product, so no transpose is materialized. Tensor names: `weight`
/// and, when present, `bias` (`[out_features]`).
#[derive(Debug)]
pub struct Linear {
    params: WeightBias,
}

impl Linear {
    /// A layer initialized by `init` from `seed`, on the CPU (move it with
    /// [`Module::to_device`]). Errors, naming the value, when a size is 0 or the weight does not
    /// fit in host memory.
    pub fn new(
        in_features: usize,
        out_features: usize,
        init: LayerInit,
        seed: u64,
    ) -> Result<Linear> {
        let sizes = [("in_features", in_features), ("out_features", out_features)];
        check_sizes("Linear", &sizes)?;
        let params = init.build("Linear", &[out_features, in_features], seed)?;
        Ok(Linear { params })
    }

    /// The weight `[out_features, in_features]`.
    pub fn weight(&self) -> &Tensor {
        &self.params.weight
    }

    /// The bias `[out_features]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.params.bias.as_ref()
    }
}

impl Module for Linear {
    // ANCHOR: forward
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let in_features = self.weight().dims()[1];
        if x.rank() != 2 || x.dims()[1] != in_features {
            return Err(Error::invalid(
                "Linear",
                format!(
                    "input must be [n, in_features] with in_features = {in_features}, got {}",
                    x.shape()
                ),
            ));
        }
        let y = x.matmul(&self.weight().t())?;
        match self.bias() {
            Some(b) => y.add(b),
            None => Ok(y),
        }
    }
    // ANCHOR_END: forward

    fn visit_tensors(&self, f: &mut dyn FnMut(&str, &Tensor, TensorRole)) {
        self.params.visit(f);
    }

    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.params.map(f)
    }

    fn visit_counters(&self, _: &mut dyn FnMut(&str, &AtomicU64)) {}

    fn set_training(&mut self, _: bool) {}
}
