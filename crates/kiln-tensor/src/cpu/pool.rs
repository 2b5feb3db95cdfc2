//! A cache of host buffers for the CPU device.
//!
//! Training allocates tensors of the same sizes every step. Fresh large allocations come from
//! the operating system as untouched pages, and faulting them in (zeroing included) cost about
//! a quarter of a CPU training step of the example's model. Storage returns its vector here
//! when it drops, and kernels take their outputs from here, so buffers are reused instead.
//!
//! Buffers are kept by exact length, only from [`MIN_POOLED_BYTES`] up. The pool of each
//! element type keeps idle buffers up to the larger of [`FLOOR_BYTES`] and
//! [`IDLE_PER_PEAK`] times the most bytes that were ever live at once; past that a returned
//! buffer is freed. A step with gigabytes of temporaries (the example's model at batch 5000,
//! ResNet-9 at batch 512) then recycles all of them, step after step, while a program that
//! only ever needed a little keeps little.
//!
//! Allocation is fallible: a buffer the allocator refuses is an [`AllocError`] naming its
//! size, which the kernels turn into an [`Error::OutOfMemory`] naming their operation, instead
//! of the process aborting.

use super::Element;
use crate::Error;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

/// Buffers smaller than this are left to the allocator, which recycles them well.
pub const MIN_POOLED_BYTES: usize = 64 << 10;
/// Idle bytes kept at least (per element type), whatever the peak of live bytes.
pub const FLOOR_BYTES: usize = 512 << 20;
/// Idle bytes kept at most, in multiples of the peak of live bytes. Buffers are matched by
/// exact length, so while one length is short another may lie idle: a training step reuses all
/// its buffers only when the pool holds, for every length, as many as were ever live at once.
/// That took 1.24 times the peak for the example's model at batch 5000 and 1.55 times for
/// ResNet-9 at batch 512; bounded by the peak itself, ResNet-9 faulted in 1.6 GB of fresh
/// pages every step. The GPU's pool keeps the same bound, for the same reason.
pub const IDLE_PER_PEAK: usize = 2;

/// Idle buffers of one element type, by length, and the count of pooled-size bytes in use.
pub struct Pool<T> {
    free: HashMap<usize, Vec<Vec<T>>>,
    /// Bytes in `free`.
    bytes: usize,
    /// Bytes of pooled-size buffers handed out (reused or new) and not yet returned, and the
    /// most there ever were. A buffer that never comes back (a vector handed to a caller)
    /// stays counted, which can only raise the bound.
    live: usize,
    peak: usize,
    /// Idle bytes kept at least.
    floor: usize,
}

impl<T> Pool<T> {
    /// An empty pool that keeps at least `floor` idle bytes.
    fn new(floor: usize) -> Self {
        Pool {
            free: HashMap::new(),
            bytes: 0,
            live: 0,
            peak: 0,
            floor,
        }
    }

    /// Counts `len` elements handed out.
    fn hand_out(&mut self, len: usize) {
        self.live += len * size_of::<T>();
        self.peak = self.peak.max(self.live);
    }

    /// An idle buffer of exactly `len` elements, if there is one.
    fn take(&mut self, len: usize) -> Option<Vec<T>> {
        let found = self.free.get_mut(&len).and_then(Vec::pop)?;
        self.bytes -= len * size_of::<T>();
        self.hand_out(len);
        Some(found)
    }

    /// Keeps `v` for reuse (true), or lets it go when that would exceed the bound (false).
    fn give(&mut self, v: Vec<T>) -> bool {
        let bytes = v.capacity() * size_of::<T>();
        self.live = self.live.saturating_sub(bytes);
        let bound = (IDLE_PER_PEAK * self.peak).max(self.floor);
        let keep = v.capacity() == v.len() && self.bytes + bytes <= bound;
        if keep {
            self.bytes += bytes;
            self.free.entry(v.len()).or_default().push(v);
        }
        keep
    }
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool::new(FLOOR_BYTES)
    }
}

/// The pool of one element type (each [`Element`] names its own static).
pub trait Pooled: Sized + 'static {
    fn pool() -> &'static Mutex<Pool<Self>>;
}

/// The allocator refused a buffer of `len` elements of `element_bytes` bytes each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocError {
    len: usize,
    element_bytes: usize,
}

impl AllocError {
    /// The [`Error::OutOfMemory`] of operation `op`.
    pub fn during(self, op: &'static str) -> Error {
        Error::OutOfMemory {
            op,
            len: self.len,
            element_bytes: self.element_bytes,
        }
    }
}

/// An empty vector with room for exactly `len` elements, or an error naming the size when the
/// allocator refuses (or the byte count overflows).
pub fn with_capacity<T: Element>(len: usize) -> Result<Vec<T>, AllocError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| AllocError {
        len,
        element_bytes: size_of::<T>(),
    })?;
    if pooled::<T>(len) {
        T::pool().lock().expect("pool lock").hand_out(len);
    }
    Ok(v)
}

/// Whether buffers of `len` elements are pooled.
fn pooled<T>(len: usize) -> bool {
    len.saturating_mul(size_of::<T>()) >= MIN_POOLED_BYTES
}

/// A zero-filled vector of `len` elements, reusing an idle buffer of that length if any.
pub fn zeros<T: Element>(len: usize) -> Result<Vec<T>, AllocError> {
    filled(len, T::zero())
}

/// A vector of `len` copies of `value`, reusing an idle buffer of that length if any.
pub fn filled<T: Element>(len: usize, value: T) -> Result<Vec<T>, AllocError> {
    let mut v = match reuse(len) {
        Some(v) => v,
        // Written element by element rather than taken zeroed from the allocator, which maps
        // zero pages lazily: a kernel that reads such a page before writing it (an optimizer's
        // state, an accumulator) faults twice, the second time with a TLB shootdown.
        None => with_capacity(len)?,
    };
    v.clear();
    v.resize(len, value);
    Ok(v)
}

/// A vector of `len` elements for a kernel that writes every one of them: a reused buffer
/// keeps its old (initialized) values instead of being cleared first.
pub fn for_overwrite<T: Element>(len: usize) -> Result<Vec<T>, AllocError> {
    match reuse(len) {
        Some(v) => Ok(v),
        None => {
            let mut v = with_capacity(len)?;
            v.resize(len, T::zero());
            Ok(v)
        }
    }
}

/// An idle buffer of exactly `len` elements, if the pool has one.
fn reuse<T: Element>(len: usize) -> Option<Vec<T>> {
    if !pooled::<T>(len) {
        return None;
    }
    T::pool().lock().expect("pool lock").take(len)
}

/// Hands a buffer back for reuse (or frees it: small, or the pool is full).
pub fn recycle<T: Element>(v: Vec<T>) {
    if pooled::<T>(v.capacity()) {
        T::pool().lock().expect("pool lock").give(v);
    }
}

/// A pooled work buffer that goes back to the pool when dropped.
pub struct Scratch<T: Element>(Vec<T>);

impl<T: Element> Scratch<T> {
    /// A work buffer of `len` elements that the caller overwrites entirely.
    pub fn for_overwrite(len: usize) -> Result<Self, AllocError> {
        Ok(Scratch(for_overwrite(len)?))
    }
}

impl<T: Element> Deref for Scratch<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: Element> DerefMut for Scratch<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

impl<T: Element> Drop for Scratch<T> {
    fn drop(&mut self) {
        recycle(std::mem::take(&mut self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_zeroed_and_small_ones_are_not() {
        let len = MIN_POOLED_BYTES; // f64: 8x the minimum
        let mut v = zeros::<f64>(len).unwrap();
        v[3] = 7.0;
        let ptr = v.as_ptr();
        recycle(v);
        let again = zeros::<f64>(len).unwrap();
        assert_eq!(again.as_ptr(), ptr, "the idle buffer is reused");
        assert!(again.iter().all(|&x| x == 0.0));
        // Small buffers are not kept.
        recycle(zeros::<f64>(8).unwrap());
        assert!(!f64::pool().lock().unwrap().free.contains_key(&8));
    }

    #[test]
    fn the_pool_keeps_up_to_twice_the_peak_of_live_bytes() {
        let mib = (1 << 20) / size_of::<f32>();
        let mut pool = Pool::<f32>::new(1 << 20);
        let new = |pool: &mut Pool<f32>, len: usize| {
            pool.hand_out(len);
            vec![0.0f32; len]
        };
        // Four MiB live at once: all four are kept when they come back, over the 1 MiB floor.
        let first: Vec<_> = (0..4).map(|_| new(&mut pool, mib)).collect();
        for v in first {
            assert!(pool.give(v));
        }
        assert_eq!((pool.live, pool.peak, pool.bytes), (0, 4 << 20, 4 << 20));
        // Reused: taken from the pool, and back again.
        let again: Vec<_> = (0..4).map(|_| pool.take(mib).unwrap()).collect();
        assert!(pool.take(mib).is_none());
        for v in again {
            assert!(pool.give(v));
        }
        // Buffers of other lengths are kept up to twice the 4 MiB peak: 3 MiB more fit, and
        // then 2 MiB more would exceed 8 MiB: let go.
        let other = new(&mut pool, 3 * mib);
        assert!(pool.give(other));
        let big = new(&mut pool, 2 * mib);
        assert!(!pool.give(big));
        assert_eq!((pool.live, pool.bytes), (0, 7 << 20));
        // A vector with spare capacity is not kept (its length is not its size).
        let mut short = new(&mut pool, mib);
        short.pop();
        assert!(!pool.give(short));
        assert_eq!(pool.live, 0);
    }

    #[test]
    fn refused_allocations_are_errors_naming_the_size() {
        // More than any machine has, and a byte count that overflows `usize`.
        let err = for_overwrite::<f32>(1 << 60).unwrap_err();
        assert_eq!(
            err.during("matmul").to_string(),
            "matmul: cannot allocate 1152921504606846976 elements of 4 bytes \
             (4611686018427387904 bytes) in host memory"
        );
        let err = zeros::<f64>(usize::MAX / 2).unwrap_err();
        assert_eq!(
            err.during("fill").to_string(),
            format!(
                "fill: cannot allocate {} elements of 8 bytes (more bytes than an address \
                 space holds) in host memory",
                usize::MAX / 2
            )
        );
    }
}
