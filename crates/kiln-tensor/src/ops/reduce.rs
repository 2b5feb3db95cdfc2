//! Reductions over axes (sum, mean, max), their inverse `broadcast_to`, and argmax.
//!
//! NaN propagates as in PyTorch: a sum, mean or maximum over values that include NaN is NaN,
//! and argmax points at a row's first NaN.

use super::{kernels_of, MAX_F32_INDEX};
use crate::kernels::{BinaryOp, ReduceDims, ReduceOp};
use crate::{Error, Result, Shape, Tensor};

/// Sorted, deduplicated axes, each checked against `shape`.
fn check_axes(op: &'static str, shape: &Shape, axes: &[usize]) -> Result<Vec<usize>> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for &a in &sorted {
        shape.check_axis(op, a)?;
    }
    Ok(sorted)
}

/// `shape` with the given axes set to 1.
fn keepdim_shape(shape: &Shape, axes: &[usize]) -> Shape {
    let dims = shape.dims().iter().enumerate();
    Shape::from(
        dims.map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
            .collect::<Vec<_>>(),
    )
}

/// `shape` without the given axes.
fn dropped_shape(shape: &Shape, axes: &[usize]) -> Shape {
    let dims = shape.dims().iter().enumerate();
    Shape::from(
        dims.filter(|(i, _)| !axes.contains(i))
            .map(|(_, &d)| d)
            .collect::<Vec<_>>(),
    )
}

impl Tensor {
    /// Reduces over `axes` (sorted) without recording; the result has those axes set to 1.
    fn reduce_raw(&self, op: ReduceOp, axes: &[usize]) -> Result<Tensor> {
        let k = kernels_of("reduce", &[self])?;
        let mut dims = self.dims().to_vec();
        let mut storage = None;
        for &axis in axes {
            let dims_now = ReduceDims {
                outer: dims[..axis].iter().product(),
                len: dims[axis],
                inner: dims[axis + 1..].iter().product(),
            };
            let reduced = match &storage {
                None => k.reduce(op, &*self.try_storage()?, dims_now)?,
                Some(s) => k.reduce(op, s, dims_now)?,
            };
            storage = Some(reduced);
            dims[axis] = 1;
        }
        let storage = match storage {
            Some(s) => s,
            None => k.duplicate(&*self.try_storage()?)?,
        };
        Ok(Tensor::from_storage(storage, Shape::from(dims)))
    }

    /// Sum over `axes`; with `keepdim` the reduced axes stay as size 1.
    pub fn sum(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        let axes = check_axes("sum", self.shape(), axes)?;
        let kept = keepdim_shape(self.shape(), &axes);
        let out = if keepdim {
            kept.clone()
        } else {
            dropped_shape(self.shape(), &axes)
        };
        let reduced = self.reduce_raw(ReduceOp::Sum, &axes)?;
        let input = self.shape().clone();
        Ok(Tensor::from_op_shared(
            reduced.0.storage.clone(),
            out,
            &[self],
            move |g| {
                Ok(vec![Some(
                    g.reshape(kept.dims())?.broadcast_to(input.dims())?,
                )])
            },
        ))
    }

    /// Mean over `axes`; with `keepdim` the reduced axes stay as size 1. The sum is divided by
    /// the count in the tensor's dtype (an `f64` mean is not rounded through `f32`).
    pub fn mean(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        let axes = check_axes("mean", self.shape(), axes)?;
        let count: usize = axes.iter().map(|&a| self.dims()[a]).product();
        let count = Tensor::full_on(&[], count as f64, self.dtype(), self.device())?;
        self.sum(&axes, keepdim)?.div(&count)
    }

    /// Maximum over `axes`; NaN where the values include NaN. The gradient is split evenly
    /// between the positions equal to the maximum (the NaNs, where the maximum is NaN), as
    /// PyTorch's `amax` splits it, so that it adds up to the incoming gradient. An axis of
    /// length 0 has no maximum: an error.
    pub fn max(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        let axes = check_axes("max", self.shape(), axes)?;
        if let Some(&axis) = axes.iter().find(|&&a| self.dims()[a] == 0) {
            return Err(Error::invalid(
                "max",
                format!(
                    "axis {axis} of shape {} has length 0: there is no maximum",
                    self.shape()
                ),
            ));
        }
        let kept = keepdim_shape(self.shape(), &axes);
        let out = if keepdim {
            kept.clone()
        } else {
            dropped_shape(self.shape(), &axes)
        };
        let reduced = self.reduce_raw(ReduceOp::Max, &axes)?;
        let x = self.clone();
        let m = reduced.clone();
        Ok(Tensor::from_op_shared(
            reduced.0.storage.clone(),
            out,
            &[self],
            move |g| {
                let mask = x.matches(&m)?;
                let ties = mask.sum(&axes, true)?;
                Ok(vec![Some(mask.mul(&g.reshape(kept.dims())?.div(&ties)?)?)])
            },
        ))
    }

    /// Sum of all elements, as a scalar.
    pub fn sum_all(&self) -> Result<Tensor> {
        self.reshape(&[self.numel()])?.sum(&[0], false)
    }

    /// Mean of all elements, as a scalar.
    pub fn mean_all(&self) -> Result<Tensor> {
        self.reshape(&[self.numel()])?.mean(&[0], false)
    }

    /// Maximum of all elements, as a scalar (NaN if any element is NaN; an error for an empty
    /// tensor).
    pub fn max_all(&self) -> Result<Tensor> {
        self.reshape(&[self.numel()])?.max(&[0], false)
    }

    // ANCHOR: sum_to
    /// Sums a broadcast result back to `shape` (the inverse of broadcasting to this shape).
    pub fn sum_to(&self, shape: &Shape) -> Result<Tensor> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        if shape.broadcast(self.shape(), "sum_to")? != *self.shape() {
            return Err(Error::ShapeMismatch {
                op: "sum_to",
                lhs: self.shape().clone(),
                rhs: shape.clone(),
            });
        }
        let extra = self.rank() - shape.rank();
        let axes: Vec<usize> = (0..self.rank())
            .filter(|&i| i < extra || (shape.dims()[i - extra] == 1 && self.dims()[i] != 1))
            .collect();
        self.sum(&axes, true)?.reshape(shape.dims())
    }
    // ANCHOR_END: sum_to

    /// This tensor broadcast to `dims` (NumPy rules); the gradient sums back.
    pub fn broadcast_to(&self, dims: &[usize]) -> Result<Tensor> {
        let target = Shape::checked("broadcast_to", dims)?;
        if self.shape().broadcast(&target, "broadcast_to")? != target {
            return Err(Error::ShapeMismatch {
                op: "broadcast_to",
                lhs: self.shape().clone(),
                rhs: target,
            });
        }
        if *self.shape() == target {
            return Ok(self.clone());
        }
        let k = kernels_of("broadcast_to", &[self])?;
        // x + (-0) is x for every x, -0 included (x + 0 would turn -0 into +0).
        let zeros = k.fill(self.dtype(), target.numel(), -0.0)?;
        let storage = k.binary(
            BinaryOp::Add,
            (&*self.try_storage()?, self.shape()),
            (&zeros, &target),
            &target,
        )?;
        let input = self.shape().clone();
        Ok(Tensor::from_op(storage, target, &[self], move |g| {
            Ok(vec![Some(g.sum_to(&input)?)])
        }))
    }

    /// Index of the maximum along the last axis (first on ties), as `f32`; shape drops the last
    /// axis. In a row that holds NaN, the index of its first NaN (as PyTorch). No gradient. A
    /// last axis of length 0 has no maximum, and one longer than 2^24 has indices `f32` cannot
    /// hold: both are errors.
    pub fn argmax(&self) -> Result<Tensor> {
        let cols = *self.dims().last().ok_or_else(|| {
            Error::invalid("argmax", "a scalar has no axis to take the argmax over")
        })?;
        if cols == 0 || cols > MAX_F32_INDEX {
            return Err(Error::invalid(
                "argmax",
                format!(
                    "the last axis of shape {} has length {cols}: it must be 1 to 2^24",
                    self.shape()
                ),
            ));
        }
        let rows = self.numel() / cols;
        let storage = kernels_of("argmax", &[self])?.argmax(&*self.try_storage()?, rows, cols)?;
        let out = self.dims()[..self.rank() - 1].to_vec();
        Ok(Tensor::from_storage(storage, Shape::from(out)))
    }
}
