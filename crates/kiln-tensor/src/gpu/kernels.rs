//! [`GpuKernels`]: the [`Kernels`] interface on the GPU, one call into a family module per
//! primitive.

use super::{
    batch_norm, conv, elementwise, layer_norm, layout, matmul, optim, pooling, random, reduce,
    softmax, GpuBuffer, GpuContext,
};
use crate::kernels::*;
use crate::{DType, Device, Error, Result, Shape, Storage};

/// The GPU implementation of [`Kernels`], running on the process-wide context. Storages must be
/// [`Storage::Gpu`]; `f64` is refused with an error (the GPU runs `f32` only).
#[derive(Debug, Default, Clone, Copy)]
pub struct GpuKernels;

/// The GPU buffer of `s`, or an error naming `op` when it lives elsewhere.
fn buf<'a>(op: &'static str, s: &'a Storage) -> Result<&'a GpuBuffer> {
    match s {
        Storage::Gpu(b) => Ok(b),
        Storage::F64(_) => Err(f64_refused(op)),
        Storage::F32(_) => Err(Error::DeviceMismatch {
            op,
            lhs: Device::Gpu,
            rhs: Device::Cpu,
        }),
    }
}

/// The buffer of `s`, or else one of `len` copies of `value`, kept alive in `default`.
fn buf_or_fill<'a>(
    op: &'static str,
    s: Option<&'a Storage>,
    default: &'a mut Option<GpuBuffer>,
    len: usize,
    value: f32,
) -> Result<&'a GpuBuffer> {
    match s {
        Some(s) => buf(op, s),
        None => Ok(default.insert(elementwise::fill(ctx()?, len, value)?)),
    }
}

fn f64_refused(op: &'static str) -> Error {
    Error::UnsupportedDType {
        op,
        dtype: DType::F64,
        device: Device::Gpu,
    }
}

fn f32_only(op: &'static str, dtype: DType) -> Result<()> {
    match dtype {
        DType::F32 => Ok(()),
        DType::F64 => Err(f64_refused(op)),
    }
}

fn ctx() -> Result<&'static GpuContext> {
    GpuContext::get()
}

impl Kernels for GpuKernels {
    fn fill(&self, dtype: DType, len: usize, value: f64) -> Result<Storage> {
        f32_only("fill", dtype)?;
        Ok(Storage::Gpu(elementwise::fill(ctx()?, len, value as f32)?))
    }

    fn upload(&self, x: &Storage) -> Result<Storage> {
        match x {
            Storage::F32(v) => Ok(Storage::Gpu(ctx()?.upload(v)?)),
            Storage::F64(_) => Err(f64_refused("to_device")),
            Storage::Gpu(b) => Ok(Storage::Gpu(ctx()?.duplicate(b)?)),
        }
    }

    fn duplicate(&self, x: &Storage) -> Result<Storage> {
        Ok(Storage::Gpu(ctx()?.duplicate(buf("copy", x)?)?))
    }

    fn read_f64(&self, x: &Storage) -> Result<Vec<f64>> {
        let data = buf("read", x)?.read()?;
        Ok(data.into_iter().map(f64::from).collect())
    }

    fn unary(&self, op: UnaryOp, x: &Storage) -> Result<Storage> {
        Ok(Storage::Gpu(elementwise::unary(
            ctx()?,
            op,
            buf("unary", x)?,
        )?))
    }

    fn binary(
        &self,
        op: BinaryOp,
        a: (&Storage, &Shape),
        b: (&Storage, &Shape),
        out: &Shape,
    ) -> Result<Storage> {
        let (x, y) = (buf("binary", a.0)?, buf("binary", b.0)?);
        let result = elementwise::binary(ctx()?, op, (x, a.1), (y, b.1), out)?;
        Ok(Storage::Gpu(result))
    }

    fn reduce(&self, op: ReduceOp, x: &Storage, dims: ReduceDims) -> Result<Storage> {
        let x = buf("reduce", x)?;
        Ok(Storage::Gpu(reduce::reduce(ctx()?, op, x, dims)?))
    }

    fn argmax(&self, x: &Storage, rows: usize, cols: usize) -> Result<Storage> {
        let x = buf("argmax", x)?;
        Ok(Storage::Gpu(reduce::argmax(ctx()?, x, rows, cols)?))
    }

    fn permute(&self, x: &Storage, shape: &Shape, perm: &[usize]) -> Result<Storage> {
        let x = buf("permute", x)?;
        Ok(Storage::Gpu(layout::permute(ctx()?, x, shape, perm)?))
    }

    fn copy_slab(&self, src: &Storage, dst: &mut Storage, dims: SlabDims) -> Result<()> {
        let (src, dst) = (buf("copy_slab", src)?, buf("copy_slab", dst)?);
        layout::copy_slab(ctx()?, src, dst, dims)
    }

    fn matmul(&self, a: &Storage, b: &Storage, dims: MatmulDims) -> Result<Storage> {
        let (a, b) = (buf("matmul", a)?, buf("matmul", b)?);
        Ok(Storage::Gpu(matmul::matmul(ctx()?, a, b, dims)?))
    }

    fn conv2d(&self, x: &Storage, w: &Storage, dims: Conv2dDims) -> Result<Storage> {
        let (x, w) = (buf("conv2d", x)?, buf("conv2d", w)?);
        Ok(Storage::Gpu(conv::conv2d(ctx()?, x, w, dims)?))
    }

    fn conv2d_backward_data(&self, gy: &Storage, w: &Storage, dims: Conv2dDims) -> Result<Storage> {
        let op = "conv2d_backward_data";
        let (gy, w) = (buf(op, gy)?, buf(op, w)?);
        Ok(Storage::Gpu(conv::conv2d_backward_data(
            ctx()?,
            gy,
            w,
            dims,
        )?))
    }

    fn conv2d_backward_weight(
        &self,
        x: &Storage,
        gy: &Storage,
        dims: Conv2dDims,
    ) -> Result<Storage> {
        let op = "conv2d_backward_weight";
        let (x, gy) = (buf(op, x)?, buf(op, gy)?);
        Ok(Storage::Gpu(conv::conv2d_backward_weight(
            ctx()?,
            x,
            gy,
            dims,
        )?))
    }

    fn max_pool2d(&self, x: &Storage, dims: Pool2dDims) -> Result<(Storage, Storage)> {
        let (y, argmax) = pooling::max_pool2d(ctx()?, buf("max_pool2d", x)?, dims)?;
        Ok((Storage::Gpu(y), Storage::Gpu(argmax)))
    }

    fn max_pool2d_backward(
        &self,
        gy: &Storage,
        argmax: &Storage,
        dims: Pool2dDims,
    ) -> Result<Storage> {
        let op = "max_pool2d_backward";
        let (gy, argmax) = (buf(op, gy)?, buf(op, argmax)?);
        let gx = pooling::max_pool2d_backward(ctx()?, gy, argmax, dims)?;
        Ok(Storage::Gpu(gx))
    }

    fn avg_pool2d(&self, x: &Storage, dims: Pool2dDims) -> Result<Storage> {
        let y = pooling::avg_pool2d(ctx()?, buf("avg_pool2d", x)?, dims)?;
        Ok(Storage::Gpu(y))
    }

    fn avg_pool2d_backward(&self, gy: &Storage, dims: Pool2dDims) -> Result<Storage> {
        let gy = buf("avg_pool2d_backward", gy)?;
        Ok(Storage::Gpu(pooling::avg_pool2d_backward(
            ctx()?,
            gy,
            dims,
        )?))
    }

    fn bn_stats(&self, x: &Storage, dims: BnDims) -> Result<(Storage, Storage)> {
        let (mean, var) = batch_norm::stats(ctx()?, buf("batch_norm", x)?, dims)?;
        Ok((Storage::Gpu(mean), Storage::Gpu(var)))
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
        let op = "batch_norm";
        let (mut ones, mut zeros) = (None, None);
        let gamma = buf_or_fill(op, gamma, &mut ones, dims.c, 1.0)?;
        let beta = buf_or_fill(op, beta, &mut zeros, dims.c, 0.0)?;
        let (x, mean, var) = (buf(op, x)?, buf(op, mean)?, buf(op, var)?);
        let y = batch_norm::normalize(ctx()?, x, mean, var, gamma, beta, eps, dims)?;
        Ok(Storage::Gpu(y))
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
        let op = "batch_norm_backward";
        let mut ones = None;
        let gamma = buf_or_fill(op, gamma, &mut ones, dims.c, 1.0)?;
        let (gy, x) = (buf(op, gy)?, buf(op, x)?);
        let (mean, var) = (buf(op, mean)?, buf(op, var)?);
        let (gx, dgamma, dbeta) =
            batch_norm::backward(ctx()?, gy, x, mean, var, gamma, eps, dims, batch_stats)?;
        Ok((Storage::Gpu(gx), Storage::Gpu(dgamma), Storage::Gpu(dbeta)))
    }

    fn layer_norm(
        &self,
        x: &Storage,
        gamma: Option<&Storage>,
        beta: Option<&Storage>,
        eps: f32,
        dims: LnDims,
    ) -> Result<(Storage, Storage, Storage)> {
        let op = "layer_norm";
        let (mut ones, mut zeros) = (None, None);
        let gamma = buf_or_fill(op, gamma, &mut ones, dims.cols, 1.0)?;
        let beta = buf_or_fill(op, beta, &mut zeros, dims.cols, 0.0)?;
        let (y, mean, rstd) = layer_norm::forward(ctx()?, buf(op, x)?, gamma, beta, eps, dims)?;
        Ok((Storage::Gpu(y), Storage::Gpu(mean), Storage::Gpu(rstd)))
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
        let op = "layer_norm_backward";
        let mut ones = None;
        let gamma = buf_or_fill(op, gamma, &mut ones, dims.cols, 1.0)?;
        let (gy, x) = (buf(op, gy)?, buf(op, x)?);
        let (mean, rstd) = (buf(op, mean)?, buf(op, rstd)?);
        let (gx, dgamma, dbeta) = layer_norm::backward(ctx()?, gy, x, mean, rstd, gamma, dims)?;
        Ok((Storage::Gpu(gx), Storage::Gpu(dgamma), Storage::Gpu(dbeta)))
    }

    fn log_softmax(&self, x: &Storage, rows: usize, cols: usize) -> Result<Storage> {
        let x = buf("log_softmax", x)?;
        Ok(Storage::Gpu(softmax::log_softmax(ctx()?, x, rows, cols)?))
    }

    fn softmax_cross_entropy_smoothed(
        &self,
        logits: &Storage,
        labels: &[u32],
        rows: usize,
        cols: usize,
        smoothing: f32,
    ) -> Result<(Storage, Storage)> {
        let logits = buf("softmax_cross_entropy", logits)?;
        let (loss, grad) = softmax::cross_entropy(ctx()?, logits, labels, rows, cols, smoothing)?;
        Ok((Storage::Gpu(loss), Storage::Gpu(grad)))
    }

    fn dropout_mask(&self, dtype: DType, len: usize, p: f32, seed: u64) -> Result<Storage> {
        f32_only("dropout", dtype)?;
        Ok(Storage::Gpu(random::dropout_mask(ctx()?, len, p, seed)?))
    }

    fn adam_step(
        &self,
        param: &mut Storage,
        grad: &Storage,
        m: &mut Storage,
        v: &mut Storage,
        hp: AdamStep,
    ) -> Result<()> {
        let op = "adam";
        let (param, grad) = (buf(op, param)?, buf(op, grad)?);
        optim::adam(ctx()?, param, grad, buf(op, m)?, buf(op, v)?, hp)
    }

    fn sgd_step(
        &self,
        param: &mut Storage,
        grad: &Storage,
        velocity: Option<&mut Storage>,
        hp: SgdStep,
    ) -> Result<()> {
        let op = "sgd";
        let velocity = velocity.map(|v| buf(op, v)).transpose()?;
        optim::sgd(ctx()?, buf(op, param)?, buf(op, grad)?, velocity, hp)
    }
}
