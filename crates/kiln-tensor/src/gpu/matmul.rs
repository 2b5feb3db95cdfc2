//! Matrix products on the GPU.

use super::{GpuBuffer, GpuContext};
use crate::kernels::MatmulDims;
use crate::{Error, Result};

/// Batched matrix product per [`MatmulDims`].
pub(crate) fn matmul(
    _ctx: &GpuContext,
    _a: &GpuBuffer,
    _b: &GpuBuffer,
    _dims: MatmulDims,
) -> Result<GpuBuffer> {
    Err(Error::Gpu("matmul: the GPU kernel is not built yet".into()))
}
