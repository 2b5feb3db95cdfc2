//! The CPU reference kernels: plain `ndarray` code, generic over the float type so that
//! gradient checks can run in `f64`, and fast where training needs it (matmul and convolution
//! go through a multithreaded GEMM).

mod batch_norm;
mod conv;
mod conv_by_tap;
mod dropout;
mod elementwise;
mod layer_norm;
mod layout;
mod matmul;
mod optim;
pub(crate) mod pool;
mod pooling;
mod reduce;
mod softmax;

use crate::kernels::*;
use crate::{DType, Error, Result, Shape, Storage};
use std::fmt::Debug;
use std::iter::Sum;

/// The float types the CPU kernels run on: `f32` and `f64`.
pub trait Element:
    num_traits::Float + num_traits::FromPrimitive + Sum + Debug + Send + Sync + pool::Pooled
{
    /// Converts an `f32` hyper-parameter to this type.
    fn of(x: f32) -> Self {
        Self::from_f32(x).expect("f32 fits every element type")
    }
    /// The larger of `self` and `other`, or NaN when either is NaN (IEEE 754 `maximum`, as
    /// PyTorch's `max`; `Float::max` returns the other operand instead).
    fn max_nan(self, other: Self) -> Self {
        if self.is_nan() || self > other {
            self
        } else {
            other
        }
    }
    /// The smaller of `self` and `other`, or NaN when either is NaN (IEEE 754 `minimum`).
    fn min_nan(self, other: Self) -> Self {
        if self.is_nan() || self < other {
            self
        } else {
            other
        }
    }
    /// The error function.
    fn erf(self) -> Self;
    /// Host elements of this type as [`Storage`].
    fn wrap(v: Vec<Self>) -> Storage;
}
impl Element for f32 {
    fn erf(self) -> Self {
        libm::erff(self)
    }
    fn wrap(v: Vec<Self>) -> Storage {
        Storage::F32(v)
    }
}
impl Element for f64 {
    fn erf(self) -> Self {
        libm::erf(self)
    }
    fn wrap(v: Vec<Self>) -> Storage {
        Storage::F64(v)
    }
}
impl pool::Pooled for f32 {
    fn pool() -> &'static std::sync::Mutex<pool::Pool<f32>> {
        static POOL: std::sync::LazyLock<std::sync::Mutex<pool::Pool<f32>>> =
            std::sync::LazyLock::new(Default::default);
        &POOL
    }
}
impl pool::Pooled for f64 {
    fn pool() -> &'static std::sync::Mutex<pool::Pool<f64>> {
        static POOL: std::sync::LazyLock<std::sync::Mutex<pool::Pool<f64>>> =
            std::sync::LazyLock::new(Default::default);
        &POOL
    }
}

/// The CPU implementation of [`Kernels`]: dispatches on the storages' dtype to the generic
/// functions of this module.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuKernels;

/// Runs `$body` with each `$name` bound to the host vector of `$s`, once per dtype; storages of
/// mixed dtypes are an error naming `$op`. The body wraps its vectors back with [`wrap`]; it may
/// use `?` on allocations, whose failure becomes an [`Error::OutOfMemory`] naming `$op`.
macro_rules! typed {
    ($op:expr, [$($name:ident = $s:expr),+], $body:expr) => {{
        match ($($s,)+) {
            ($(Storage::F32($name),)+) => (|| -> Alloc<_> { Ok($body) })(),
            ($(Storage::F64($name),)+) => (|| -> Alloc<_> { Ok($body) })(),
            #[allow(unreachable_patterns)]
            _ => return Err(mixed($op, &[$($s),+])),
        }
        .map_err(|e| e.during($op))?
    }};
}

/// The result of a computation that allocates host memory.
type Alloc<T> = std::result::Result<T, pool::AllocError>;

/// Host elements back into storage.
fn wrap<T: Element>(v: Vec<T>) -> Storage {
    T::wrap(v)
}

/// The error for storages of different dtypes.
fn mixed(op: &'static str, all: &[&Storage]) -> Error {
    let first = all[0];
    match all.iter().find(|s| s.device() != first.device()) {
        Some(o) => Error::DeviceMismatch {
            op,
            lhs: first.device(),
            rhs: o.device(),
        },
        None => {
            let other = all
                .iter()
                .find(|s| s.dtype() != first.dtype())
                .unwrap_or(&first);
            Error::DTypeMismatch {
                op,
                lhs: first.dtype(),
                rhs: other.dtype(),
            }
        }
    }
}

impl Kernels for CpuKernels {
    fn fill(&self, dtype: DType, len: usize, value: f64) -> Result<Storage> {
        let filled = match dtype {
            DType::F32 => pool::filled(len, value as f32).map(Storage::F32),
            DType::F64 => pool::filled(len, value).map(Storage::F64),
        };
        filled.map_err(|e| e.during("fill"))
    }

    fn upload(&self, x: &Storage) -> Result<Storage> {
        match x {
            Storage::Gpu(b) => Ok(Storage::F32(b.read()?)),
            _ => self.duplicate(x),
        }
    }

    fn duplicate(&self, x: &Storage) -> Result<Storage> {
        Ok(typed!("copy", [x = x], {
            let mut copy = pool::for_overwrite(x.len())?;
            copy.copy_from_slice(x);
            wrap(copy)
        }))
    }

    fn read_f64(&self, x: &Storage) -> Result<Vec<f64>> {
        Ok(typed!("read", [x = x], {
            let mut values = pool::with_capacity(x.len())?;
            values.extend(
                x.iter()
                    .map(|e| num_traits::ToPrimitive::to_f64(e).unwrap_or(f64::NAN)),
            );
            values
        }))
    }

    fn unary(&self, op: UnaryOp, x: &Storage) -> Result<Storage> {
        Ok(typed!("unary", [x = x], wrap(elementwise::unary(op, x)?)))
    }

    fn binary(
        &self,
        op: BinaryOp,
        a: (&Storage, &Shape),
        b: (&Storage, &Shape),
        out: &Shape,
    ) -> Result<Storage> {
        Ok(typed!("binary", [x = a.0, y = b.0], {
            wrap(elementwise::binary(op, (x, a.1), (y, b.1), out)?)
        }))
    }

    fn reduce(&self, op: ReduceOp, x: &Storage, dims: ReduceDims) -> Result<Storage> {
        Ok(typed!(
            "reduce",
            [x = x],
            wrap(reduce::reduce(op, x, dims)?)
        ))
    }

    fn argmax(&self, x: &Storage, rows: usize, cols: usize) -> Result<Storage> {
        Ok(typed!(
            "argmax",
            [x = x],
            wrap(reduce::argmax(x, rows, cols)?)
        ))
    }

    fn permute(&self, x: &Storage, shape: &Shape, perm: &[usize]) -> Result<Storage> {
        Ok(typed!(
            "permute",
            [x = x],
            wrap(layout::permute(x, shape, perm)?)
        ))
    }

    fn copy_slab(&self, src: &Storage, dst: &mut Storage, dims: SlabDims) -> Result<()> {
        match (src, dst) {
            (Storage::F32(s), Storage::F32(d)) => layout::copy_slab(s, d, dims),
            (Storage::F64(s), Storage::F64(d)) => layout::copy_slab(s, d, dims),
            (s, d) => return Err(mixed("copy_slab", &[s, d])),
        }
        Ok(())
    }

    fn matmul(&self, a: &Storage, b: &Storage, dims: MatmulDims) -> Result<Storage> {
        Ok(typed!(
            "matmul",
            [a = a, b = b],
            wrap(matmul::matmul(a, b, dims)?)
        ))
    }

    fn conv2d(&self, x: &Storage, w: &Storage, dims: Conv2dDims) -> Result<Storage> {
        Ok(typed!(
            "conv2d",
            [x = x, w = w],
            wrap(if conv_by_tap::pays(&dims) {
                conv_by_tap::forward(x, w, dims)?
            } else {
                conv::forward(x, w, dims)?
            })
        ))
    }

    fn conv2d_backward_data(&self, gy: &Storage, w: &Storage, dims: Conv2dDims) -> Result<Storage> {
        Ok(typed!("conv2d_backward_data", [gy = gy, w = w], {
            wrap(if conv_by_tap::pays(&dims) {
                conv_by_tap::backward_data(gy, w, dims)?
            } else {
                conv::backward_data(gy, w, dims)?
            })
        }))
    }

    fn conv2d_backward_weight(
        &self,
        x: &Storage,
        gy: &Storage,
        dims: Conv2dDims,
    ) -> Result<Storage> {
        Ok(typed!("conv2d_backward_weight", [x = x, gy = gy], {
            wrap(if conv_by_tap::pays(&dims) {
                conv_by_tap::backward_weight(x, gy, dims)?
            } else {
                conv::backward_weight(x, gy, dims)?
            })
        }))
    }

    fn max_pool2d(&self, x: &Storage, dims: Pool2dDims) -> Result<(Storage, Storage)> {
        Ok(typed!("max_pool2d", [x = x], {
            let (y, argmax) = pooling::max_forward(x, dims)?;
            (wrap(y), wrap(argmax))
        }))
    }

    fn max_pool2d_backward(
        &self,
        gy: &Storage,
        argmax: &Storage,
        dims: Pool2dDims,
    ) -> Result<Storage> {
        Ok(typed!("max_pool2d_backward", [gy = gy, a = argmax], {
            wrap(pooling::max_backward(gy, a, dims)?)
        }))
    }

    fn avg_pool2d(&self, x: &Storage, dims: Pool2dDims) -> Result<Storage> {
        Ok(typed!(
            "avg_pool2d",
            [x = x],
            wrap(pooling::avg_forward(x, dims)?)
        ))
    }

    fn avg_pool2d_backward(&self, gy: &Storage, dims: Pool2dDims) -> Result<Storage> {
        Ok(typed!(
            "avg_pool2d_backward",
            [gy = gy],
            wrap(pooling::avg_backward(gy, dims)?)
        ))
    }

    fn bn_stats(&self, x: &Storage, dims: BnDims) -> Result<(Storage, Storage)> {
        Ok(typed!("batch_norm", [x = x], {
            let (m, v) = batch_norm::stats(x, dims)?;
            (wrap(m), wrap(v))
        }))
    }

    fn bn_normalize(
        &self,
        x: &Storage,
        mean: &Storage,
        var: &Storage,
        gamma: Option<&Storage>,
        beta: Option<&Storage>,
        eps: f32,
        dims: BnDims,
    ) -> Result<Storage> {
        let ones = self.fill(x.dtype(), dims.c, 1.0)?;
        let zeros = self.fill(x.dtype(), dims.c, 0.0)?;
        let (g, b) = (gamma.unwrap_or(&ones), beta.unwrap_or(&zeros));
        Ok(typed!(
            "batch_norm",
            [x = x, m = mean, v = var, g = g, b = b],
            wrap(batch_norm::normalize(x, m, v, g, b, eps, dims)?)
        ))
    }

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
    ) -> Result<(Storage, Storage, Storage)> {
        let ones = self.fill(x.dtype(), dims.c, 1.0)?;
        let g = gamma.unwrap_or(&ones);
        Ok(typed!(
            "batch_norm_backward",
            [gy = gy, x = x, m = mean, v = var, g = g],
            {
                let (gx, dgamma, dbeta) =
                    batch_norm::backward(gy, x, m, v, g, eps, dims, batch_stats)?;
                (wrap(gx), wrap(dgamma), wrap(dbeta))
            }
        ))
    }

    fn layer_norm(
        &self,
        x: &Storage,
        gamma: Option<&Storage>,
        beta: Option<&Storage>,
        eps: f32,
        dims: LnDims,
    ) -> Result<(Storage, Storage, Storage)> {
        let ones = self.fill(x.dtype(), dims.cols, 1.0)?;
        let zeros = self.fill(x.dtype(), dims.cols, 0.0)?;
        let (g, b) = (gamma.unwrap_or(&ones), beta.unwrap_or(&zeros));
        Ok(typed!("layer_norm", [x = x, g = g, b = b], {
            let (y, mean, rstd) = layer_norm::forward(x, g, b, eps, dims)?;
            (wrap(y), wrap(mean), wrap(rstd))
        }))
    }

    fn layer_norm_backward(
        &self,
        gy: &Storage,
        x: &Storage,
        mean: &Storage,
        rstd: &Storage,
        gamma: Option<&Storage>,
        dims: LnDims,
    ) -> Result<(Storage, Storage, Storage)> {
        let ones = self.fill(x.dtype(), dims.cols, 1.0)?;
        let g = gamma.unwrap_or(&ones);
        Ok(typed!(
            "layer_norm_backward",
            [gy = gy, x = x, m = mean, r = rstd, g = g],
            {
                let (gx, dgamma, dbeta) = layer_norm::backward(gy, x, m, r, g, dims)?;
                (wrap(gx), wrap(dgamma), wrap(dbeta))
            }
        ))
    }

    fn log_softmax(&self, x: &Storage, rows: usize, cols: usize) -> Result<Storage> {
        Ok(typed!(
            "log_softmax",
            [x = x],
            wrap(softmax::log_softmax(x, rows, cols)?)
        ))
    }

    fn softmax_cross_entropy_smoothed(
        &self,
        logits: &Storage,
        labels: &[u32],
        rows: usize,
        cols: usize,
        smoothing: f32,
    ) -> Result<(Storage, Storage)> {
        Ok(typed!("softmax_cross_entropy", [x = logits], {
            let (loss, grad) = softmax::cross_entropy(x, labels, rows, cols, smoothing)?;
            (wrap(vec![loss]), wrap(grad))
        }))
    }

    fn dropout_mask(&self, dtype: DType, len: usize, p: f32, seed: u64) -> Result<Storage> {
        let mask = match dtype {
            DType::F32 => dropout::dropout_mask::<f32>(len, p, seed).map(wrap),
            DType::F64 => dropout::dropout_mask::<f64>(len, p, seed).map(wrap),
        };
        mask.map_err(|e| e.during("dropout"))
    }

    fn adam_step(
        &self,
        param: &mut Storage,
        grad: &Storage,
        m: &mut Storage,
        v: &mut Storage,
        hp: AdamStep,
    ) -> Result<()> {
        match (param, grad, m, v) {
            (Storage::F32(p), Storage::F32(g), Storage::F32(m), Storage::F32(v)) => {
                optim::adam(p, g, m, v, hp)
            }
            (Storage::F64(p), Storage::F64(g), Storage::F64(m), Storage::F64(v)) => {
                optim::adam(p, g, m, v, hp)
            }
            (p, g, m, v) => return Err(mixed("adam", &[p, g, m, v])),
        }
        Ok(())
    }

    fn sgd_step(
        &self,
        param: &mut Storage,
        grad: &Storage,
        velocity: Option<&mut Storage>,
        hp: SgdStep,
    ) -> Result<()> {
        match (param, grad, velocity) {
            (Storage::F32(p), Storage::F32(g), Some(Storage::F32(v))) => {
                optim::sgd(p, g, Some(v), hp)
            }
            (Storage::F64(p), Storage::F64(g), Some(Storage::F64(v))) => {
                optim::sgd(p, g, Some(v), hp)
            }
            (Storage::F32(p), Storage::F32(g), None) => optim::sgd(p, g, None, hp),
            (Storage::F64(p), Storage::F64(g), None) => optim::sgd(p, g, None, hp),
            (p, g, _) => return Err(mixed("sgd", &[p, g])),
        }
        Ok(())
    }
}
