//! [`GpuKernels`]: the [`Kernels`] interface on the GPU, one call into a family module per
//! primitive.

use super::{conv, elementwise, matmul, GpuBuffer, GpuContext};
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

fn f64_refused(op: &'static str) -> Error {
    Error::Gpu(format!(
        "{op}: f64 storage cannot go to the GPU, which runs f32 only (f64 is for CPU gradient \
         checks)"
    ))
}

fn f32_only(op: &'static str, dtype: DType) -> Result<()> {
    match dtype {
        DType::F32 => Ok(()),
        DType::F64 => Err(f64_refused(op)),
    }
}

fn not_yet(op: &str) -> Error {
    Error::Gpu(format!("{op}: the GPU kernel is not built yet"))
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

    fn unary(&self, _op: UnaryOp, _x: &Storage) -> Result<Storage> {
        Err(not_yet("unary"))
    }

    fn binary(
        &self,
        _op: BinaryOp,
        _a: (&Storage, &Shape),
        _b: (&Storage, &Shape),
        _out: &Shape,
    ) -> Result<Storage> {
        Err(not_yet("binary"))
    }

    fn reduce(&self, _op: ReduceOp, _x: &Storage, _dims: ReduceDims) -> Result<Storage> {
        Err(not_yet("reduce"))
    }

    fn argmax(&self, _x: &Storage, _rows: usize, _cols: usize) -> Result<Storage> {
        Err(not_yet("argmax"))
    }

    fn permute(&self, _x: &Storage, _shape: &Shape, _perm: &[usize]) -> Result<Storage> {
        Err(not_yet("permute"))
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

    fn bn_stats(&self, _x: &Storage, _dims: BnDims) -> Result<(Storage, Storage)> {
        Err(not_yet("batch_norm"))
    }

    fn bn_normalize(
        &self,
        _x: &Storage,
        _mean: &Storage,
        _var: &Storage,
        _gamma: Option<&Storage>,
        _beta: Option<&Storage>,
        _eps: f32,
        _dims: BnDims,
    ) -> Result<Storage> {
        Err(not_yet("batch_norm"))
    }

    fn bn_backward(
        &self,
        _gy: &Storage,
        _x: &Storage,
        _mean: &Storage,
        _var: &Storage,
        _gamma: Option<&Storage>,
        _eps: f32,
        _dims: BnDims,
        _batch_stats: bool,
    ) -> Result<(Storage, Storage, Storage)> {
        Err(not_yet("batch_norm_backward"))
    }

    fn log_softmax(&self, _x: &Storage, _rows: usize, _cols: usize) -> Result<Storage> {
        Err(not_yet("log_softmax"))
    }

    fn softmax_cross_entropy(
        &self,
        _logits: &Storage,
        _labels: &[u32],
        _rows: usize,
        _cols: usize,
    ) -> Result<(Storage, Storage)> {
        Err(not_yet("softmax_cross_entropy"))
    }

    fn dropout_mask(&self, dtype: DType, _len: usize, _p: f32, _seed: u64) -> Result<Storage> {
        f32_only("dropout", dtype)?;
        Err(not_yet("dropout"))
    }

    fn adam_step(
        &self,
        _param: &mut Storage,
        _grad: &Storage,
        _m: &mut Storage,
        _v: &mut Storage,
        _hp: AdamStep,
    ) -> Result<()> {
        Err(not_yet("adam"))
    }

    fn sgd_step(
        &self,
        _param: &mut Storage,
        _grad: &Storage,
        _velocity: Option<&mut Storage>,
        _hp: SgdStep,
    ) -> Result<()> {
        Err(not_yet("sgd"))
    }
}
