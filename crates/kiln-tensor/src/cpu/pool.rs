//! A cache of host buffers for the CPU device.
//!
//! Training allocates tensors of the same sizes every step. Fresh large allocations come from
//! the operating system as untouched pages, and faulting them in (zeroing included) cost about
//! a quarter of a CPU training step of the example's model. Storage returns its vector here
//! when it drops, and kernels take their outputs from here, so buffers are reused instead.
//!
//! Buffers are kept by exact length, only from [`MIN_POOLED_BYTES`] up, and at most [`MAX_BYTES`] in
//! all (per element type); past that a returned buffer is freed.
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
/// The most memory the pool keeps idle for one element type.
pub const MAX_BYTES: usize = 512 << 20;

/// Idle buffers of one element type, by length.
#[derive(Default)]
pub struct Pool<T> {
    free: HashMap<usize, Vec<Vec<T>>>,
    bytes: usize,
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
pub fn with_capacity<T>(len: usize) -> Result<Vec<T>, AllocError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| AllocError {
        len,
        element_bytes: size_of::<T>(),
    })?;
    Ok(v)
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
    if len.saturating_mul(size_of::<T>()) < MIN_POOLED_BYTES {
        return None;
    }
    let mut pool = T::pool().lock().expect("pool lock");
    let found = pool.free.get_mut(&len).and_then(Vec::pop);
    if found.is_some() {
        pool.bytes -= len * size_of::<T>();
    }
    found
}

/// Hands a buffer back for reuse (or frees it: small, or the pool is full).
pub fn recycle<T: Element>(mut v: Vec<T>) {
    let bytes = v.len() * size_of::<T>();
    if bytes < MIN_POOLED_BYTES || v.capacity() != v.len() {
        return;
    }
    let mut pool = T::pool().lock().expect("pool lock");
    if pool.bytes + bytes <= MAX_BYTES {
        pool.bytes += bytes;
        pool.free
            .entry(v.len())
            .or_default()
            .push(std::mem::take(&mut v));
    }
}

/// A pooled work buffer that goes back to the pool when dropped.
pub struct Scratch<T: Element>(Vec<T>);

impl<T: Element> Scratch<T> {
    /// A zero-filled work buffer of `len` elements.
    pub fn zeros(len: usize) -> Result<Self, AllocError> {
        Ok(Scratch(zeros(len)?))
    }

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
    fn buffers_are_reused_zeroed_and_bounded() {
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
        assert!(f64::pool().lock().unwrap().bytes <= MAX_BYTES);
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
