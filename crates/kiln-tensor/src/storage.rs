//! The memory behind a tensor.

use crate::gpu::GpuBuffer;
use crate::Device;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

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

/// The storage cell that a tensor, its clones and its views share, with a count of the in-place
/// writes to it: autograd compares the count a recorded op saw with the one at backward time,
/// so that a gradient is never computed from values changed since the forward pass.
#[derive(Debug)]
pub(crate) struct SharedStorage {
    storage: RwLock<Storage>,
    version: AtomicU64,
}

impl SharedStorage {
    /// A new cell holding `storage`, at version 0.
    pub(crate) fn new(storage: Storage) -> Arc<SharedStorage> {
        Arc::new(SharedStorage {
            storage: RwLock::new(storage),
            version: AtomicU64::new(0),
        })
    }

    /// In-place writes so far.
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Counts an in-place write.
    pub(crate) fn bump_version(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }
}

/// Reads and writes go through the lock.
impl Deref for SharedStorage {
    type Target = RwLock<Storage>;

    fn deref(&self) -> &RwLock<Storage> {
        &self.storage
    }
}
