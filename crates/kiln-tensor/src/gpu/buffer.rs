//! Device memory for tensors: [`GpuBuffer`] and the pool that recycles allocations.

use super::context::GpuContext;
use crate::Result;
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// Usages of every pooled buffer: bound to shaders, copied to and from.
const USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// Smallest allocation, in bytes.
const MIN_BYTES: u64 = 256;

/// Free buffers kept for reuse, in bytes; beyond this, dropped buffers are released.
const POOL_CAP_BYTES: u64 = 1 << 30;

/// The `f32` elements of a tensor in a GPU storage buffer.
///
/// The buffer may be larger than `4 * len` bytes (allocations are rounded up to size classes);
/// shaders must take element counts from their parameters, not from `arrayLength`. Dropping a
/// `GpuBuffer` returns its allocation to the pool of the process-wide context.
pub struct GpuBuffer {
    buffer: wgpu::Buffer,
    len: usize,
}

impl GpuBuffer {
    /// Wraps a pooled allocation of at least `4 * len` bytes.
    pub(super) fn new(buffer: wgpu::Buffer, len: usize) -> GpuBuffer {
        GpuBuffer { buffer, len }
    }

    /// Number of `f32` elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements, copied to the host (a sync point: waits for all recorded work).
    pub(crate) fn read(&self) -> Result<Vec<f32>> {
        GpuContext::get()?.read(self)
    }

    /// Size of the elements in bytes (`4 * len`).
    pub(crate) fn bytes(&self) -> u64 {
        4 * self.len as u64
    }

    /// The underlying wgpu buffer.
    pub(crate) fn raw(&self) -> &wgpu::Buffer {
        &self.buffer
    }
}

impl fmt::Debug for GpuBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GpuBuffer(len={})", self.len)
    }
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        if let Some(ctx) = GpuContext::existing() {
            ctx.pool.release(self.buffer.clone());
        }
    }
}

/// Free allocations bucketed by size class.
#[derive(Default)]
pub(super) struct BufferPool {
    free: Mutex<FreeLists>,
}

#[derive(Default)]
struct FreeLists {
    by_size: HashMap<u64, Vec<wgpu::Buffer>>,
    bytes: u64,
}

impl BufferPool {
    /// A buffer of at least `bytes` bytes (reused when one of its size class is free), never
    /// larger than `max` (the caller checked `bytes <= max`).
    pub(super) fn acquire(&self, device: &wgpu::Device, bytes: u64, max: u64) -> wgpu::Buffer {
        let size = size_class(bytes).min(max.max(MIN_BYTES));
        let mut free = self.free.lock().expect("buffer pool");
        if let Some(buffer) = free.by_size.get_mut(&size).and_then(Vec::pop) {
            free.bytes -= size;
            return buffer;
        }
        drop(free);
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kiln tensor"),
            size,
            usage: USAGE,
            mapped_at_creation: false,
        })
    }

    /// Keeps `buffer` for reuse, or lets it go when the pool is full.
    fn release(&self, buffer: wgpu::Buffer) {
        let size = buffer.size();
        let mut free = self.free.lock().expect("buffer pool");
        if free.bytes + size <= POOL_CAP_BYTES {
            free.bytes += size;
            free.by_size.entry(size).or_default().push(buffer);
        }
    }
}

// ANCHOR: size_class
/// `bytes` rounded up to a size class: four classes per power of two (at most 25% waste).
fn size_class(bytes: u64) -> u64 {
    if bytes <= MIN_BYTES {
        return MIN_BYTES;
    }
    let high = 1u64 << (63 - (bytes - 1).leading_zeros());
    let step = high / 4;
    bytes.div_ceil(step) * step
}
// ANCHOR_END: size_class

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_cover_the_request_with_bounded_waste() {
        for bytes in (1..5000).chain([1 << 20, (1 << 20) + 1, 3 << 28]) {
            let class = size_class(bytes);
            assert!(class >= bytes, "{bytes} -> {class}");
            assert!(class <= (bytes * 5 / 4).max(256), "{bytes} -> {class}");
            assert_eq!(size_class(class), class);
        }
    }
}
