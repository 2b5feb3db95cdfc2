//! A cache of host buffers for the CPU device.
//!
//! Training allocates tensors of the same sizes every step. Fresh large allocations come from
//! the operating system as untouched pages, and faulting them in (zeroing included) cost about
//! a quarter of a CPU training step of the example's model. Storage returns its vector here
//! when it drops, and kernels take their outputs from here, so buffers are reused instead.
//!
//! Buffers are kept by exact length, only from [`MIN_BYTES`] up, and at most [`MAX_BYTES`] in
//! all (per element type); past that a returned buffer is freed.

use super::Element;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

/// Buffers smaller than this are left to the allocator, which recycles them well.
pub const MIN_BYTES: usize = 64 << 10;
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

/// A zero-filled vector of `len` elements, reusing an idle buffer of that length if any.
pub fn zeros<T: Element>(len: usize) -> Vec<T> {
    filled(len, T::zero())
}

/// A vector of `len` copies of `value`, reusing an idle buffer of that length if any.
pub fn filled<T: Element>(len: usize, value: T) -> Vec<T> {
    match reuse(len) {
        Some(mut v) => {
            v.fill(value);
            v
        }
        // Written element by element rather than `vec!`, which takes zeroed memory from the
        // allocator lazily: a kernel that reads such a page before writing it (an optimizer's
        // state, an accumulator) faults twice, the second time with a TLB shootdown.
        None => {
            let mut v = Vec::with_capacity(len);
            v.resize(len, value);
            v
        }
    }
}

/// A vector of `len` elements for a kernel that writes every one of them: a reused buffer
/// keeps its old (initialized) values instead of being cleared first.
pub fn for_overwrite<T: Element>(len: usize) -> Vec<T> {
    reuse(len).unwrap_or_else(|| vec![T::zero(); len])
}

/// An idle buffer of exactly `len` elements, if the pool has one.
fn reuse<T: Element>(len: usize) -> Option<Vec<T>> {
    if len * size_of::<T>() < MIN_BYTES {
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
    if bytes < MIN_BYTES || v.capacity() != v.len() {
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
    pub fn zeros(len: usize) -> Self {
        Scratch(zeros(len))
    }

    /// A work buffer of `len` elements that the caller overwrites entirely.
    pub fn for_overwrite(len: usize) -> Self {
        Scratch(for_overwrite(len))
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
        let len = MIN_BYTES; // f64: 8x the minimum
        let mut v = zeros::<f64>(len);
        v[3] = 7.0;
        let ptr = v.as_ptr();
        recycle(v);
        let again = zeros::<f64>(len);
        assert_eq!(again.as_ptr(), ptr, "the idle buffer is reused");
        assert!(again.iter().all(|&x| x == 0.0));
        // Small buffers are not kept.
        recycle(zeros::<f64>(8));
        assert!(!f64::pool().lock().unwrap().free.contains_key(&8));
        assert!(f64::pool().lock().unwrap().bytes <= MAX_BYTES);
    }
}
