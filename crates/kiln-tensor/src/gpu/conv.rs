//! 2-D convolution on the GPU.

use super::{GpuBuffer, GpuContext};
use crate::kernels::Conv2dDims;
use crate::{Error, Result};

/// Convolution forward per [`Conv2dDims`].
pub(crate) fn conv2d(
    _ctx: &GpuContext,
    _x: &GpuBuffer,
    _w: &GpuBuffer,
    _dims: Conv2dDims,
) -> Result<GpuBuffer> {
    Err(Error::Gpu("conv2d: the GPU kernel is not built yet".into()))
}

/// Gradient of the convolution with respect to its input.
pub(crate) fn conv2d_backward_data(
    _ctx: &GpuContext,
    _gy: &GpuBuffer,
    _w: &GpuBuffer,
    _dims: Conv2dDims,
) -> Result<GpuBuffer> {
    Err(Error::Gpu(
        "conv2d_backward_data: the GPU kernel is not built yet".into(),
    ))
}

/// Gradient of the convolution with respect to its weight.
pub(crate) fn conv2d_backward_weight(
    _ctx: &GpuContext,
    _x: &GpuBuffer,
    _gy: &GpuBuffer,
    _dims: Conv2dDims,
) -> Result<GpuBuffer> {
    Err(Error::Gpu(
        "conv2d_backward_weight: the GPU kernel is not built yet".into(),
    ))
}
