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

/// The kernels of the device shared by all `operands`, or an error naming `op` and the devices.
pub(crate) fn kernels_of(op: &'static str, operands: &[&Tensor]) -> Result<&'static dyn Kernels> {
    let device = operands[0].device();
    if let Some(other) = operands.iter().find(|t| t.device() != device) {
        return Err(Error::DeviceMismatch {
            op,
            lhs: device,
            rhs: other.device(),
        });
    }
    kernels_for(device)
}
