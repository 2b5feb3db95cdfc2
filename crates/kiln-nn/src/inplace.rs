//! Overwriting a tensor's values in place, for state that other handles must keep seeing
//! (running statistics, tensors loaded from a checkpoint).

use kiln_tensor::{Result, Tensor};

/// Copies the values of `src` into the storage of `dst`, on `dst`'s device, without recording
/// anything for autograd. Every handle sharing `dst`'s storage sees the new values. Errors as
/// [`Tensor::assign`], which this is.
pub(crate) fn overwrite(dst: &Tensor, src: &Tensor) -> Result<()> {
    dst.assign(src)
}
