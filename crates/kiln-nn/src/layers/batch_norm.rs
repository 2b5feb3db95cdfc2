//! Batch normalization with running statistics, in both momentum conventions.

use super::check_sizes;
use crate::inplace::overwrite;
use crate::module::{Module, TensorRole};
use kiln_tensor::{no_grad, DType, Device, Error, Result, Tensor};
use std::sync::atomic::AtomicU64;

// ANCHOR: momentum
/// How fast the running statistics follow the batch statistics, in the convention of the
/// framework the value comes from. The two variants name the same update with different
/// numbers: `Momentum::Torch(0.1)` and `Momentum::TensorFlow(0.9)` are equal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Momentum {
    /// PyTorch's convention: `running = (1 - m) * running + m * batch` (PyTorch's default is
    /// `m = 0.1`).
    Torch(f32),
    /// TensorFlow/Keras's convention: `running = m * running + (1 - m) * batch` (Keras's
    /// default is `m = 0.99`).
    TensorFlow(f32),
}

impl Momentum {
    /// The weight of the batch statistic in the update: `m` for [`Momentum::Torch`],
    /// `1 - m` for [`Momentum::TensorFlow`].
    pub fn batch_weight(self) -> f32 {
        match self {
            Momentum::Torch(m) => m,
            Momentum::TensorFlow(m) => 1.0 - m,
        }
    }
}
// ANCHOR_END: momentum

/// Hyper-parameters of a batch norm layer. The default is PyTorch's: `eps = 1e-5`,
/// `Momentum::Torch(0.1)`, affine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchNormConfig {
    /// Added to the variance before the square root: `y = (x - mean) / sqrt(var + eps)`.
    pub eps: f32,
    /// Update rate of the running statistics.
    pub momentum: Momentum,
    /// Whether the normalized value is scaled and shifted by trained `gamma` (init 1) and
    /// `beta` (init 0).
    pub affine: bool,
}

impl Default for BatchNormConfig {
    fn default() -> Self {
        BatchNormConfig {
            eps: 1e-5,
            momentum: Momentum::Torch(0.1),
            affine: true,
        }
    }
}

/// Batch normalization over the channel axis 1, for inputs with `D` spatial axes: see
/// [`BatchNorm1d`] and [`BatchNorm2d`].
///
/// - Train mode: each channel is normalized with the batch's mean and biased variance over every
///   other axis (`m` values per channel), and gradients flow through those statistics. The
///   running statistics are then updated in place, outside the graph, with the batch mean and
///   the *unbiased* batch variance `var * m / (m - 1)` (as PyTorch and TensorFlow do); `m` must
///   be at least 2.
/// - Eval mode: each channel is normalized with the running statistics, as constants.
///
/// Then `y = (x - mean) / sqrt(var + eps) * gamma + beta` when affine. Tensor names (PyTorch's):
/// parameters `weight` (gamma) and `bias` (beta), buffers `running_mean` (init 0) and
/// `running_var` (init 1), all `[channels]`.
#[derive(Debug)]
pub struct BatchNorm<const D: usize> {
    gamma: Option<Tensor>,
    beta: Option<Tensor>,
    running_mean: Tensor,
    running_var: Tensor,
    config: BatchNormConfig,
    training: bool,
}

/// Batch norm of `[n, c]` or `[n, c, l]` inputs: statistics per channel over the batch (and
/// length) axes.
pub type BatchNorm1d = BatchNorm<1>;

/// Batch norm of `[n, c, h, w]` inputs: statistics per channel over the batch and spatial axes.
pub type BatchNorm2d = BatchNorm<2>;

impl<const D: usize> BatchNorm<D> {
    /// A layer for `channels` channels, in train mode, on the CPU (move it with
    /// [`Module::to_device`]). Errors if `channels` is 0, the momentum is outside `[0, 1]` or
    /// `eps` is negative or not finite.
    pub fn new(channels: usize, config: BatchNormConfig) -> Result<Self> {
        check_sizes("BatchNorm", &[("channels", channels)])?;
        let weight = config.momentum.batch_weight();
        if !((0.0..=1.0).contains(&weight) && config.eps.is_finite() && config.eps >= 0.0) {
            return Err(Error::invalid(
                "BatchNorm",
                format!("momentum must be in [0, 1] and eps finite and >= 0, got {config:?}"),
            ));
        }
        let channel = |value| Tensor::full_on(&[channels], value, DType::F32, Device::Cpu);
        let affine = |value| {
            let trained = || channel(value).map(Tensor::requires_grad);
            config.affine.then(trained).transpose()
        };
        Ok(BatchNorm {
            gamma: affine(1.0)?,
            beta: affine(0.0)?,
            running_mean: channel(0.0)?,
            running_var: channel(1.0)?,
            config,
            training: true,
        })
    }

    /// The number of channels.
    pub fn channels(&self) -> usize {
        self.running_mean.numel()
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &BatchNormConfig {
        &self.config
    }

    /// The scale `[channels]`, when affine.
    pub fn gamma(&self) -> Option<&Tensor> {
        self.gamma.as_ref()
    }

    /// The shift `[channels]`, when affine.
    pub fn beta(&self) -> Option<&Tensor> {
        self.beta.as_ref()
    }

    /// The running mean `[channels]`.
    pub fn running_mean(&self) -> &Tensor {
        &self.running_mean
    }

    /// The running (unbiased) variance `[channels]`.
    pub fn running_var(&self) -> &Tensor {
        &self.running_var
    }

    /// Checks that `x` has the rank this layer takes and its channel count.
    fn check_input(&self, x: &Tensor) -> Result<()> {
        let rank_ok = match D {
            1 => matches!(x.rank(), 2 | 3),
            d => x.rank() == d + 2,
        };
        if !rank_ok || x.dims()[1] != self.channels() {
            let expected = match D {
                1 => "[n, c] or [n, c, l]".to_string(),
                d => format!("[n, c] followed by {d} spatial axes"),
            };
            return Err(Error::invalid(
                "BatchNorm",
                format!(
                    "input must be {expected} with c = {}, got {}",
                    self.channels(),
                    x.shape()
                ),
            ));
        }
        Ok(())
    }

    // ANCHOR: update_running
    /// Moves the running statistics towards the batch's: `mean` and biased `var` over `m`
    /// values per channel.
    fn update_running(&self, mean: &Tensor, var: &Tensor, m: usize) -> Result<()> {
        let w = self.config.momentum.batch_weight();
        let unbiased = m as f32 / (m - 1) as f32;
        no_grad(|| {
            let blend = |running: &Tensor, batch: &Tensor| {
                running.mul_scalar(1.0 - w)?.add(&batch.mul_scalar(w)?)
            };
            overwrite(&self.running_mean, &blend(&self.running_mean, mean)?)?;
            overwrite(
                &self.running_var,
                &blend(&self.running_var, &var.mul_scalar(unbiased)?)?,
            )
        })
    }
    // ANCHOR_END: update_running
}

impl<const D: usize> Module for BatchNorm<D> {
    // ANCHOR: forward
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        let (gamma, beta, eps) = (self.gamma.as_ref(), self.beta.as_ref(), self.config.eps);
        if !self.training {
            let (mean, var) = (&self.running_mean, &self.running_var);
            return x.batch_norm_eval(gamma, beta, mean, var, eps);
        }
        let m = x.numel() / self.channels();
        if m < 2 {
            return Err(Error::invalid(
                "BatchNorm",
                format!(
                    "train mode needs more than one value per channel, got input {}",
                    x.shape()
                ),
            ));
        }
        let (y, batch) = x.batch_norm_train(gamma, beta, eps)?;
        self.update_running(&batch.mean, &batch.var, m)?;
        Ok(y)
    }
    // ANCHOR_END: forward

    fn visit_tensors(&self, f: &mut dyn FnMut(&str, &Tensor, TensorRole)) {
        if let (Some(g), Some(b)) = (&self.gamma, &self.beta) {
            f("weight", g, TensorRole::Parameter);
            f("bias", b, TensorRole::Parameter);
        }
        f("running_mean", &self.running_mean, TensorRole::Buffer);
        f("running_var", &self.running_var, TensorRole::Buffer);
    }

    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        for t in [&mut self.gamma, &mut self.beta].into_iter().flatten() {
            *t = f(t)?;
        }
        self.running_mean = f(&self.running_mean)?;
        self.running_var = f(&self.running_var)?;
        Ok(())
    }

    fn visit_counters(&self, _: &mut dyn FnMut(&str, &AtomicU64)) {}

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}
