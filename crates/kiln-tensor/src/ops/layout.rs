//! Shape changes: reshape and flatten (free: shared storage), permute/transpose (a copy), and
//! the lazy matrix transpose [`Tensor::t`].

use super::kernels_of;
use crate::autograd::{is_grad_enabled, Node};
use crate::{Error, Result, Shape, Tensor};

impl Tensor {
    // ANCHOR: reshape
    /// The same elements with another shape of equal size; shares storage, except for a lazy
    /// transpose ([`Tensor::t`]), whose elements are copied into their row-major order.
    pub fn reshape(&self, dims: &[usize]) -> Result<Tensor> {
        let target = Shape::checked("reshape", dims)?;
        if target.numel() != self.numel() {
            return Err(Error::ShapeMismatch {
                op: "reshape",
                lhs: self.shape().clone(),
                rhs: target,
            });
        }
        let input = self.shape().clone();
        Ok(Tensor::from_op_shared(
            self.layout_storage()?,
            target,
            &[self],
            move |g| Ok(vec![Some(g.reshape(input.dims())?)]),
        ))
    }
    // ANCHOR_END: reshape

    /// Collapses the axes from `start` on into one: `[n, c, h, w]` with `start = 1` becomes
    /// `[n, c*h*w]`.
    pub fn flatten_from(&self, start: usize) -> Result<Tensor> {
        if start > self.rank() {
            return Err(Error::invalid(
                "flatten",
                format!("start axis {start} out of range for shape {}", self.shape()),
            ));
        }
        let mut dims = self.dims()[..start].to_vec();
        dims.push(self.dims()[start..].iter().product());
        self.reshape(&dims)
    }

    /// All elements as one axis.
    pub fn flatten(&self) -> Result<Tensor> {
        self.flatten_from(0)
    }

    /// Reorders the axes: output axis `i` is input axis `perm[i]`. Copies.
    pub fn permute(&self, perm: &[usize]) -> Result<Tensor> {
        let mut seen = vec![false; self.rank()];
        let valid = perm.len() == self.rank()
            && perm
                .iter()
                .all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
        if !valid {
            return Err(Error::invalid(
                "permute",
                format!(
                    "{perm:?} is not a permutation of the axes of {}",
                    self.shape()
                ),
            ));
        }
        let storage =
            kernels_of("permute", &[self])?.permute(&*self.try_storage()?, self.shape(), perm)?;
        let out = Shape::from(perm.iter().map(|&p| self.dims()[p]).collect::<Vec<_>>());
        let mut inverse = vec![0; perm.len()];
        for (i, &p) in perm.iter().enumerate() {
            inverse[p] = i;
        }
        Ok(Tensor::from_op(storage, out, &[self], move |g| {
            Ok(vec![Some(g.permute(&inverse)?)])
        }))
    }

    /// Swaps two axes. Copies.
    pub fn transpose(&self, a: usize, b: usize) -> Result<Tensor> {
        self.shape().check_axis("transpose", a)?;
        self.shape().check_axis("transpose", b)?;
        let mut perm: Vec<usize> = (0..self.rank()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    // ANCHOR: t
    /// The transpose of a matrix, or of every matrix of a batch (the last two axes swapped),
    /// as a view: no copy, the result shares this tensor's storage. A 0-D or 1-D tensor comes
    /// back as it is (as `torch.Tensor.t` does).
    ///
    /// The view is lazy. [`Tensor::matmul`] consumes it as its kernel's transpose flag, so
    /// `x.matmul(&w.t())` is `x · wᵀ` without materializing `wᵀ`, and `w.t().t()` is `w`'s
    /// layout again. Every other operation reads a view through one transpose kernel, as if
    /// [`Tensor::transpose`] had been called, so results never depend on the layout. Like a
    /// reshape, the view itself sees in-place updates of the tensor it came from
    /// ([`Tensor::assign`], optimizer steps); what is computed from it, a reshape of it
    /// included, does not. Gradients flow back through it.
    pub fn t(&self) -> Tensor {
        if self.rank() < 2 {
            return self.clone();
        }
        let track = is_grad_enabled() && self.tracks_grad();
        let node = track.then(|| Node {
            inputs: vec![self.0.var.clone()],
            backward: Box::new(|g: &Tensor| Ok(vec![Some(g.t())])),
            // The rule reads no values, so in-place writes to `self` cannot mislead it.
            seen: Vec::new(),
        });
        Tensor::with_layout(
            self.storage_handle(),
            self.shape().transposed(),
            !self.is_transposed(),
            track,
            node,
        )
    }
    // ANCHOR_END: t
}
