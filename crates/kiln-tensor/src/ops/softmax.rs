//! Log-softmax and the fused softmax cross-entropy loss.

use super::kernels_of;
use crate::{Error, Result, Shape, Tensor};

impl Tensor {
    /// Log-softmax along the last axis: `x - max - ln Σ exp(x - max)`. A row that holds NaN
    /// comes out all NaN, as in PyTorch.
    pub fn log_softmax(&self) -> Result<Tensor> {
        let cols = *self.dims().last().ok_or_else(|| {
            Error::invalid("log_softmax", "a scalar has no axis to normalize over")
        })?;
        let rows = self.numel() / cols.max(1);
        let storage =
            kernels_of("log_softmax", &[self])?.log_softmax(&*self.try_storage()?, rows, cols)?;
        let y = Tensor::from_storage(storage, self.shape().clone());
        let out = y.clone();
        let last = self.rank() - 1;
        Ok(Tensor::from_op_shared(
            y.0.storage.clone(),
            self.shape().clone(),
            &[self],
            move |g| {
                // d/dx: g - softmax(x) * Σ g
                let total = g.sum(&[last], true)?;
                Ok(vec![Some(g.sub(&out.exp()?.mul(&total)?)?)])
            },
        ))
    }

    /// Mean softmax cross-entropy of logits `[n, classes]` (both at least 1) against integer
    /// `labels` (`n` of them, each `< classes`), computed in one numerically stable pass with
    /// its gradient. NaN logits make the loss NaN, and the gradient of their rows NaN.
    pub fn softmax_cross_entropy(&self, labels: &[u32]) -> Result<Tensor> {
        self.softmax_cross_entropy_smoothed(labels, 0.0)
    }

    /// [`Tensor::softmax_cross_entropy`] with label smoothing `smoothing` in `[0, 1]`, as
    /// PyTorch defines it: each sample's loss is `(1 - s) * nll + s * mean_j(-log p_j)`, the
    /// target spread `s / classes` over every class. `smoothing = 0` is the plain loss.
    pub fn softmax_cross_entropy_smoothed(&self, labels: &[u32], smoothing: f32) -> Result<Tensor> {
        if !(0.0..=1.0).contains(&smoothing) {
            return Err(Error::invalid(
                "softmax_cross_entropy",
                format!("label smoothing {smoothing} is outside [0, 1]"),
            ));
        }
        let [rows, cols] = *self.dims() else {
            return Err(Error::invalid(
                "softmax_cross_entropy",
                format!("logits must be [n, classes], got {}", self.shape()),
            ));
        };
        if cols == 0 || rows == 0 {
            let what = if cols == 0 {
                "no classes"
            } else {
                "no rows (the mean loss of an empty batch is undefined)"
            };
            return Err(Error::invalid(
                "softmax_cross_entropy",
                format!("logits of shape {} have {what}", self.shape()),
            ));
        }
        if labels.len() != rows {
            return Err(Error::invalid(
                "softmax_cross_entropy",
                format!(
                    "{} labels for logits of shape {}",
                    labels.len(),
                    self.shape()
                ),
            ));
        }
        if let Some((i, l)) = labels.iter().enumerate().find(|(_, &l)| l as usize >= cols) {
            return Err(Error::invalid(
                "softmax_cross_entropy",
                format!("label {l} at index {i} is out of range for {cols} classes"),
            ));
        }
        // ANCHOR: fused
        let k = kernels_of("softmax_cross_entropy", &[self])?;
        let (loss, dlogits) =
            k.softmax_cross_entropy_smoothed(&*self.try_storage()?, labels, rows, cols, smoothing)?;
        let dlogits = Tensor::from_storage(dlogits, self.shape().clone());
        Ok(Tensor::from_op(loss, Shape::new(&[]), &[self], move |g| {
            Ok(vec![Some(dlogits.mul(g)?)])
        }))
        // ANCHOR_END: fused
    }
}
