//! Matrix products through the `gemm` crate (SIMD micro-kernels, multithreaded).

use super::Element;
use crate::kernels::MatmulDims;
use gemm::Parallelism;
use rayon::prelude::*;

/// Below this many multiply-adds a product runs on one thread.
const PARALLEL_FLOPS: usize = 1 << 18;

/// A row-major matrix operand: its data and (row stride, column stride) of the logical
/// (possibly transposed) matrix.
#[derive(Clone, Copy)]
pub(super) struct MatRef<'a, T> {
    pub data: &'a [T],
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a, T> MatRef<'a, T> {
    /// A row-major `[rows, cols]` matrix, read transposed when `trans` is set.
    pub fn new(data: &'a [T], cols: usize, trans: bool) -> Self {
        if trans {
            MatRef {
                data,
                row_stride: 1,
                col_stride: cols,
            }
        } else {
            MatRef {
                data,
                row_stride: cols,
                col_stride: 1,
            }
        }
    }
}

/// `dst[m, n] (+)= a[m, k] · b[k, n]`, accumulating into `dst` when `accumulate` is set.
pub(super) fn gemm_into<T: Element>(
    dst: &mut [T],
    a: MatRef<T>,
    b: MatRef<T>,
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
    threads: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(T::zero());
        }
        return;
    }
    let parallelism = if threads && m * n * k >= PARALLEL_FLOPS {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    };
    assert!(dst.len() >= m * n, "gemm destination too small");
    assert!(a.data.len() > (m - 1) * a.row_stride + (k - 1) * a.col_stride);
    assert!(b.data.len() > (k - 1) * b.row_stride + (n - 1) * b.col_stride);
    // SAFETY: the asserts above bound every index the kernel reads or writes for the given
    // strides; the destination does not alias the operands (distinct borrows).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        )
    }
}

/// Batched product per [`MatmulDims`]: output `[batch, m, n]`.
pub(super) fn matmul<T: Element>(a: &[T], b: &[T], d: MatmulDims) -> Vec<T> {
    let mut out = super::pool::for_overwrite(d.batch * d.m * d.n);
    let a_size = if d.a_batched { d.m * d.k } else { 0 };
    let b_size = if d.b_batched { d.k * d.n } else { 0 };
    let a_cols = if d.trans_a { d.m } else { d.k };
    let b_cols = if d.trans_b { d.k } else { d.n };
    let one = |i: usize, dst: &mut [T], threads: bool| {
        let ma = MatRef::new(&a[i * a_size..], a_cols, d.trans_a);
        let mb = MatRef::new(&b[i * b_size..], b_cols, d.trans_b);
        gemm_into(dst, ma, mb, (d.m, d.k, d.n), false, threads);
    };
    if d.m * d.n == 0 {
        return out;
    }
    if d.batch > 1 && d.m * d.n * d.k < PARALLEL_FLOPS * 4 {
        out.par_chunks_mut(d.m * d.n)
            .enumerate()
            .for_each(|(i, dst)| one(i, dst, false));
    } else {
        for (i, dst) in out.chunks_mut(d.m * d.n).enumerate() {
            one(i, dst, true);
        }
    }
    out
}
