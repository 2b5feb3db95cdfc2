//! Copy kernels that change the memory layout.

use super::{Alloc, Element};
use crate::kernels::SlabDims;
use crate::Shape;
use ndarray::{ArrayView, ArrayViewMut, IxDyn};

/// Axis permutation of a row-major tensor: output axis `i` is input axis `perm[i]`.
pub(super) fn permute<T: Element>(x: &[T], shape: &Shape, perm: &[usize]) -> Alloc<Vec<T>> {
    let v = ArrayView::from_shape(IxDyn(shape.dims()), x).expect("length matches shape");
    let permuted = v.permuted_axes(IxDyn(perm));
    let mut out = super::pool::for_overwrite(x.len())?;
    ArrayViewMut::from_shape(permuted.raw_dim(), &mut out)
        .expect("length matches shape")
        .assign(&permuted);
    Ok(out)
}

/// The block copy of [`SlabDims`], one contiguous run of `len * inner` values per outer index.
pub(super) fn copy_slab<T: Element>(src: &[T], dst: &mut [T], d: SlabDims) {
    let run = d.len * d.inner;
    for o in 0..d.outer {
        let from = (o * d.src_axis + d.src_start) * d.inner;
        let to = (o * d.dst_axis + d.dst_start) * d.inner;
        dst[to..to + run].copy_from_slice(&src[from..from + run]);
    }
}
