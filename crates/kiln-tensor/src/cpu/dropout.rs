//! Dropout masks from the counter-based [`uniform_hash`]: the same `(seed, index)` gives the same
//! value on the CPU and in WGSL, so masks agree across devices.

use super::{pool, Alloc, Element};
use crate::random::uniform_hash;

/// Inverted-dropout mask: `0` where `uniform_hash(seed, i) < p`, else `1 / (1 - p)`.
pub(super) fn dropout_mask<T: Element>(len: usize, p: f32, seed: u64) -> Alloc<Vec<T>> {
    let keep = T::one() / (T::one() - T::of(p));
    let mut mask = pool::with_capacity(len)?;
    mask.extend((0..len).map(|i| {
        if uniform_hash(seed, i as u32) < p {
            T::zero()
        } else {
            keep
        }
    }));
    Ok(mask)
}
