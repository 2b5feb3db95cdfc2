//! Elementwise arithmetic with NumPy broadcasting, scalar arithmetic, and activations.

use super::kernels_of;
use crate::kernels::{BinaryOp, UnaryOp};
use crate::{Result, Tensor};
use std::sync::{Arc, RwLock};

impl Tensor {
    /// `op` applied to each element; `grad(x, y, g)` gives the input gradient from the input,
    /// the output and the output gradient.
    fn unary_op(
        &self,
        op: UnaryOp,
        grad: impl Fn(&Tensor, &Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
    ) -> Result<Tensor> {
        let k = kernels_of("unary", &[self])?;
        let storage = Arc::new(RwLock::new(k.unary(op, &self.storage())?));
        let x = self.clone();
        // The backward closure sees the output through a handle outside the graph (no cycle).
        let y = Tensor::with_storage(storage.clone(), self.shape().clone(), false, None);
        Ok(Tensor::from_op_shared(
            storage,
            self.shape().clone(),
            &[self],
            move |g| Ok(vec![Some(grad(&x, &y, g)?)]),
        ))
    }

    // ANCHOR: binary_op
    /// `a op b` broadcast; `grad(a, b, g)` gives both input gradients at the output's shape.
    fn binary_op(
        &self,
        rhs: &Tensor,
        op: BinaryOp,
        name: &'static str,
        grad: impl Fn(&Tensor, &Tensor, &Tensor) -> Result<(Tensor, Tensor)> + Send + Sync + 'static,
    ) -> Result<Tensor> {
        let k = kernels_of(name, &[self, rhs])?;
        let out_shape = self.shape().broadcast(rhs.shape(), name)?;
        let storage = k.binary(
            op,
            (&self.storage(), self.shape()),
            (&rhs.storage(), rhs.shape()),
            &out_shape,
        )?;
        let (a, b) = (self.clone(), rhs.clone());
        Ok(Tensor::from_op(
            storage,
            out_shape,
            &[self, rhs],
            move |g| {
                let (ga, gb) = grad(&a, &b, g)?;
                Ok(vec![
                    Some(ga.sum_to(a.shape())?),
                    Some(gb.sum_to(b.shape())?),
                ])
            },
        ))
    }
    // ANCHOR_END: binary_op

    // ANCHOR: arithmetic
    /// `self + rhs`, broadcast.
    pub fn add(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Add, "add", |_, _, g| {
            Ok((g.clone(), g.clone()))
        })
    }

    /// `self - rhs`, broadcast.
    pub fn sub(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Sub, "sub", |_, _, g| {
            Ok((g.clone(), g.neg()?))
        })
    }

    /// `self * rhs`, broadcast.
    pub fn mul(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Mul, "mul", |a, b, g| {
            Ok((g.mul(b)?, g.mul(a)?))
        })
    }

    /// `self / rhs`, broadcast.
    pub fn div(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Div, "div", |a, b, g| {
            let ga = g.div(b)?;
            let gb = ga.mul(a)?.div(b)?.neg()?;
            Ok((ga, gb))
        })
    }
    // ANCHOR_END: arithmetic

    /// 1 where `self == rhs`, else 0 (broadcast; no gradient).
    pub fn eq(&self, rhs: &Tensor) -> Result<Tensor> {
        let k = kernels_of("eq", &[self, rhs])?;
        let out = self.shape().broadcast(rhs.shape(), "eq")?;
        let storage = k.binary(
            BinaryOp::Eq,
            (&self.storage(), self.shape()),
            (&rhs.storage(), rhs.shape()),
            &out,
        )?;
        Ok(Tensor::from_storage(storage, out))
    }

    /// `-self`.
    pub fn neg(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Neg, |_, _, g| g.neg())
    }

    /// `self + c`.
    pub fn add_scalar(&self, c: f32) -> Result<Tensor> {
        self.unary_op(UnaryOp::AddScalar(c), |_, _, g| Ok(g.clone()))
    }

    /// `self * c`.
    pub fn mul_scalar(&self, c: f32) -> Result<Tensor> {
        self.unary_op(UnaryOp::MulScalar(c), move |_, _, g| g.mul_scalar(c))
    }

    // ANCHOR: unary_rules
    /// `e^self`.
    pub fn exp(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Exp, |_, y, g| g.mul(y))
    }

    /// Natural logarithm.
    pub fn log(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Log, |x, _, g| g.div(x))
    }

    /// Square root.
    pub fn sqrt(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Sqrt, |_, y, g| g.div(y)?.mul_scalar(0.5))
    }

    /// `self^p` for a scalar exponent.
    pub fn powf(&self, p: f32) -> Result<Tensor> {
        self.unary_op(UnaryOp::Powf(p), move |x, _, g| {
            g.mul(&x.powf(p - 1.0)?)?.mul_scalar(p)
        })
    }

    /// `max(self, 0)`.
    pub fn relu(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Relu, |x, _, g| g.mul(&x.step()?))
    }
    // ANCHOR_END: unary_rules

    /// 1 where `self > 0`, else 0 (no gradient).
    pub fn step(&self) -> Result<Tensor> {
        let storage = kernels_of("step", &[self])?.unary(UnaryOp::Step, &self.storage())?;
        Ok(Tensor::from_storage(storage, self.shape().clone()))
    }

    /// `1 / (1 + e^-self)`.
    pub fn sigmoid(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Sigmoid, |_, y, g| {
            g.mul(&y.mul(&y.neg()?.add_scalar(1.0)?)?)
        })
    }

    /// Hyperbolic tangent.
    pub fn tanh(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Tanh, |_, y, g| {
            g.mul(&y.mul(y)?.neg()?.add_scalar(1.0)?)
        })
    }
}
