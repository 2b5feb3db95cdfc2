//! Differentiable operations, one family per file, each forward beside its backward.

pub mod activation;
pub mod batch_norm;
mod concat;
pub mod conv;
mod dropout;
mod elementwise;
mod inplace;
mod layer_norm;
mod layout;
mod matmul;
pub mod pooling;
mod reduce;
mod select;
mod softmax;

use crate::tensor::kernels_for;
use crate::{Error, Kernels, Result, Tensor};

/// Positions past this many have indices that `f32` cannot hold exactly (2^24): the bound of
/// the ops that return indices as `f32` (argmax, max pooling's arg-max).
pub(crate) const MAX_F32_INDEX: usize = 1 << 24;

/// An error naming `op` unless the normalizations' `eps` is finite and at least 0.
pub(crate) fn check_eps(op: &'static str, eps: f32) -> Result<()> {
    if eps.is_finite() && eps >= 0.0 {
        return Ok(());
    }
    Err(Error::invalid(
        op,
        format!("eps must be finite and >= 0, got {eps}"),
    ))
}

/// The kernels of the device shared by all `operands`, or an error naming `op` and the devices
/// (or the dtypes, which must agree too).
pub(crate) fn kernels_of(op: &'static str, operands: &[&Tensor]) -> Result<&'static dyn Kernels> {
    let (device, dtype) = (operands[0].device(), operands[0].dtype());
    if let Some(other) = operands.iter().find(|t| t.device() != device) {
        return Err(Error::DeviceMismatch {
            op,
            lhs: device,
            rhs: other.device(),
        });
    }
    if let Some(other) = operands.iter().find(|t| t.dtype() != dtype) {
        return Err(Error::DTypeMismatch {
            op,
            lhs: dtype,
            rhs: other.dtype(),
        });
    }
    kernels_for(device)
}
