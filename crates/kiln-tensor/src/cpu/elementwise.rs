//! Elementwise kernels: unary functions and broadcasting binary operations.

use super::pool;
use super::Element;
use crate::kernels::{BinaryOp, UnaryOp};
use crate::Shape;
use ndarray::{ArrayView, ArrayViewMut, IxDyn, Zip};
use rayon::prelude::*;

/// Below this many elements a kernel runs on the calling thread.
pub(super) const PARALLEL_MIN: usize = 1 << 15;

/// `op(x)` for every element.
pub(super) fn unary<T: Element>(op: UnaryOp, x: &[T]) -> Vec<T> {
    let f = move |v: T| -> T {
        match op {
            UnaryOp::Neg => -v,
            UnaryOp::Exp => v.exp(),
            UnaryOp::Log => v.ln(),
            UnaryOp::Sqrt => v.sqrt(),
            UnaryOp::Relu => v.max(T::zero()),
            UnaryOp::Sigmoid => T::one() / (T::one() + (-v).exp()),
            UnaryOp::Tanh => v.tanh(),
            UnaryOp::Step => {
                if v > T::zero() {
                    T::one()
                } else {
                    T::zero()
                }
            }
            UnaryOp::Powf(p) => v.powf(T::of(p)),
            UnaryOp::AddScalar(c) => v + T::of(c),
            UnaryOp::MulScalar(c) => v * T::of(c),
        }
    };
    let mut out = pool::for_overwrite(x.len());
    if x.len() >= PARALLEL_MIN {
        out.par_iter_mut().zip(x).for_each(|(o, &v)| *o = f(v));
    } else {
        out.iter_mut().zip(x).for_each(|(o, &v)| *o = f(v));
    }
    out
}

/// `op(a, b)` with both operands broadcast to `out` (NumPy rules, checked by the caller).
pub(super) fn binary<T: Element>(
    op: BinaryOp,
    a: (&[T], &Shape),
    b: (&[T], &Shape),
    out: &Shape,
) -> Vec<T> {
    let f = move |x: T, y: T| -> T {
        match op {
            BinaryOp::Add => x + y,
            BinaryOp::Sub => x - y,
            BinaryOp::Mul => x * y,
            BinaryOp::Div => x / y,
            BinaryOp::Eq => {
                if x == y {
                    T::one()
                } else {
                    T::zero()
                }
            }
        }
    };
    let mut result = pool::for_overwrite(out.numel());
    let parallel = out.numel() >= PARALLEL_MIN;
    if a.1 == out && b.1 == out {
        let zip = |(o, (&x, &y)): (&mut T, (&T, &T))| *o = f(x, y);
        if parallel {
            result
                .par_iter_mut()
                .zip(a.0.par_iter().zip(b.0))
                .for_each(zip);
        } else {
            result.iter_mut().zip(a.0.iter().zip(b.0)).for_each(zip);
        }
        return result;
    }
    let dims = IxDyn(out.dims());
    let va = ArrayView::from_shape(IxDyn(a.1.dims()), a.0).expect("length matches shape");
    let vb = ArrayView::from_shape(IxDyn(b.1.dims()), b.0).expect("length matches shape");
    let za = va.broadcast(dims.clone()).expect("broadcast checked");
    let zb = vb.broadcast(dims.clone()).expect("broadcast checked");
    // The output view is row-major, whatever order the broadcast inputs are read in.
    let target = ArrayViewMut::from_shape(dims, &mut result).expect("length matches shape");
    let zip = Zip::from(target).and(&za).and(&zb);
    if parallel {
        zip.par_for_each(|o, &x, &y| *o = f(x, y));
    } else {
        zip.for_each(|o, &x, &y| *o = f(x, y));
    }
    result
}
