//! Shape changes: reshape and flatten (free: shared storage) and permute/transpose (a copy).

use super::kernels_of;
use crate::{Error, Result, Shape, Tensor};

impl Tensor {
    // ANCHOR: reshape
    /// The same elements with another shape of equal size; shares storage.
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
            self.0.storage.clone(),
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
            kernels_of("permute", &[self])?.permute(&self.storage(), self.shape(), perm)?;
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
}
