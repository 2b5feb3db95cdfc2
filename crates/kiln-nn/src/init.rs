//! Seeded weight initializers: Glorot/Xavier uniform (TensorFlow's default), Kaiming uniform
//! (PyTorch's default), zeros and ones.
//!
//! Initial values are drawn on the CPU from a seed, so a model is reproducible whatever device
//! it is moved to afterwards.

use crate::module::TensorRole;
use kiln_tensor::random::derive_seed;
use kiln_tensor::{DType, Error, Result, Shape, Tensor};

/// Fan-in and fan-out of a weight tensor, the sizes initializers scale by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fans {
    /// Inputs feeding one output unit.
    pub fan_in: usize,
    /// Outputs fed by one input unit.
    pub fan_out: usize,
}

impl Fans {
    /// The fans of a weight of shape `[out, in, k...]`: `fan_in = in * receptive field`,
    /// `fan_out = out * receptive field`, the receptive field being the product of the kernel
    /// axes (1 for a dense `[out, in]` weight). This is the convention of PyTorch and TensorFlow
    /// alike. A shape of rank 0 or 1 has both fans equal to its number of elements. Products
    /// past `usize::MAX` saturate (no tensor of such a shape can be allocated).
    pub fn of(shape: &[usize]) -> Fans {
        let product = |sizes: &[usize]| sizes.iter().fold(1usize, |p, &d| p.saturating_mul(d));
        match shape {
            [out, inp, kernel @ ..] => {
                let field = product(kernel);
                Fans {
                    fan_in: inp.saturating_mul(field),
                    fan_out: out.saturating_mul(field),
                }
            }
            _ => {
                let n = product(shape);
                Fans {
                    fan_in: n,
                    fan_out: n,
                }
            }
        }
    }
}

// ANCHOR: init
/// How to fill a new tensor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// Uniform on `[-limit, limit]` with `limit = sqrt(6 / (fan_in + fan_out))` (Glorot and
    /// Bengio 2010; TensorFlow/Keras's default for dense and convolution kernels).
    GlorotUniform,
    /// Uniform on `[-bound, bound]` with `bound = gain * sqrt(3 / fan_in)` and
    /// `gain = sqrt(2 / (1 + a²))`, `a` being the negative slope of the leaky ReLU that
    /// follows (He et al. 2015; `a = 0` for ReLU). [`Init::torch_default`] is `a = √5`.
    KaimingUniform {
        /// Negative slope of the following leaky ReLU.
        a: f32,
    },
}
// ANCHOR_END: init

impl Init {
    /// PyTorch's default for `Linear` and `Conv2d` weights and biases: Kaiming uniform with
    /// `a = √5`, that is uniform on `[-1/sqrt(fan_in), 1/sqrt(fan_in)]` with the weight's fan-in.
    pub fn torch_default() -> Init {
        Init::KaimingUniform { a: 5f32.sqrt() }
    }

    /// A CPU tensor of `shape` filled by this rule, scaled by `fans` (for a bias, pass the fans
    /// of its layer's weight). The same seed gives the same values. An error when the tensor
    /// does not fit in host memory, or a Kaiming slope `a` is not finite.
    pub fn tensor(self, shape: &[usize], fans: Fans, seed: u64) -> Result<Tensor> {
        Shape::new(shape).check_host_alloc("Init::tensor", DType::F32)?;
        let uniform = |limit: f32| Tensor::rand_uniform(shape, -limit, limit, seed);
        Ok(match self {
            Init::Zeros => Tensor::zeros(shape),
            Init::Ones => Tensor::ones(shape),
            Init::GlorotUniform => {
                uniform((6.0 / fans.fan_in.saturating_add(fans.fan_out) as f32).sqrt())
            }
            Init::KaimingUniform { a } if !a.is_finite() => {
                return Err(Error::invalid(
                    "Init::tensor",
                    format!("KaimingUniform's slope a must be finite, got {a}"),
                ))
            }
            Init::KaimingUniform { a } => {
                let gain = (2.0 / (1.0 + a * a)).sqrt();
                uniform(gain * (3.0 / fans.fan_in as f32).sqrt())
            }
        })
    }
}

/// How a layer with a weight and an optional bias is initialized.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerInit {
    /// The weight's initializer, scaled by the weight's fans.
    pub weight: Init,
    /// The bias's initializer (scaled by the weight's fans too), or `None` for a layer without
    /// a bias.
    pub bias: Option<Init>,
}

impl Default for LayerInit {
    /// [`LayerInit::torch`].
    fn default() -> Self {
        LayerInit::torch()
    }
}

impl LayerInit {
    /// PyTorch's defaults: weight and bias from [`Init::torch_default`].
    pub fn torch() -> LayerInit {
        LayerInit {
            weight: Init::torch_default(),
            bias: Some(Init::torch_default()),
        }
    }

    /// TensorFlow/Keras's defaults: Glorot-uniform weight, zero bias.
    pub fn tensorflow() -> LayerInit {
        LayerInit {
            weight: Init::GlorotUniform,
            bias: Some(Init::Zeros),
        }
    }

    /// The same weight initializer, and no bias.
    pub fn without_bias(self) -> LayerInit {
        LayerInit { bias: None, ..self }
    }

    /// The tensors of `layer`: a weight of `weight_shape` (`[out, ...]`) and, if configured, a
    /// bias `[out]`, both CPU leaves that require grad, the bias drawn from a seed derived from
    /// `seed`. An error naming `layer` and the size when the weight does not fit in host memory,
    /// checked before anything is allocated.
    pub(crate) fn build(
        &self,
        layer: &'static str,
        weight_shape: &[usize],
        seed: u64,
    ) -> Result<WeightBias> {
        Shape::new(weight_shape).check_host_alloc(layer, DType::F32)?;
        let fans = Fans::of(weight_shape);
        let named = |e: Error| Error::invalid(layer, e.to_string());
        let weight = self
            .weight
            .tensor(weight_shape, fans, seed)
            .map_err(named)?;
        let bias = self
            .bias
            .map(|init| init.tensor(&weight_shape[..1], fans, derive_seed(seed, 1)))
            .transpose()
            .map_err(named)?;
        Ok(WeightBias {
            weight: weight.requires_grad(),
            bias: bias.map(Tensor::requires_grad),
        })
    }
}

/// The trainable tensors of a dense or convolution layer: a weight `[out, ...]` and an
/// optional bias `[out]`, named `weight` and `bias`.
#[derive(Debug)]
pub(crate) struct WeightBias {
    pub(crate) weight: Tensor,
    pub(crate) bias: Option<Tensor>,
}

impl WeightBias {
    /// [`crate::Module::visit_tensors`] for these two.
    pub(crate) fn visit(&self, f: &mut dyn FnMut(&str, &Tensor, TensorRole)) {
        f("weight", &self.weight, TensorRole::Parameter);
        if let Some(b) = &self.bias {
            f("bias", b, TensorRole::Parameter);
        }
    }

    /// [`crate::Module::map_tensors`] for these two.
    pub(crate) fn map(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.weight = f(&self.weight)?;
        if let Some(b) = &mut self.bias {
            *b = f(b)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_fans_include_the_receptive_field() {
        let fans = Fans::of(&[30, 3, 3, 3]);
        assert_eq!((fans.fan_in, fans.fan_out), (27, 270));
        let fans = Fans::of(&[3500, 7260]);
        assert_eq!((fans.fan_in, fans.fan_out), (7260, 3500));
    }

    #[test]
    fn glorot_values_fill_their_limit_and_stay_inside() {
        let fans = Fans::of(&[50, 30, 3, 3]);
        let limit = (6.0f32 / (270.0 + 450.0)).sqrt();
        let values = Init::GlorotUniform
            .tensor(&[50, 30, 3, 3], fans, 7)
            .unwrap()
            .to_vec()
            .unwrap();
        let max = values.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(max <= limit, "{max} > {limit}");
        assert!(max > 0.99 * limit, "{max} does not reach {limit}");
    }

    #[test]
    fn torch_default_bound_is_one_over_sqrt_fan_in() {
        let fans = Fans::of(&[20, 100]);
        let values = Init::torch_default()
            .tensor(&[20, 100], fans, 3)
            .unwrap()
            .to_vec()
            .unwrap();
        let max = values.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(max <= 0.1 + 1e-6 && max > 0.099, "{max}");
    }

    #[test]
    fn seeds_reproduce_and_streams_differ() {
        let init = LayerInit::torch();
        let first = init.build("Linear", &[4, 3], 11).unwrap();
        let again = init.build("Linear", &[4, 3], 11).unwrap();
        let w = first.weight.to_vec().unwrap();
        assert_eq!(w, again.weight.to_vec().unwrap());
        let b = first.bias.unwrap().to_vec().unwrap();
        assert_ne!(b, w[..4].to_vec());
        let no_bias = init.without_bias().build("Linear", &[4, 3], 11).unwrap();
        assert!(no_bias.bias.is_none());
    }
}
