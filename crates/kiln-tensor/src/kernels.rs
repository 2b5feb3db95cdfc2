//! The kernel interface: one method per primitive that autograd and the ops need.
//!
//! Operations never touch host vectors or GPU buffers directly; they validate shapes and then
//! call these methods on the [`Kernels`] implementation of the operands' device. The CPU
//! reference ([`crate::cpu::CpuKernels`]) is the specification; the GPU implementation is checked
//! against it on random inputs.
//!
//! Conventions: storages are contiguous row-major; shapes have been validated by the caller;
//! methods return freshly allocated storage unless they take `&mut`.

use crate::{DType, Error, Result, Shape, Storage};

/// Elementwise functions of one argument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnaryOp {
    /// -x.
    Neg,
    /// e^x.
    Exp,
    /// Natural logarithm.
    Log,
    /// Square root.
    Sqrt,
    /// max(x, 0); NaN stays NaN.
    Relu,
    /// 1 / (1 + e^-x).
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// x^p for a scalar p.
    Powf(f32),
    /// x + c.
    AddScalar(f32),
    /// x * c.
    MulScalar(f32),
    /// |x|.
    Abs,
    /// -1, 0 or 1 as x is negative, zero or positive (the derivative of `Abs`).
    Sign,
    /// GELU, exact: `x Φ(x) = x (1 + erf(x / √2)) / 2`.
    GeluErf,
    /// The derivative of `GeluErf`: `Φ(x) + x φ(x)`.
    GeluErfGrad,
    /// GELU, tanh form: `x (1 + tanh(u)) / 2` with `u = √(2/π) (x + 0.044715 x³)`.
    GeluTanh,
    /// The derivative of `GeluTanh`.
    GeluTanhGrad,
    /// SiLU (swish): `x sigmoid(x)`.
    Silu,
    /// The derivative of `Silu`: `s (1 + x (1 - s))` with `s = sigmoid(x)`.
    SiluGrad,
    /// x where x > 0, else `slope * x`.
    LeakyRelu(f32),
    /// The derivative of `LeakyRelu`: 1 where x > 0, else `slope`.
    LeakyReluGrad(f32),
    /// x limited to `[low, high]`.
    Clamp(f32, f32),
    /// The derivative of `Clamp`: 1 where `low <= x <= high`, else 0.
    ClampGrad(f32, f32),
}

/// `√(2/π)`, the scale of the tanh form of GELU.
pub(crate) const GELU_TANH_SCALE: f32 = 0.797_884_6;
/// The cubic coefficient of the tanh form of GELU.
pub(crate) const GELU_TANH_CUBIC: f32 = 0.044_715;

/// Elementwise functions of two broadcast arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// a + b.
    Add,
    /// a - b.
    Sub,
    /// a * b.
    Mul,
    /// a / b.
    Div,
    /// 1 where a == b, else 0: a comparison, so 0 where either is NaN (IEEE, as `torch.eq`).
    Eq,
    /// 0 where b <= 0, else a: ReLU's gradient `g` masked by its output `y`, in one pass. Where
    /// `y` is NaN, `g` passes, as in PyTorch (`threshold_backward(g, y, 0)`).
    MaskPositive,
    /// 1 where a == b or both are NaN, else 0: where a maximum came from, NaN included.
    Matches,
    /// The larger of a and b; NaN when either is NaN.
    Maximum,
    /// The smaller of a and b; NaN when either is NaN.
    Minimum,
    /// The share of the gradient of `maximum(a, b)` that goes to `a`: 1 where a > b, 1/2 where
    /// a == b, 0 where a < b, 1 where either is NaN (PyTorch's rule; `Minimum` uses it with the
    /// operands swapped).
    MaxShare,
    /// a where b != 0 (NaN included), else -0: one branch of a select (adding -0 to the other
    /// branch's value leaves it as it is, -0 included).
    Pick,
}

/// Reductions along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceOp {
    /// The sum.
    Sum,
    /// The largest value; NaN when the values include NaN (IEEE `maximum`, as PyTorch).
    Max,
}

/// A tensor viewed as `[outer, len, inner]`, reduced over the middle axis to `[outer, inner]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReduceDims {
    /// Product of the dimensions before the reduced axis.
    pub outer: usize,
    /// Length of the reduced axis.
    pub len: usize,
    /// Product of the dimensions after the reduced axis.
    pub inner: usize,
}

/// A batched matrix product `C[b] = op(A[b]) · op(B[b])` with `C[b]` of shape `[m, n]`.
///
/// Without transposition `A[b]` is `[m, k]` and `B[b]` is `[k, n]`; `trans_a` stores `A[b]` as
/// `[k, m]` and `trans_b` stores `B[b]` as `[n, k]`, so no transpose is ever materialized.
/// An operand whose `*_batched` flag is false is one matrix shared by every batch entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatmulDims {
    /// Number of products.
    pub batch: usize,
    /// Rows of `C[b]` and of `op(A[b])`.
    pub m: usize,
    /// The contracted dimension.
    pub k: usize,
    /// Columns of `C[b]` and of `op(B[b])`.
    pub n: usize,
    /// `A[b]` is stored `[k, m]`.
    pub trans_a: bool,
    /// `B[b]` is stored `[n, k]`.
    pub trans_b: bool,
    /// `A` holds one matrix per batch entry (else one shared matrix).
    pub a_batched: bool,
    /// `B` holds one matrix per batch entry (else one shared matrix).
    pub b_batched: bool,
}

/// Geometry of a 2-D convolution: input `[n, c_in, h, w]`, weight `[c_out, c_in, kh, kw]`,
/// output `[n, c_out, oh, ow]` with `oh = (h + pad_top + pad_bottom - kh) / stride_h + 1`
/// (likewise `ow`). Padding is zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dDims {
    /// Images in the batch.
    pub n: usize,
    /// Input channels.
    pub c_in: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels (filters).
    pub c_out: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// `(vertical, horizontal)` stride.
    pub stride: (usize, usize),
    /// Zero padding (top, left); bottom/right padding is implied by `oh`, `ow`.
    pub pad: (usize, usize),
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
}

/// Geometry of a 2-D pooling: input `[n, c, h, w]` viewed as `planes = n * c` planes, output
/// `[n, c, oh, ow]` with `oh = (h + 2 * pad_h - kh) / stride_h + 1` (likewise `ow`). Windows
/// reach into the padding but only in-bounds values count: padding never wins a maximum, and an
/// average divides by `kh * kw` whatever part of the window lies in the padding (PyTorch's
/// `count_include_pad=True`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2dDims {
    /// Input planes (`n * c`).
    pub planes: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Window height.
    pub kh: usize,
    /// Window width.
    pub kw: usize,
    /// `(vertical, horizontal)` stride.
    pub stride: (usize, usize),
    /// `(vertical, horizontal)` padding on each side.
    pub pad: (usize, usize),
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
}

/// A block copy between two tensors viewed as `[outer, src_axis, inner]` and
/// `[outer, dst_axis, inner]`: rows `src_start..src_start + len` of the middle axis of the
/// source go to rows `dst_start..dst_start + len` of the destination, for every `outer` and
/// `inner` index. Concatenation and slicing along any axis are such copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlabDims {
    /// Product of the dimensions before the axis.
    pub outer: usize,
    /// Product of the dimensions after the axis.
    pub inner: usize,
    /// Rows of the axis copied.
    pub len: usize,
    /// Length of the source's axis.
    pub src_axis: usize,
    /// First source row copied.
    pub src_start: usize,
    /// Length of the destination's axis.
    pub dst_axis: usize,
    /// First destination row written.
    pub dst_start: usize,
}

/// A batch-norm input viewed as `[n, c, spatial]`: statistics are per channel `c`, over
/// `n * spatial` values (`spatial = 1` for `[n, c]` inputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BnDims {
    /// Batch size.
    pub n: usize,
    /// Channels (features).
    pub c: usize,
    /// Values per channel and sample (`h * w` for images).
    pub spatial: usize,
}

/// A layer-norm input viewed as `[rows, cols]`: each row is normalized over its `cols` values,
/// and the affine parameters are `[cols]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LnDims {
    /// Rows normalized independently (the product of the leading dimensions).
    pub rows: usize,
    /// Values per row (the product of the normalized trailing dimensions).
    pub cols: usize,
}

/// One Adam/AdamW step's hyper-parameters. `step` counts from 1 (bias correction).
/// `decoupled` selects AdamW (decay applied to the weights) over Adam (L2 added to the gradient).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamStep {
    /// Learning rate.
    pub lr: f32,
    /// Decay of the first-moment average.
    pub beta1: f32,
    /// Decay of the second-moment average.
    pub beta2: f32,
    /// Added to the denominator's square root.
    pub eps: f32,
    /// L2 penalty (Adam) or weight decay rate (AdamW).
    pub weight_decay: f32,
    /// AdamW's decoupled decay instead of Adam's L2 term.
    pub decoupled: bool,
    /// This step's number, from 1.
    pub step: u32,
}

/// Whether every one of `values` is finite and at least 0.
fn finite_non_negative(values: &[f32]) -> bool {
    values.iter().all(|v| v.is_finite() && *v >= 0.0)
}

impl AdamStep {
    /// An error naming `op` unless the betas are in `[0, 1)`, the learning rate, `eps` and the
    /// decay finite and at least 0, and `step` at least 1 (at 0 the bias corrections divide by
    /// 0).
    pub fn check(&self, op: &'static str) -> Result<()> {
        let betas = (0.0..1.0).contains(&self.beta1) && (0.0..1.0).contains(&self.beta2);
        if !betas || !finite_non_negative(&[self.lr, self.eps, self.weight_decay]) {
            return Err(Error::invalid(
                op,
                format!("betas must be in [0, 1) and the rest finite and >= 0, got {self:?}"),
            ));
        }
        if self.step == 0 {
            return Err(Error::invalid(
                op,
                "step counts from 1 (at 0 the bias corrections divide by 0)",
            ));
        }
        Ok(())
    }

    /// `step` as the exponent of the bias corrections `1 - β^t`: steps past `i32::MAX` give
    /// `i32::MAX` (where `β^t` has long been 0) rather than wrapping to a negative power.
    pub(crate) fn exponent(&self) -> i32 {
        i32::try_from(self.step).unwrap_or(i32::MAX)
    }
}

/// One SGD step's hyper-parameters (PyTorch's formulation of momentum and Nesterov).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdStep {
    /// Learning rate.
    pub lr: f32,
    /// Momentum factor; 0 for plain SGD.
    pub momentum: f32,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
}

impl SgdStep {
    /// An error naming `op` unless the learning rate, momentum and decay are finite and at
    /// least 0, and Nesterov has momentum.
    pub fn check(&self, op: &'static str) -> Result<()> {
        let finite = finite_non_negative(&[self.lr, self.momentum, self.weight_decay]);
        if !finite || (self.nesterov && self.momentum == 0.0) {
            return Err(Error::invalid(
                op,
                format!(
                    "hyper-parameters must be finite and >= 0, and Nesterov needs momentum, \
                     got {self:?}"
                ),
            ));
        }
        Ok(())
    }
}

/// The primitives of one device. Every method validates nothing about shapes (the ops did) but
/// returns an error for storages of the wrong device or dtype.
pub trait Kernels: Send + Sync {
    /// Storage of `len` elements, all `value`.
    fn fill(&self, dtype: DType, len: usize, value: f64) -> Result<Storage>;
    /// A copy of `x` on this device.
    fn upload(&self, x: &Storage) -> Result<Storage>;
    /// A copy of the elements.
    fn duplicate(&self, x: &Storage) -> Result<Storage>;
    /// The elements as host `f64` values (for reading back results).
    fn read_f64(&self, x: &Storage) -> Result<Vec<f64>>;

    /// `op(x)` elementwise.
    fn unary(&self, op: UnaryOp, x: &Storage) -> Result<Storage>;
    /// `op(a, b)` elementwise with `a` and `b` broadcast to `out`.
    fn binary(
        &self,
        op: BinaryOp,
        a: (&Storage, &Shape),
        b: (&Storage, &Shape),
        out: &Shape,
    ) -> Result<Storage>;
    /// Reduces `[outer, len, inner]` to `[outer, inner]`.
    fn reduce(&self, op: ReduceOp, x: &Storage, dims: ReduceDims) -> Result<Storage>;
    /// Index of the largest value of each row of `[rows, cols]`, as `f32` (first on ties); in
    /// a row holding NaN, the index of its first NaN (as PyTorch). `cols` is at least 1.
    fn argmax(&self, x: &Storage, rows: usize, cols: usize) -> Result<Storage>;
    /// Axis permutation: output axis `i` is input axis `perm[i]`.
    fn permute(&self, x: &Storage, shape: &Shape, perm: &[usize]) -> Result<Storage>;

    /// Copies a block of `src` into `dst` in place, see [`SlabDims`].
    fn copy_slab(&self, src: &Storage, dst: &mut Storage, dims: SlabDims) -> Result<()>;

    /// Batched matrix product, see [`MatmulDims`]. Output `[batch, m, n]`.
    fn matmul(&self, a: &Storage, b: &Storage, dims: MatmulDims) -> Result<Storage>;
    /// Convolution forward (no bias): `x`, `w` to `y` per [`Conv2dDims`].
    fn conv2d(&self, x: &Storage, w: &Storage, dims: Conv2dDims) -> Result<Storage>;
    /// Gradient of the convolution with respect to its input, from `gy` and `w`.
    fn conv2d_backward_data(&self, gy: &Storage, w: &Storage, dims: Conv2dDims) -> Result<Storage>;
    /// Gradient of the convolution with respect to its weight, from `x` and `gy`.
    fn conv2d_backward_weight(
        &self,
        x: &Storage,
        gy: &Storage,
        dims: Conv2dDims,
    ) -> Result<Storage>;

    /// Max pooling: `(y, argmax)`, both `[planes, oh, ow]`, where `argmax` holds, as `f32`, the
    /// index `iy * w + ix` within its plane of the value each output took: the first largest
    /// value in row-major window order, or the window's first NaN (which wins, as in PyTorch).
    fn max_pool2d(&self, x: &Storage, dims: Pool2dDims) -> Result<(Storage, Storage)>;
    /// Gradient of max pooling with respect to its input: each `gy` goes to its `argmax`.
    fn max_pool2d_backward(
        &self,
        gy: &Storage,
        argmax: &Storage,
        dims: Pool2dDims,
    ) -> Result<Storage>;
    /// Average pooling `[planes, h, w]` to `[planes, oh, ow]` (see [`Pool2dDims`]).
    fn avg_pool2d(&self, x: &Storage, dims: Pool2dDims) -> Result<Storage>;
    /// Gradient of average pooling with respect to its input.
    fn avg_pool2d_backward(&self, gy: &Storage, dims: Pool2dDims) -> Result<Storage>;

    /// Per-channel mean and biased variance, each `[c]`.
    fn bn_stats(&self, x: &Storage, dims: BnDims) -> Result<(Storage, Storage)>;
    /// `y = (x - mean) / sqrt(var + eps) * gamma + beta` per channel; gamma/beta default 1/0.
    #[allow(clippy::too_many_arguments)]
    fn bn_normalize(
        &self,
        x: &Storage,
        mean: &Storage,
        var: &Storage,
        gamma: Option<&Storage>,
        beta: Option<&Storage>,
        eps: f32,
        dims: BnDims,
    ) -> Result<Storage>;
    /// Backward of [`Kernels::bn_normalize`]: returns `(gx, sum(gy * x_hat), sum(gy))`, the last
    /// two per channel (the gradients of gamma and beta). With `batch_stats` the mean and
    /// variance are taken to be functions of `x` (train mode); otherwise constants (eval mode).
    #[allow(clippy::too_many_arguments)]
    fn bn_backward(
        &self,
        gy: &Storage,
        x: &Storage,
        mean: &Storage,
        var: &Storage,
        gamma: Option<&Storage>,
        eps: f32,
        dims: BnDims,
        batch_stats: bool,
    ) -> Result<(Storage, Storage, Storage)>;

    /// Layer normalization of each row of `[rows, cols]`:
    /// `y = (x - mean) * rstd * gamma + beta` with the row's mean and `rstd = 1 / sqrt(var + eps)`
    /// (biased variance), `gamma` and `beta` `[cols]` defaulting to 1 and 0. Returns
    /// `(y, mean, rstd)`, the last two `[rows]`.
    fn layer_norm(
        &self,
        x: &Storage,
        gamma: Option<&Storage>,
        beta: Option<&Storage>,
        eps: f32,
        dims: LnDims,
    ) -> Result<(Storage, Storage, Storage)>;
    /// Backward of [`Kernels::layer_norm`] from the saved `mean` and `rstd`: returns
    /// `(gx, dgamma, dbeta)`, the last two `[cols]` (`Σ gy x̂` and `Σ gy` over the rows).
    #[allow(clippy::too_many_arguments)]
    fn layer_norm_backward(
        &self,
        gy: &Storage,
        x: &Storage,
        mean: &Storage,
        rstd: &Storage,
        gamma: Option<&Storage>,
        dims: LnDims,
    ) -> Result<(Storage, Storage, Storage)>;

    /// Row-wise log-softmax of `[rows, cols]`.
    fn log_softmax(&self, x: &Storage, rows: usize, cols: usize) -> Result<Storage>;
    /// Mean softmax cross-entropy of logits `[rows, cols]` against `labels` (`rows` class
    /// indices, each `< cols`) with label smoothing `s` in `[0, 1]` (PyTorch's definition; 0
    /// for none), fused with its gradient: each row's loss is
    /// `(1 - s) * nll + s * mean_j(-log p_j)`; returns `(loss [1], dlogits)` with
    /// `dlogits = (softmax - (1 - s) * onehot - s / cols) / rows`.
    fn softmax_cross_entropy_smoothed(
        &self,
        logits: &Storage,
        labels: &[u32],
        rows: usize,
        cols: usize,
        smoothing: f32,
    ) -> Result<(Storage, Storage)>;
    /// Inverted-dropout mask of `len` elements: `1 / (1 - p)` where kept, `0` where dropped.
    /// Element `i` is dropped when `hash(seed, i)` falls below `p`, so every device draws the
    /// same mask for the same seed (see [`crate::random::uniform_hash`]).
    fn dropout_mask(&self, dtype: DType, len: usize, p: f32, seed: u64) -> Result<Storage>;

    /// One Adam/AdamW step in place on `param` and its moments `m`, `v`.
    fn adam_step(
        &self,
        param: &mut Storage,
        grad: &Storage,
        m: &mut Storage,
        v: &mut Storage,
        hp: AdamStep,
    ) -> Result<()>;
    /// One SGD step in place on `param`, and on the momentum buffer when `hp.momentum > 0`.
    fn sgd_step(
        &self,
        param: &mut Storage,
        grad: &Storage,
        velocity: Option<&mut Storage>,
        hp: SgdStep,
    ) -> Result<()>;
}
