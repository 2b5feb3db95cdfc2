//! Elementwise kernels: unary functions and broadcasting binary operations.

use super::Element;
use crate::kernels::{BinaryOp, UnaryOp};
use crate::Shape;
use ndarray::{ArrayView, IxDyn, Zip};
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
    if x.len() >= PARALLEL_MIN {
        x.par_iter().map(|&v| f(v)).collect()
    } else {
        x.iter().map(|&v| f(v)).collect()
    }
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
    if a.1 == out && b.1 == out {
        return if out.numel() >= PARALLEL_MIN {
            a.0.par_iter().zip(b.0).map(|(&x, &y)| f(x, y)).collect()
        } else {
            a.0.iter().zip(b.0).map(|(&x, &y)| f(x, y)).collect()
        };
    }
    let va = ArrayView::from_shape(IxDyn(a.1.dims()), a.0).expect("length matches shape");
    let vb = ArrayView::from_shape(IxDyn(b.1.dims()), b.0).expect("length matches shape");
    let dims = IxDyn(out.dims());
    let za = va.broadcast(dims.clone()).expect("broadcast checked");
    let zb = vb.broadcast(dims).expect("broadcast checked");
    let zip = Zip::from(&za).and(&zb);
    let result = if out.numel() >= PARALLEL_MIN {
        zip.par_map_collect(|&x, &y| f(x, y))
    } else {
        zip.map_collect(|&x, &y| f(x, y))
    };
    // Zip may collect in column-major order (it follows its inputs' layout): read row-major.
    if result.is_standard_layout() {
        result.into_raw_vec_and_offset().0
    } else {
        result.iter().copied().collect()
    }
}
