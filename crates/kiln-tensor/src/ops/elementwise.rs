//! Elementwise arithmetic with NumPy broadcasting, scalar arithmetic, and activations.
//!
//! NaN propagates through every function and arithmetic operation (IEEE 754, as in PyTorch):
//! `relu(NaN)` is NaN. Comparisons are IEEE comparisons: `eq` is 0 where either side is NaN.
//!
//! Each backward rule keeps only the values it reads: `relu`, `exp`, `sqrt`, `sigmoid` and
//! `tanh` keep their output, `log` and `powf` their input, `add`, `sub` and the scalar ops
//! nothing. A network's pre-activations are then freed as soon as the activation is computed.

use super::kernels_of;
use crate::kernels::{BinaryOp, UnaryOp};
use crate::storage::SharedStorage;
use crate::{Result, Shape, Storage, Tensor};

/// The value a unary backward rule reads besides the output gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Saves {
    /// The input.
    Input,
    /// The output.
    Output,
}

impl Tensor {
    /// `op` applied to each element, recording a rule that ignores the values: the input
    /// gradient is `g * scale`.
    fn unary_linear(&self, op: UnaryOp, scale: f32) -> Result<Tensor> {
        let storage = kernels_of("unary", &[self])?.unary(op, &*self.try_storage()?)?;
        Ok(Tensor::from_op(
            storage,
            self.shape().clone(),
            &[self],
            move |g| {
                Ok(vec![Some(if scale == 1.0 {
                    g.clone()
                } else {
                    g.mul_scalar(scale)?
                })])
            },
        ))
    }

    /// `op` applied to each element; `grad(saved, g)` gives the input gradient from the saved
    /// value (the input or the output, per `saves`) and the output gradient.
    pub(super) fn unary_op(
        &self,
        op: UnaryOp,
        saves: Saves,
        grad: impl Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
    ) -> Result<Tensor> {
        let k = kernels_of("unary", &[self])?;
        let storage = SharedStorage::new(k.unary(op, &*self.try_storage()?)?);
        let saved = match saves {
            Saves::Input => self.detach(),
            // A handle on the output's storage outside the graph (no cycle).
            Saves::Output => {
                Tensor::with_storage(storage.clone(), self.shape().clone(), false, None)
            }
        };
        Ok(Tensor::from_op_shared(
            storage,
            self.shape().clone(),
            &[self],
            move |g| Ok(vec![Some(grad(&saved, g)?)]),
        ))
    }

    /// `op` applied to each element, without recording (for backward rules).
    pub(super) fn unary_value(&self, op: UnaryOp) -> Result<Tensor> {
        let storage = kernels_of("unary", &[self])?.unary(op, &*self.try_storage()?)?;
        Ok(Tensor::from_storage(storage, self.shape().clone()))
    }

    /// `a op b` broadcast to their common shape, without recording.
    pub(super) fn binary_forward(
        &self,
        rhs: &Tensor,
        op: BinaryOp,
        name: &'static str,
    ) -> Result<(Storage, Shape)> {
        let k = kernels_of(name, &[self, rhs])?;
        let out = self.shape().broadcast(rhs.shape(), name)?;
        let storage = k.binary(
            op,
            (&*self.try_storage()?, self.shape()),
            (&*rhs.try_storage()?, rhs.shape()),
            &out,
        )?;
        Ok((storage, out))
    }

    // ANCHOR: binary_op
    /// `a op b` broadcast. `grad_a(a, b, g)` and `grad_b(a, b, g)` give the input gradients at
    /// the output's shape, summed back to each input's shape; each runs only when its input
    /// tracks gradients (a dropout mask or a data batch gets none).
    pub(super) fn binary_op(
        &self,
        rhs: &Tensor,
        op: BinaryOp,
        name: &'static str,
        grad_a: impl Fn(&Tensor, &Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
        grad_b: impl Fn(&Tensor, &Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
    ) -> Result<Tensor> {
        let (storage, out) = self.binary_forward(rhs, op, name)?;
        let needs = (self.tracks_grad(), rhs.tracks_grad());
        let (a, b) = (self.detach(), rhs.detach());
        Ok(Tensor::from_op(storage, out, &[self, rhs], move |g| {
            let ga = needs.0.then(|| grad_a(&a, &b, g)?.sum_to(a.shape()));
            let gb = needs.1.then(|| grad_b(&a, &b, g)?.sum_to(b.shape()));
            Ok(vec![ga.transpose()?, gb.transpose()?])
        }))
    }

    /// `a ± b` broadcast: gradients `g` and `±g` summed back to each shape, for the inputs that
    /// track gradients; no values kept.
    fn binary_linear(
        &self,
        rhs: &Tensor,
        op: BinaryOp,
        name: &'static str,
        sign: f32,
    ) -> Result<Tensor> {
        let (storage, out) = self.binary_forward(rhs, op, name)?;
        let (sa, sb) = (self.shape().clone(), rhs.shape().clone());
        let needs = (self.tracks_grad(), rhs.tracks_grad());
        Ok(Tensor::from_op(storage, out, &[self, rhs], move |g| {
            let ga = needs.0.then(|| g.sum_to(&sa));
            let gb = needs.1.then(|| match sign < 0.0 {
                true => g.neg()?.sum_to(&sb),
                false => g.sum_to(&sb),
            });
            Ok(vec![ga.transpose()?, gb.transpose()?])
        }))
    }
    // ANCHOR_END: binary_op

    // ANCHOR: arithmetic
    /// `self + rhs`, broadcast.
    pub fn add(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_linear(rhs, BinaryOp::Add, "add", 1.0)
    }

    /// `self - rhs`, broadcast.
    pub fn sub(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_linear(rhs, BinaryOp::Sub, "sub", -1.0)
    }

    /// `self * rhs`, broadcast.
    pub fn mul(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(
            rhs,
            BinaryOp::Mul,
            "mul",
            |_, b, g| g.mul(b),
            |a, _, g| g.mul(a),
        )
    }

    /// `self / rhs`, broadcast. The divisor's gradient `-g a / b²` is computed as
    /// `-g ((a / b) / b)`, as PyTorch does: `b²` alone leaves the `f32` range for `|b|` past
    /// about 1e19 or below 1e-19, where the gradient itself does not.
    pub fn div(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(
            rhs,
            BinaryOp::Div,
            "div",
            |_, b, g| g.div(b),
            |a, b, g| g.mul(&a.div(b)?.div(b)?)?.neg(),
        )
    }
    // ANCHOR_END: arithmetic

    /// 1 where `self == rhs`, else 0 (broadcast; no gradient). An IEEE comparison: 0 where either
    /// side is NaN, as `torch.eq`.
    pub fn eq(&self, rhs: &Tensor) -> Result<Tensor> {
        let (storage, out) = self.binary_forward(rhs, BinaryOp::Eq, "eq")?;
        Ok(Tensor::from_storage(storage, out))
    }

    /// 1 where `self == rhs` or both are NaN, else 0 (broadcast; no gradient): where a maximum
    /// came from.
    pub(crate) fn matches(&self, rhs: &Tensor) -> Result<Tensor> {
        let (storage, out) = self.binary_forward(rhs, BinaryOp::Matches, "matches")?;
        Ok(Tensor::from_storage(storage, out))
    }

    /// 0 where `by <= 0`, else `self` (broadcast; no gradient): ReLU's backward in one pass.
    /// Where `by` is NaN, `self` passes: PyTorch's `threshold_backward(self, by, 0)`, the rule
    /// of its ReLU, so the gradient at a NaN input is the incoming gradient.
    pub fn mask_positive(&self, by: &Tensor) -> Result<Tensor> {
        let (storage, out) = self.binary_forward(by, BinaryOp::MaskPositive, "mask_positive")?;
        Ok(Tensor::from_storage(storage, out))
    }

    /// `-self`.
    pub fn neg(&self) -> Result<Tensor> {
        self.unary_linear(UnaryOp::Neg, -1.0)
    }

    /// `self + c`.
    pub fn add_scalar(&self, c: f32) -> Result<Tensor> {
        self.unary_linear(UnaryOp::AddScalar(c), 1.0)
    }

    /// `self * c`.
    pub fn mul_scalar(&self, c: f32) -> Result<Tensor> {
        self.unary_linear(UnaryOp::MulScalar(c), c)
    }

    // ANCHOR: unary_rules
    /// `e^self`.
    pub fn exp(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Exp, Saves::Output, |y, g| g.mul(y))
    }

    /// Natural logarithm.
    pub fn log(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Log, Saves::Input, |x, g| g.div(x))
    }

    /// Square root.
    pub fn sqrt(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Sqrt, Saves::Output, |y, g| {
            g.div(y)?.mul_scalar(0.5)
        })
    }

    /// `self^p` for a scalar exponent. Its gradient `p · x^(p-1)` is 0 for `p = 0`, also at
    /// `x = 0` (where the product would be `0 · inf`), as in PyTorch.
    pub fn powf(&self, p: f32) -> Result<Tensor> {
        self.unary_op(UnaryOp::Powf(p), Saves::Input, move |x, g| {
            if p == 0.0 {
                return x.zeros_like();
            }
            g.mul(&x.powf(p - 1.0)?)?.mul_scalar(p)
        })
    }

    /// `max(self, 0)`; NaN stays NaN. The rule reads the output (`y > 0` exactly where `x > 0`)
    /// and follows PyTorch's: the gradient is 0 where `y <= 0` and passes elsewhere, at NaN
    /// inputs too ([`Tensor::mask_positive`]).
    pub fn relu(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Relu, Saves::Output, |y, g| g.mask_positive(y))
    }
    // ANCHOR_END: unary_rules

    /// `1 / (1 + e^-self)`.
    pub fn sigmoid(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Sigmoid, Saves::Output, |y, g| {
            g.mul(&y.mul(&y.neg()?.add_scalar(1.0)?)?)
        })
    }

    /// Hyperbolic tangent.
    pub fn tanh(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Tanh, Saves::Output, |y, g| {
            g.mul(&y.mul(y)?.neg()?.add_scalar(1.0)?)
        })
    }
}
