//! Concatenation along an axis and slicing of one axis ([`Tensor::narrow`]), each the other's
//! backward. Both are block copies ([`SlabDims`]): the tensors are viewed as
//! `[outer, axis, inner]` around the axis.

use super::kernels_of;
use crate::kernels::SlabDims;
use crate::{Error, Result, Shape, Tensor};

/// `(outer, inner)`: the products of the dimensions before and after `axis`.
fn around(dims: &[usize], axis: usize) -> (usize, usize) {
    (
        dims[..axis].iter().product(),
        dims[axis + 1..].iter().product(),
    )
}

impl Tensor {
    /// `len` consecutive entries of axis `axis` from `start` on: `[.., d, ..]` to
    /// `[.., len, ..]`. Copies; the gradient goes back to those entries, zero elsewhere.
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Result<Tensor> {
        self.shape().check_axis("narrow", axis)?;
        let d = self.dims()[axis];
        if start.checked_add(len).is_none_or(|end| end > d) {
            return Err(Error::invalid(
                "narrow",
                format!(
                    "entries {start}..{start}+{len} of axis {axis} are out of range for shape {}",
                    self.shape()
                ),
            ));
        }
        let mut out = self.dims().to_vec();
        out[axis] = len;
        let (outer, inner) = around(self.dims(), axis);
        let slab = SlabDims {
            outer,
            inner,
            len,
            src_axis: d,
            src_start: start,
            dst_axis: len,
            dst_start: 0,
        };
        let k = kernels_of("narrow", &[self])?;
        let mut storage = k.fill(self.dtype(), outer * len * inner, 0.0)?;
        k.copy_slab(&*self.try_storage()?, &mut storage, slab)?;
        let input = self.shape().clone();
        Ok(Tensor::from_op(
            storage,
            Shape::from(out),
            &[self],
            move |g| {
                let k = kernels_of("narrow_backward", &[g])?;
                let mut gx = k.fill(g.dtype(), input.numel(), 0.0)?;
                let back = SlabDims {
                    src_axis: len,
                    src_start: 0,
                    dst_axis: d,
                    dst_start: start,
                    ..slab
                };
                k.copy_slab(&*g.try_storage()?, &mut gx, back)?;
                Ok(vec![Some(Tensor::from_storage(gx, input.clone()))])
            },
        ))
    }

    /// The tensors joined along axis `axis`: every other dimension must agree, and the result's
    /// `axis` is the sum of theirs. The gradient of each is its slice of the output's.
    pub fn cat(tensors: &[Tensor], axis: usize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::invalid("cat", "no tensors to concatenate"))?;
        first.shape().check_axis("cat", axis)?;
        for t in &tensors[1..] {
            let agree = t.rank() == first.rank()
                && (0..t.rank()).all(|i| i == axis || t.dims()[i] == first.dims()[i]);
            if !agree {
                return Err(Error::ShapeMismatch {
                    op: "cat (every axis but the joined one must agree)",
                    lhs: first.shape().clone(),
                    rhs: t.shape().clone(),
                });
            }
        }
        let refs: Vec<&Tensor> = tensors.iter().collect();
        let k = kernels_of("cat", &refs)?;
        let lens: Vec<usize> = tensors.iter().map(|t| t.dims()[axis]).collect();
        let total = lens
            .iter()
            .try_fold(0usize, |total, &len| total.checked_add(len))
            .ok_or_else(|| {
                Error::invalid(
                    "cat",
                    format!("axis {axis}'s lengths {lens:?} overflow their sum"),
                )
            })?;
        let mut out = first.dims().to_vec();
        out[axis] = total;
        let out = Shape::checked("cat", &out)?;
        let (outer, inner) = around(out.dims(), axis);
        let mut storage = k.fill(first.dtype(), out.numel(), 0.0)?;
        let mut starts = Vec::with_capacity(tensors.len());
        let mut start = 0;
        for (t, &len) in tensors.iter().zip(&lens) {
            let slab = SlabDims {
                outer,
                inner,
                len,
                src_axis: len,
                src_start: 0,
                dst_axis: total,
                dst_start: start,
            };
            k.copy_slab(&*t.try_storage()?, &mut storage, slab)?;
            starts.push(start);
            start += len;
        }
        let needs: Vec<bool> = tensors.iter().map(Tensor::tracks_grad).collect();
        Ok(Tensor::from_op(storage, out, &refs, move |g| {
            let slices = needs.iter().zip(starts.iter().zip(&lens));
            slices
                .map(|(&need, (&start, &len))| need.then(|| g.narrow(axis, start, len)).transpose())
                .collect()
        }))
    }
}
