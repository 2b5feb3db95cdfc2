//! The memory behind a tensor.

use crate::gpu::GpuBuffer;
use crate::Device;

/// Element type of a tensor. `F32` runs everywhere; `F64` exists on the CPU for gradient checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// 32-bit float.
    F32,
    /// 64-bit float (CPU only).
    F64,
}

// ANCHOR: storage
/// A tensor's elements in row-major order, on the device that owns them.
#[derive(Debug)]
pub enum Storage {
    /// `f32` values in host memory.
    F32(Vec<f32>),
    /// `f64` values in host memory (gradient checks only).
    F64(Vec<f64>),
    /// `f32` values in a GPU buffer.
    Gpu(GpuBuffer),
}
// ANCHOR_END: storage

/// Host buffers go back to the CPU buffer pool for reuse.
impl Drop for Storage {
    fn drop(&mut self) {
        match self {
            Storage::F32(v) => crate::cpu::pool::recycle(std::mem::take(v)),
            Storage::F64(v) => crate::cpu::pool::recycle(std::mem::take(v)),
            Storage::Gpu(_) => {}
        }
    }
}

impl Storage {
    /// The device these elements live on.
    pub fn device(&self) -> Device {
        match self {
            Storage::F32(_) | Storage::F64(_) => Device::Cpu,
            Storage::Gpu(_) => Device::Gpu,
        }
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            Storage::F32(_) | Storage::Gpu(_) => DType::F32,
            Storage::F64(_) => DType::F64,
        }
    }
}
