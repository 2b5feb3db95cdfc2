//! Elementwise maximum and minimum of two tensors, and selection by a mask, with broadcasting.

use crate::kernels::BinaryOp;
use crate::{Result, Tensor};

impl Tensor {
    /// The larger of `self` and `rhs` elementwise (broadcast); NaN where either is NaN. The
    /// gradient goes to the larger operand, half to each on ties (PyTorch's rule), and to both
    /// where either is NaN.
    pub fn maximum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(
            rhs,
            BinaryOp::Maximum,
            "maximum",
            |a, b, g| g.mul(&a.max_share(b)?),
            |a, b, g| g.mul(&b.max_share(a)?),
        )
    }

    /// The smaller of `self` and `rhs` elementwise (broadcast); NaN where either is NaN.
    /// Gradients as [`Tensor::maximum`], to the smaller operand.
    pub fn minimum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(
            rhs,
            BinaryOp::Minimum,
            "minimum",
            |a, b, g| g.mul(&b.max_share(a)?),
            |a, b, g| g.mul(&a.max_share(b)?),
        )
    }

    /// The share of `maximum(self, other)`'s gradient that goes to `self` (no gradient).
    fn max_share(&self, other: &Tensor) -> Result<Tensor> {
        let (storage, out) = self.binary_forward(other, BinaryOp::MaxShare, "maximum")?;
        Ok(Tensor::from_storage(storage, out))
    }

    /// `on_true` where `mask` is nonzero (NaN counts as nonzero), `on_false` where it is 0,
    /// all three broadcast together. Only the selected value reaches the output, bit for bit
    /// (`-0` included): a NaN or infinity in the other branch does not. Gradients flow to the
    /// selected branch; the mask gets none, but writing to it before backward is an error, as
    /// for any input.
    pub fn where_(mask: &Tensor, on_true: &Tensor, on_false: &Tensor) -> Result<Tensor> {
        let operands = on_true.shape().broadcast(on_false.shape(), "where_")?;
        operands.broadcast(mask.shape(), "where_")?;
        let mask = mask.detach();
        let zero = Tensor::full_on(&[], 0.0, mask.dtype(), mask.device())?;
        let unmasked = mask.eq(&zero)?;
        on_true.pick(&mask)?.add(&on_false.pick(&unmasked)?)
    }

    /// `self` where `mask` is nonzero, `-0` elsewhere (broadcast), so that adding the other
    /// branch's pick gives that branch's value exactly; `mask` is detached, and an input for
    /// the in-place check only (its gradient is not listed).
    fn pick(&self, mask: &Tensor) -> Result<Tensor> {
        let (storage, out) = self.binary_forward(mask, BinaryOp::Pick, "where_")?;
        let (kept, shape) = (mask.clone(), self.shape().clone());
        Ok(Tensor::from_op(storage, out, &[self, mask], move |g| {
            let (picked, _) = g.binary_forward(&kept, BinaryOp::Pick, "where_")?;
            let picked = Tensor::from_storage(picked, g.shape().clone());
            Ok(vec![Some(picked.sum_to(&shape)?)])
        }))
    }
}
