//! Layer normalization over each sample's trailing dimensions.

use super::check_sizes;
use crate::module::{Module, TensorRole};
use kiln_tensor::{DType, Device, Error, Result, Tensor};
use std::sync::atomic::AtomicU64;

/// Layer normalization over the trailing dimensions `normalized` of its input: each sample is
/// normalized with its own mean and biased variance over those values, then scaled and shifted
/// elementwise, `y = (x - mean) / sqrt(var + eps) * weight + bias`. The same in train and eval
/// mode (no running statistics). Tensor names (PyTorch's): parameters `weight` (init 1) and
/// `bias` (init 0), of shape `normalized`, when affine.
#[derive(Debug)]
pub struct LayerNorm {
    normalized: Vec<usize>,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    eps: f32,
}

impl LayerNorm {
    /// A layer over trailing dimensions `normalized`, affine or not, on the CPU. Errors if
    /// `normalized` is empty or holds a 0, or `eps` is negative or not finite.
    pub fn new(normalized: &[usize], eps: f32, affine: bool) -> Result<LayerNorm> {
        if normalized.is_empty() || !(eps.is_finite() && eps >= 0.0) {
            return Err(Error::invalid(
                "LayerNorm",
                format!(
                    "needs normalized dimensions and eps finite and >= 0, got {normalized:?} and \
                     {eps}"
                ),
            ));
        }
        let sizes: Vec<(&str, usize)> = normalized
            .iter()
            .map(|&d| ("a normalized dimension", d))
            .collect();
        check_sizes("LayerNorm", &sizes)?;
        let param = |value| {
            let trained = || Tensor::full_on(normalized, value, DType::F32, Device::Cpu);
            affine
                .then(trained)
                .transpose()
                .map(|t| t.map(Tensor::requires_grad))
        };
        Ok(LayerNorm {
            normalized: normalized.to_vec(),
            weight: param(1.0)?,
            bias: param(0.0)?,
            eps,
        })
    }

    /// The scale, when affine.
    pub fn weight(&self) -> Option<&Tensor> {
        self.weight.as_ref()
    }

    /// The shift, when affine.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.layer_norm(
            &self.normalized,
            self.weight.as_ref(),
            self.bias.as_ref(),
            self.eps,
        )
    }

    fn visit_tensors(&self, f: &mut dyn FnMut(&str, &Tensor, TensorRole)) {
        let named = [("weight", &self.weight), ("bias", &self.bias)];
        for (name, t) in named {
            if let Some(t) = t {
                f(name, t, TensorRole::Parameter);
            }
        }
    }

    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        for t in [&mut self.weight, &mut self.bias].into_iter().flatten() {
            *t = f(t)?;
        }
        Ok(())
    }

    fn visit_counters(&self, _: &mut dyn FnMut(&str, &AtomicU64)) {}

    fn set_training(&mut self, _: bool) {}
}
