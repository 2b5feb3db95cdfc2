//! Dropout masks from the counter-based [`uniform_hash`]: the same `(seed, index)` gives the same
//! value on the CPU and in WGSL, so masks agree across devices.

use super::{pool, Alloc, Element};
use crate::random::{derive_seed, uniform_hash};

/// Inverted-dropout mask: `0` where element `i`'s draw is below `p`, else `1 / (1 - p)`. The
/// draw is `uniform_hash(block_seed(seed, i), i as u32)`.
pub(super) fn dropout_mask<T: Element>(len: usize, p: f32, seed: u64) -> Alloc<Vec<T>> {
    let keep = T::one() / (T::one() - T::of(p));
    let mut mask = pool::with_capacity(len)?;
    let mut block = (0, seed);
    for i in 0..len as u64 {
        if i >> 32 != block.0 {
            block = (i >> 32, block_seed(seed, i));
        }
        mask.push(if uniform_hash(block.1, i as u32) < p {
            T::zero()
        } else {
            keep
        });
    }
    Ok(mask)
}

/// The seed of element `i`'s draw: `seed` for the first 2^32 elements (as in the GPU's kernel,
/// whose indices are `u32`), and a seed derived from it for each further block of 2^32, so that
/// no two elements of a mask share a draw.
fn block_seed(seed: u64, i: u64) -> u64 {
    match i >> 32 {
        0 => seed,
        block => derive_seed(seed, block),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_2_to_the_32_apart_draw_apart() {
        let seed = 7;
        assert_eq!(block_seed(seed, (1 << 32) - 1), seed);
        let draw = |i: u64| uniform_hash(block_seed(seed, i), i as u32);
        let shared = (0..64).filter(|&i| draw(i) == draw(i + (1 << 32))).count();
        assert_eq!(
            shared, 0,
            "of 64 elements, {shared} share their draw 2^32 later"
        );
    }
}
