//! Device memory for tensors: [`GpuBuffer`] and the pool that recycles allocations.

use super::context::GpuContext;
use super::error_scope;
use super::lock;
use crate::cpu::pool::IDLE_PER_PEAK;
use crate::Result;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// Usages of every pooled buffer: bound to shaders, copied to and from.
const USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// Smallest allocation, in bytes.
const MIN_BUFFER_BYTES: u64 = 256;

/// Free buffers kept for reuse, in bytes, whatever the peak of live bytes.
pub(super) const POOL_MIN_CAP: u64 = 1 << 30;

/// The `f32` elements of a tensor in a GPU storage buffer.
///
/// The buffer may be larger than `4 * len` bytes (allocations are rounded up to size classes);
/// shaders must take element counts from their parameters, not from `arrayLength`. Dropping a
/// `GpuBuffer` returns its allocation to the pool it came from.
pub struct GpuBuffer {
    allocation: Allocation,
    len: usize,
    pool: Arc<BufferPool>,
}

/// A buffer of the pool, numbered in the order the pool created it.
#[derive(Clone)]
pub(super) struct Allocation {
    buffer: wgpu::Buffer,
    serial: u64,
}

impl GpuBuffer {
    /// Wraps an allocation of at least `4 * len` bytes from `pool`, which takes it back on drop.
    pub(super) fn new(allocation: Allocation, len: usize, pool: Arc<BufferPool>) -> GpuBuffer {
        GpuBuffer {
            allocation,
            len,
            pool,
        }
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

    /// The future of the elements ([`GpuContext::read_async`]); the read-back starts now.
    pub(crate) fn read_async(&self) -> Result<impl Future<Output = Result<Vec<f32>>> + 'static> {
        Ok(GpuContext::get()?.read_async(self))
    }

    /// Size of the elements in bytes (`4 * len`).
    pub(crate) fn bytes(&self) -> u64 {
        4 * self.len as u64
    }

    /// The underlying wgpu buffer.
    pub(crate) fn raw(&self) -> &wgpu::Buffer {
        &self.allocation.buffer
    }
}

impl fmt::Debug for GpuBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GpuBuffer(len={})", self.len)
    }
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        self.pool.release(self.allocation.clone());
    }
}

/// Free allocations bucketed by size class.
///
/// A request takes the free buffer of its class that was created first. With that rule a
/// sequence of allocations and drops that repeats (a training step) gets the same buffers each
/// time, so its bind groups can be reused; taking the last buffer freed instead would permute
/// them from one repetition to the next.
///
/// The pool keeps free buffers up to the larger of a floor and twice the most bytes ever live
/// at once, the bound of the CPU's pool ([`IDLE_PER_PEAK`]). A buffer is only created when its
/// class has none free, so each class holds as many buffers as it ever had live at once; the
/// classes peak at different moments of a step, so a step's buffers add up to more than its
/// peak of live bytes, and a bound of the peak itself let some go every step. A step that needs
/// 3 GB of temporaries (batch 5000) recycles them all, step after step, instead of creating
/// buffers anew, while a program that only ever needed a little keeps little.
pub(super) struct BufferPool {
    free: Mutex<FreeLists>,
    /// Free bytes kept at least, whatever the peak.
    floor: u64,
    /// Buffers let go since the last [`BufferPool::take_let_go`]: bind groups that hold one keep
    /// its memory alive until they are dropped.
    let_go: Mutex<Vec<wgpu::Buffer>>,
}

#[derive(Default)]
struct FreeLists {
    /// By size class, then by serial.
    by_size: HashMap<u64, BTreeMap<u64, wgpu::Buffer>>,
    /// Bytes free in `by_size`.
    bytes: u64,
    /// Bytes handed out and not yet released, and the most there ever were.
    live: u64,
    peak: u64,
    /// Buffers created; the last one's serial.
    created: u64,
}

impl BufferPool {
    /// An empty pool that keeps at least `floor` free bytes.
    pub(super) fn new(floor: u64) -> BufferPool {
        BufferPool {
            free: Mutex::default(),
            floor,
            let_go: Mutex::default(),
        }
    }

    /// Buffers created so far.
    pub(super) fn created(&self) -> u64 {
        lock(&self.free).created
    }

    /// A buffer of at least `bytes` bytes (reused when one of its size class is free), never
    /// larger than `max` (the caller checked `bytes <= max`); wgpu's error when the device has
    /// no memory for a new one.
    pub(super) fn acquire(
        &self,
        device: &wgpu::Device,
        bytes: u64,
        max: u64,
    ) -> std::result::Result<Allocation, wgpu::Error> {
        let size = size_class(bytes).min(max.max(MIN_BUFFER_BYTES));
        let mut free = lock(&self.free);
        free.live += size;
        free.peak = free.peak.max(free.live);
        if let Some((serial, buffer)) = free.by_size.get_mut(&size).and_then(BTreeMap::pop_first) {
            free.bytes -= size;
            return Ok(Allocation { buffer, serial });
        }
        free.created += 1;
        let serial = free.created;
        drop(free);
        let buffer = error_scope::catching(device, wgpu::ErrorFilter::OutOfMemory, || {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("kiln tensor"),
                size,
                usage: USAGE,
                mapped_at_creation: false,
            })
        })
        .inspect_err(|_| lock(&self.free).live -= size)?;
        Ok(Allocation { buffer, serial })
    }

    /// Lets every free buffer go.
    pub(super) fn clear(&self) {
        let mut free = lock(&self.free);
        free.by_size.clear();
        free.bytes = 0;
    }

    /// The buffers let go since the last call (see [`BufferPool::release`]).
    pub(super) fn take_let_go(&self) -> Vec<wgpu::Buffer> {
        std::mem::take(&mut *lock(&self.let_go))
    }

    /// Keeps `allocation` for reuse (true), or lets it go when the pool is full (false, and
    /// [`BufferPool::take_let_go`] then returns it).
    pub(super) fn release(&self, allocation: Allocation) -> bool {
        let size = allocation.buffer.size();
        let mut free = lock(&self.free);
        free.live -= size;
        let keep = free.bytes + size <= (IDLE_PER_PEAK as u64 * free.peak).max(self.floor);
        let Allocation { buffer, serial } = allocation;
        if keep {
            free.bytes += size;
            free.by_size.entry(size).or_default().insert(serial, buffer);
        } else {
            lock(&self.let_go).push(buffer);
        }
        keep
    }
}

// ANCHOR: size_class
/// `bytes` rounded up to a size class: four classes per power of two (at most 25% waste).
fn size_class(bytes: u64) -> u64 {
    if bytes <= MIN_BUFFER_BYTES {
        return MIN_BUFFER_BYTES;
    }
    let high = 1u64 << (63 - (bytes - 1).leading_zeros());
    let step = high / 4;
    bytes.div_ceil(step) * step
}
// ANCHOR_END: size_class

#[cfg(test)]
mod tests {
    use super::{size_class, BufferPool};
    use crate::gpu::GpuContext;
    use crate::test_util::gpu_or_skip;

    #[test]
    fn the_pool_reuses_oldest_first_and_keeps_up_to_twice_the_peak() {
        let Some(_) = gpu_or_skip() else { return };
        let device = &GpuContext::get().unwrap().device;
        let mib = 1 << 20;
        let pool = BufferPool::new(mib);
        // Four MiB live at once: all four are kept when they drop, over the 1 MiB floor.
        let first: Vec<_> = (0..4)
            .map(|_| pool.acquire(device, mib, u64::MAX).unwrap())
            .collect();
        for a in first.into_iter().rev() {
            assert!(pool.release(a));
        }
        // Reused, oldest first, whatever the order they were freed in.
        let again: Vec<_> = (0..4)
            .map(|_| pool.acquire(device, mib, u64::MAX).unwrap())
            .collect();
        assert_eq!(
            again.iter().map(|a| a.serial).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        assert_eq!(pool.created(), 4);
        for a in again {
            assert!(pool.release(a));
        }
        // Classes live one at a time, the peak stays 4 MiB: 4 + 1.25 + 1.5 MiB free are within
        // twice that, the next 1.75 MiB is not.
        for (quarters, kept) in [(5, true), (6, true), (7, false)] {
            let a = pool.acquire(device, quarters * mib / 4, u64::MAX).unwrap();
            let buffer = a.buffer.clone();
            assert_eq!(pool.release(a), kept, "{quarters} quarter MiB");
            assert_eq!(pool.take_let_go().contains(&buffer), !kept);
        }
        assert!(pool.take_let_go().is_empty());
    }

    #[test]
    fn a_repeating_step_whose_classes_peak_apart_reaches_a_steady_state() {
        let Some(_) = gpu_or_skip() else { return };
        let device = &GpuContext::get().unwrap().device;
        let mib = 1 << 20;
        let pool = BufferPool::new(0);
        // A step of two phases, each with its own size class: 2 MiB live at most, 3 MiB free
        // after it.
        let step = || {
            for bytes in [mib, 2 * mib] {
                let a = pool.acquire(device, bytes, u64::MAX).unwrap();
                assert!(pool.release(a), "{bytes} bytes let go");
            }
        };
        step();
        assert_eq!(pool.created(), 2);
        for _ in 0..3 {
            step();
        }
        assert_eq!(pool.created(), 2);
        assert!(pool.take_let_go().is_empty());
    }

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
