//! Overwriting a tensor's values in place, for state that other handles must keep seeing
//! (running statistics, tensors loaded from a checkpoint).

use kiln_tensor::{Error, Result, Tensor};

/// Copies the values of `src` into the storage of `dst`, on `dst`'s device, without recording
/// anything for autograd. Every handle sharing `dst`'s storage sees the new values.
pub(crate) fn overwrite(dst: &Tensor, src: &Tensor) -> Result<()> {
    if dst.shape() != src.shape() {
        return Err(Error::ShapeMismatch {
            op: "overwrite",
            lhs: dst.shape().clone(),
            rhs: src.shape().clone(),
        });
    }
    if dst.dtype() != src.dtype() {
        return Err(Error::DTypeMismatch {
            op: "overwrite",
            lhs: dst.dtype(),
            rhs: src.dtype(),
        });
    }
    let moved = src.to_device(dst.device())?;
    let fresh = if moved.same(src) { src.copy()? } else { moved };
    std::mem::swap(&mut *dst.storage_mut(), &mut *fresh.storage_mut());
    Ok(())
}
