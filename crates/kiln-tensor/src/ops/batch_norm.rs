//! Batch normalization as one fused op with an analytic backward.

use super::{check_eps, kernels_of};
use crate::kernels::BnDims;
use crate::{Error, Result, Shape, Tensor};

/// The per-channel statistics a train-mode batch norm normalized with: what running
/// statistics are updated from. Not differentiable.
#[derive(Debug, Clone)]
pub struct BatchStats {
    /// Batch mean `[c]`.
    pub mean: Tensor,
    /// Biased batch variance `[c]` (the mean squared deviation).
    pub var: Tensor,
}

impl Tensor {
    /// Batch normalization in train mode: normalizes `self` (`[n, c]` or `[n, c, ...]`) per
    /// channel `c` with the batch's own mean and biased variance over every axis but `c`, and
    /// gradients flow through them. Then `y = (x - mean) / sqrt(var + eps) * gamma + beta`,
    /// `gamma` and `beta` `[c]` being optional (scale 1, shift 0), and `eps` finite and at
    /// least 0. Returns `y` and the statistics used. A batch without values (`n` or a spatial
    /// size of 0) has no statistics: an error.
    pub fn batch_norm_train(
        &self,
        gamma: Option<&Tensor>,
        beta: Option<&Tensor>,
        eps: f32,
    ) -> Result<(Tensor, BatchStats)> {
        let (output, mean, var) = self.batch_norm(gamma, beta, None, eps)?;
        Ok((output, BatchStats { mean, var }))
    }

    /// Batch normalization in eval mode: as [`Tensor::batch_norm_train`], with the given `[c]`
    /// `mean` and `var` (running statistics) used as constants.
    pub fn batch_norm_eval(
        &self,
        gamma: Option<&Tensor>,
        beta: Option<&Tensor>,
        mean: &Tensor,
        var: &Tensor,
        eps: f32,
    ) -> Result<Tensor> {
        Ok(self.batch_norm(gamma, beta, Some((mean, var)), eps)?.0)
    }

    /// The fused op behind both modes: `(y, mean, var)`, with the statistics the batch's own
    /// when `running` is `None`.
    fn batch_norm(
        &self,
        gamma: Option<&Tensor>,
        beta: Option<&Tensor>,
        running: Option<(&Tensor, &Tensor)>,
        eps: f32,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        if self.rank() < 2 {
            return Err(Error::invalid(
                "batch_norm",
                format!("input must be [n, c] or [n, c, ...], got {}", self.shape()),
            ));
        }
        let d = BnDims {
            n: self.dims()[0],
            c: self.dims()[1],
            spatial: self.dims()[2..].iter().product(),
        };
        check_eps("batch_norm", eps)?;
        if running.is_none() && d.c > 0 && d.n * d.spatial == 0 {
            return Err(Error::invalid(
                "batch_norm",
                format!(
                    "batch statistics need at least one value per channel, input {}",
                    self.shape()
                ),
            ));
        }
        let channel = Shape::new(&[d.c]);
        let params = [gamma, beta, running.map(|r| r.0), running.map(|r| r.1)];
        for p in params.into_iter().flatten() {
            if *p.shape() != channel {
                return Err(Error::ShapeMismatch {
                    op: "batch_norm (per-channel parameter vs channels)",
                    lhs: p.shape().clone(),
                    rhs: channel,
                });
            }
        }
        let mut operands = vec![self];
        operands.extend(params.into_iter().flatten());
        let k = kernels_of("batch_norm", &operands)?;
        // ANCHOR: statistics
        let (mean, var) = match running {
            Some((m, v)) => (m.detach(), v.detach()),
            None => {
                let (m, v) = k.bn_stats(&*self.try_storage()?, d)?;
                (
                    Tensor::from_storage(m, channel.clone()),
                    Tensor::from_storage(v, channel.clone()),
                )
            }
        };
        // ANCHOR_END: statistics
        let storage = {
            let (g, b) = (
                gamma.map(|t| t.try_storage()).transpose()?,
                beta.map(|t| t.try_storage()).transpose()?,
            );
            k.bn_normalize(
                &*self.try_storage()?,
                &*mean.try_storage()?,
                &*var.try_storage()?,
                g.as_deref(),
                b.as_deref(),
                eps,
                d,
            )?
        };
        let batch_stats = running.is_none();
        let (x, gamma_c) = (self.clone(), gamma.cloned());
        let (m, v) = (mean.clone(), var.clone());
        // The statistics come last and get no gradient (the closure's list ends before them);
        // as inputs, a write to them before backward (running statistics in eval mode, or the
        // returned batch statistics) fails backward, as a write to `x` does.
        let mut inputs = vec![self];
        inputs.extend(gamma);
        inputs.extend(beta);
        inputs.extend([&mean, &var]);
        let has = (gamma.is_some(), beta.is_some());
        let output = Tensor::from_op(storage, self.shape().clone(), &inputs, move |g| {
            let k = kernels_of("batch_norm_backward", &[g, &x])?;
            let gs = gamma_c.as_ref().map(|t| t.try_storage()).transpose()?;
            let (gx, dgamma, dbeta) = k.bn_backward(
                &*g.try_storage()?,
                &*x.try_storage()?,
                &*m.try_storage()?,
                &*v.try_storage()?,
                gs.as_deref(),
                eps,
                d,
                batch_stats,
            )?;
            let channel = Shape::new(&[d.c]);
            let mut grads = vec![Some(Tensor::from_storage(gx, x.shape().clone()))];
            if has.0 {
                grads.push(Some(Tensor::from_storage(dgamma, channel.clone())));
            }
            if has.1 {
                grads.push(Some(Tensor::from_storage(dbeta, channel)));
            }
            Ok(grads)
        });
        Ok((output, mean, var))
    }
}
