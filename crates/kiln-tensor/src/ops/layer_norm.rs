//! Layer normalization as one fused op with an analytic backward.

use super::{check_eps, kernels_of};
use crate::kernels::LnDims;
use crate::{Error, Result, Shape, Tensor};

impl Tensor {
    /// Layer normalization over the trailing dimensions `normalized` (which must end `self`'s
    /// shape): each sample is normalized with its own mean and biased variance over those
    /// dimensions, `y = (x - mean) / sqrt(var + eps) * gamma + beta`, with `gamma` and `beta`
    /// of shape `normalized` optional (scale 1, shift 0), and `eps` finite and at least 0.
    /// Gradients flow through the statistics, to `self`, `gamma` and `beta`.
    pub fn layer_norm(
        &self,
        normalized: &[usize],
        gamma: Option<&Tensor>,
        beta: Option<&Tensor>,
        eps: f32,
    ) -> Result<Tensor> {
        let op = "layer_norm";
        let trailing = self.rank().checked_sub(normalized.len());
        let lead = match trailing {
            Some(lead) if self.dims()[lead..] == *normalized && !normalized.is_empty() => lead,
            _ => {
                return Err(Error::invalid(
                    op,
                    format!(
                        "normalized dimensions {normalized:?} are not the trailing dimensions \
                         of {}",
                        self.shape()
                    ),
                ))
            }
        };
        check_eps(op, eps)?;
        let norm = Shape::new(normalized);
        if norm.numel() == 0 {
            return Err(Error::invalid(
                op,
                format!("normalized dimensions {norm} hold no values"),
            ));
        }
        for p in [gamma, beta].into_iter().flatten() {
            if *p.shape() != norm {
                return Err(Error::ShapeMismatch {
                    op: "layer_norm (affine parameter vs normalized dimensions)",
                    lhs: p.shape().clone(),
                    rhs: norm,
                });
            }
        }
        let d = LnDims {
            rows: self.dims()[..lead].iter().product(),
            cols: norm.numel(),
        };
        let mut inputs = vec![self];
        inputs.extend(gamma);
        inputs.extend(beta);
        let k = kernels_of(op, &inputs)?;
        let (y, mean, rstd) = {
            let (g, b) = (
                gamma.map(|t| t.try_storage()).transpose()?,
                beta.map(|t| t.try_storage()).transpose()?,
            );
            k.layer_norm(&*self.try_storage()?, g.as_deref(), b.as_deref(), eps, d)?
        };
        let rows = Shape::new(&[d.rows]);
        let mean = Tensor::from_storage(mean, rows.clone());
        let rstd = Tensor::from_storage(rstd, rows);
        let (x, gamma_c) = (self.detach(), gamma.map(Tensor::detach));
        let has = (gamma.is_some(), beta.is_some());
        Ok(Tensor::from_op(
            y,
            self.shape().clone(),
            &inputs,
            move |g| {
                let k = kernels_of("layer_norm_backward", &[g, &x])?;
                let gs = gamma_c.as_ref().map(|t| t.try_storage()).transpose()?;
                let (gx, dgamma, dbeta) = k.layer_norm_backward(
                    &*g.try_storage()?,
                    &*x.try_storage()?,
                    &*mean.try_storage()?,
                    &*rstd.try_storage()?,
                    gs.as_deref(),
                    d,
                )?;
                let mut grads = vec![Some(Tensor::from_storage(gx, x.shape().clone()))];
                if has.0 {
                    grads.push(Some(Tensor::from_storage(dgamma, norm.clone())));
                }
                if has.1 {
                    grads.push(Some(Tensor::from_storage(dbeta, norm.clone())));
                }
                Ok(grads)
            },
        ))
    }
}
