//! In-place updates: [`Tensor::assign`] and the fused optimizer steps.
//!
//! These write into a tensor's storage, so every handle sharing it (clones, reshapes, views)
//! sees the new values. They record nothing for autograd: use them on leaves (parameters,
//! optimizer state, running statistics), never on a tensor a recorded graph still reads.

use super::kernels_of;
use crate::kernels::{AdamStep, SgdStep};
use crate::{Error, Result, Tensor};

/// An error unless `t` has the shape and dtype of `like`.
fn check_like(op: &'static str, like: &Tensor, t: &Tensor) -> Result<()> {
    if like.shape() != t.shape() {
        return Err(Error::ShapeMismatch {
            op,
            lhs: like.shape().clone(),
            rhs: t.shape().clone(),
        });
    }
    if like.dtype() != t.dtype() {
        return Err(Error::DTypeMismatch {
            op,
            lhs: like.dtype(),
            rhs: t.dtype(),
        });
    }
    Ok(())
}

/// An error unless the tensors written in place are plain (not lazy transposes) and no two of
/// `written` and `read` share storage.
fn check_distinct(op: &'static str, written: &[&Tensor], read: &Tensor) -> Result<()> {
    if written.iter().any(|t| t.is_transposed()) {
        return Err(Error::invalid(
            op,
            "cannot update a transposed view (Tensor::t) in place",
        ));
    }
    for (i, t) in written.iter().enumerate() {
        let aliased = written[i + 1..].iter().chain([&read]);
        if aliased.into_iter().any(|u| t.shares_storage(u)) {
            return Err(Error::invalid(
                op,
                "the parameter, its gradient and its state must not share storage",
            ));
        }
    }
    Ok(())
}

impl Tensor {
    // ANCHOR: assign
    /// Copies the values of `src` into this tensor's storage, in place: `self` and every handle
    /// sharing its storage (clones, reshapes, views) see them. `src` may live on another device
    /// (it is copied to this one) and may share storage with `self`. Records nothing for
    /// autograd: this is how values are set on a parameter, running statistics are updated,
    /// or a checkpoint is loaded. A graph that used this storage before can no longer be
    /// differentiated: its backward is an error ([`Error::ModifiedInPlace`]).
    ///
    /// Errors, naming `assign` and both shapes or dtypes, when `src` has another shape or
    /// dtype.
    pub fn assign(&self, src: &Tensor) -> Result<()> {
        check_like("assign", self, src)?;
        // A transposed view is stored transposed: so is what it receives.
        let src = if self.is_transposed() {
            crate::no_grad(|| src.t())
        } else {
            src.clone()
        };
        let k = self.kernels()?;
        let fresh = if src.device() == self.device() {
            k.duplicate(&*src.try_storage()?)?
        } else {
            k.upload(&*src.try_storage()?)?
        };
        *self.storage_mut() = fresh;
        Ok(())
    }
    // ANCHOR_END: assign

    // ANCHOR: adam_update
    /// One Adam or AdamW step on this parameter, in place and in one kernel dispatch. `grad`,
    /// the first-moment average `exp_avg` (m) and the second-moment average `exp_avg_sq` (v)
    /// have the parameter's shape, dtype and device; m and v are updated in place too. With
    /// `g = grad` and `t = hp.step` (from 1):
    ///
    /// - Adam (`hp.decoupled == false`): `g += weight_decay * p` first;
    ///   AdamW: `p -= lr * weight_decay * p` first;
    /// - `m = beta1 m + (1 - beta1) g`, `v = beta2 v + (1 - beta2) g²`;
    /// - `p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)`.
    ///
    /// Records nothing for autograd; like [`Tensor::assign`], it fails the backward pass of a
    /// graph that used the parameter or a moment before. Errors when shapes, dtypes or devices
    /// differ, when the parameter or a moment is a transposed view, when two of the four
    /// share storage, and for hyper-parameters [`AdamStep::check`] refuses.
    pub fn adam_update_(
        &self,
        grad: &Tensor,
        exp_avg: &Tensor,
        exp_avg_sq: &Tensor,
        hp: &AdamStep,
    ) -> Result<()> {
        const OP: &str = "adam_update_";
        hp.check(OP)?;
        let k = kernels_of(OP, &[self, grad, exp_avg, exp_avg_sq])?;
        for t in [grad, exp_avg, exp_avg_sq] {
            check_like(OP, self, t)?;
        }
        check_distinct(OP, &[self, exp_avg, exp_avg_sq], grad)?;
        let g = grad.try_storage()?;
        k.adam_step(
            &mut self.storage_mut(),
            &g,
            &mut exp_avg.storage_mut(),
            &mut exp_avg_sq.storage_mut(),
            *hp,
        )
    }
    // ANCHOR_END: adam_update

    /// One SGD step on this parameter, in place and in one kernel dispatch, in PyTorch's
    /// formulation. `grad` and `momentum_buffer` have the parameter's shape, dtype and device:
    ///
    /// - `g = grad + weight_decay * p` (for a nonzero `weight_decay` only);
    /// - with a momentum buffer `b`: `b = momentum * b + g` (in place), and the direction is
    ///   `g + momentum * b` (Nesterov) or `b`; without one, the direction is `g`;
    /// - `p -= lr * direction`.
    ///
    /// Errors when `hp.momentum` is nonzero and no buffer is given, for hyper-parameters
    /// [`SgdStep::check`] refuses, and as [`Tensor::adam_update_`].
    pub fn sgd_update_(
        &self,
        grad: &Tensor,
        momentum_buffer: Option<&Tensor>,
        hp: &SgdStep,
    ) -> Result<()> {
        const OP: &str = "sgd_update_";
        hp.check(OP)?;
        if hp.momentum != 0.0 && momentum_buffer.is_none() {
            return Err(Error::invalid(OP, "momentum needs a momentum buffer"));
        }
        let mut operands = vec![self, grad];
        operands.extend(momentum_buffer);
        let k = kernels_of(OP, &operands)?;
        for t in &operands[1..] {
            check_like(OP, self, t)?;
        }
        let mut written = vec![self];
        written.extend(momentum_buffer);
        check_distinct(OP, &written, grad)?;
        let g = grad.try_storage()?;
        let mut velocity = momentum_buffer.map(|b| b.storage_mut());
        k.sgd_step(&mut self.storage_mut(), &g, velocity.as_deref_mut(), *hp)
    }
}
