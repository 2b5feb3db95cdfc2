//! Counter-based random numbers shared by every device: the same `(seed, index)` gives the same
//! value on the CPU and in WGSL, so dropout masks agree across devices.

use super::{pool, Alloc, Element};

// ANCHOR: hash
/// A 32-bit integer hash (a PCG output permutation), good enough for dropout masks.
pub fn pcg_hash(input: u32) -> u32 {
    let state = input.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// A uniform value in `[0, 1)` for element `index` of the stream `seed`.
///
/// Defined as `pcg_hash(index ^ pcg_hash(lo ^ pcg_hash(hi)))` with `lo`, `hi` the halves of the
/// seed, keeping 24 bits so that the value is exact in `f32`.
pub fn uniform_hash(seed: u64, index: u32) -> f32 {
    let key = pcg_hash(seed as u32 ^ pcg_hash((seed >> 32) as u32));
    let bits = pcg_hash(index ^ key) >> 8;
    bits as f32 / (1u32 << 24) as f32
}
// ANCHOR_END: hash

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
