//! Elementwise kernels: unary functions and broadcasting binary operations.

use super::pool;
use super::{Alloc, Element};
use crate::kernels::{BinaryOp, UnaryOp, GELU_TANH_CUBIC, GELU_TANH_SCALE};
use crate::Shape;
use ndarray::{ArrayView, ArrayViewMut, Dim, Dimension, Ix4, IxDyn, Zip};
use rayon::prelude::*;

/// Below this many elements a kernel runs on the calling thread.
pub(super) const PARALLEL_MIN: usize = 1 << 15;

/// Elements per parallel task.
const CHUNK: usize = 1 << 14;

/// `f(x[i])` for every element, in parallel chunks for long inputs. Generic over `f`, so each
/// operation gets its own vectorized loop.
fn map<T: Element>(x: &[T], f: impl Fn(T) -> T + Sync) -> Alloc<Vec<T>> {
    let mut out = pool::for_overwrite(x.len())?;
    let run = |(out, x): (&mut [T], &[T])| {
        out.iter_mut().zip(x).for_each(|(o, &v)| *o = f(v));
    };
    if x.len() >= PARALLEL_MIN {
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(run);
    } else {
        run((&mut out, x));
    }
    Ok(out)
}

/// `f(a[i], b[i])` for every element of two equally long inputs, like [`map`].
fn zip_map<T: Element>(a: &[T], b: &[T], f: impl Fn(T, T) -> T + Sync) -> Alloc<Vec<T>> {
    let mut out = pool::for_overwrite(a.len())?;
    let run = |(out, (a, b)): (&mut [T], (&[T], &[T]))| {
        out.iter_mut()
            .zip(a.iter().zip(b))
            .for_each(|(o, (&x, &y))| *o = f(x, y));
    };
    if a.len() >= PARALLEL_MIN {
        out.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
            .for_each(run);
    } else {
        run((&mut out, (a, b)));
    }
    Ok(out)
}

/// 1 where `c` holds, else 0.
fn indicator<T: Element>(c: bool) -> T {
    if c {
        T::one()
    } else {
        T::zero()
    }
}

/// 0 where `y <= 0`, else `x`: where `y` is NaN, `x` passes (PyTorch's `threshold_backward`).
fn mask_positive<T: Element>(x: T, y: T) -> T {
    if y <= T::zero() {
        T::zero()
    } else {
        x
    }
}

/// `f(x)`, or NaN where `x` is NaN (for functions built on comparisons, which would not
/// propagate it themselves).
fn nan_or<T: Element>(x: T, f: impl Fn(T) -> T) -> T {
    if x.is_nan() {
        x
    } else {
        f(x)
    }
}

/// `-1`, `0` or `1` as `x` is negative, zero or positive; NaN stays NaN.
fn sign<T: Element>(x: T) -> T {
    nan_or(x, |x| {
        indicator::<T>(x > T::zero()) - indicator::<T>(x < T::zero())
    })
}

/// `Φ(x)`, the standard normal distribution function.
fn normal_cdf<T: Element>(x: T) -> T {
    T::of(0.5) * (T::one() + (x * T::of(std::f32::consts::FRAC_1_SQRT_2)).erf())
}

/// `tanh(√(2/π) (x + 0.044715 x³))` and the derivative of its argument.
fn gelu_tanh_parts<T: Element>(x: T) -> (T, T) {
    let (scale, cubic) = (T::of(GELU_TANH_SCALE), T::of(GELU_TANH_CUBIC));
    let t = (scale * (x + cubic * x * x * x)).tanh();
    (t, scale * (T::one() + T::of(3.0) * cubic * x * x))
}

/// `1 / (1 + e^-x)`.
fn sigmoid<T: Element>(x: T) -> T {
    T::one() / (T::one() + (-x).exp())
}

/// The derivative of the exact GELU: `Φ(x) + x φ(x)`.
fn gelu_erf_grad<T: Element>(x: T) -> T {
    let density = (-x * x * T::of(0.5)).exp()
        * T::of(std::f32::consts::FRAC_2_SQRT_PI * std::f32::consts::FRAC_1_SQRT_2 * 0.5);
    normal_cdf(x) + x * density
}

/// The share of `maximum(x, y)`'s gradient that goes to `x`: 1, 1/2 or 0 as `x` is larger,
/// equal or smaller; 1 when either is NaN (PyTorch's rule).
fn max_share<T: Element>(x: T, y: T) -> T {
    if x.is_nan() || y.is_nan() || x > y {
        T::one()
    } else if x == y {
        T::of(0.5)
    } else {
        T::zero()
    }
}

/// `op(x)` for every element.
pub(super) fn unary<T: Element>(op: UnaryOp, x: &[T]) -> Alloc<Vec<T>> {
    match op {
        UnaryOp::Neg => map(x, |v| -v),
        UnaryOp::Exp => map(x, |v| v.exp()),
        UnaryOp::Log => map(x, |v| v.ln()),
        UnaryOp::Sqrt => map(x, |v| v.sqrt()),
        UnaryOp::Relu => map(x, |v| v.max_nan(T::zero())),
        UnaryOp::Sigmoid => map(x, sigmoid),
        UnaryOp::Tanh => map(x, |v| v.tanh()),
        UnaryOp::Powf(p) => map(x, |v| v.powf(T::of(p))),
        UnaryOp::AddScalar(c) => map(x, |v| v + T::of(c)),
        UnaryOp::MulScalar(c) => map(x, |v| v * T::of(c)),
        UnaryOp::Abs => map(x, |v| v.abs()),
        UnaryOp::Sign => map(x, sign),
        UnaryOp::GeluErf => map(x, |v| v * normal_cdf(v)),
        UnaryOp::GeluErfGrad => map(x, gelu_erf_grad),
        UnaryOp::GeluTanh => map(x, |v| T::of(0.5) * v * (T::one() + gelu_tanh_parts(v).0)),
        UnaryOp::GeluTanhGrad => map(x, |v| {
            let (t, du) = gelu_tanh_parts(v);
            T::of(0.5) * (T::one() + t + v * (T::one() - t * t) * du)
        }),
        UnaryOp::Silu => map(x, |v| v * sigmoid(v)),
        UnaryOp::SiluGrad => map(x, |v| {
            let s = sigmoid(v);
            s * (T::one() + v * (T::one() - s))
        }),
        UnaryOp::LeakyRelu(a) => map(x, |v| if v > T::zero() { v } else { T::of(a) * v }),
        UnaryOp::LeakyReluGrad(a) => map(x, |v| {
            nan_or(v, |v| if v > T::zero() { T::one() } else { T::of(a) })
        }),
        UnaryOp::Clamp(lo, hi) => map(x, |v| nan_or(v, |v| v.max(T::of(lo)).min(T::of(hi)))),
        UnaryOp::ClampGrad(lo, hi) => map(x, |v| {
            nan_or(v, |v| indicator(T::of(lo) <= v && v <= T::of(hi)))
        }),
    }
}

/// `op(a, b)` with both operands broadcast to `out` (NumPy rules, checked by the caller).
pub(super) fn binary<T: Element>(
    op: BinaryOp,
    a: (&[T], &Shape),
    b: (&[T], &Shape),
    out: &Shape,
) -> Alloc<Vec<T>> {
    match op {
        BinaryOp::Add => broadcast_map(a, b, out, |x, y| x + y),
        BinaryOp::Sub => broadcast_map(a, b, out, |x, y| x - y),
        BinaryOp::Mul => broadcast_map(a, b, out, |x, y| x * y),
        BinaryOp::Div => broadcast_map(a, b, out, |x, y| x / y),
        BinaryOp::Eq => broadcast_map(a, b, out, |x, y| indicator(x == y)),
        BinaryOp::Matches => broadcast_map(a, b, out, |x, y| {
            indicator(x == y || (x.is_nan() && y.is_nan()))
        }),
        BinaryOp::MaskPositive => broadcast_map(a, b, out, mask_positive),
        BinaryOp::Maximum => broadcast_map(a, b, out, |x, y| x.max_nan(y)),
        BinaryOp::Minimum => broadcast_map(a, b, out, |x, y| x.min_nan(y)),
        BinaryOp::MaxShare => broadcast_map(a, b, out, max_share),
        BinaryOp::Pick => broadcast_map(
            a,
            b,
            out,
            |x, y| if y != T::zero() { x } else { T::neg_zero() },
        ),
    }
}

/// `f(a, b)` with both operands broadcast to `out`; a plain zip when no operand is broadcast.
fn broadcast_map<T: Element>(
    a: (&[T], &Shape),
    b: (&[T], &Shape),
    out: &Shape,
    f: impl Fn(T, T) -> T + Sync + Send,
) -> Alloc<Vec<T>> {
    if a.1 == out && b.1 == out {
        return zip_map(a.0, b.0, f);
    }
    let mut result = pool::for_overwrite(out.numel())?;
    // Static 4-D indexing is much faster in ndarray than `IxDyn`; shapes of lower rank get
    // leading axes of length 1.
    match (as_4d(a.1), as_4d(b.1), as_4d(out)) {
        (Some(sa), Some(sb), Some(so)) => broadcast_zip(&mut result, (a.0, sa), (b.0, sb), so, f),
        _ => {
            let dyn_dims = |s: &Shape| IxDyn(s.dims());
            let (sa, sb, so) = (dyn_dims(a.1), dyn_dims(b.1), dyn_dims(out));
            broadcast_zip(&mut result, (a.0, sa), (b.0, sb), so, f)
        }
    }
    Ok(result)
}

/// `shape` as 4-D, with leading axes of length 1, if its rank is at most 4.
fn as_4d(shape: &Shape) -> Option<Ix4> {
    let dims = shape.dims();
    let pad = 4usize.checked_sub(dims.len())?;
    let mut padded = [1; 4];
    padded[pad..].copy_from_slice(dims);
    Some(Dim(padded))
}

/// `result = f(a, b)` with `a` and `b` (data, shape) broadcast to `out`.
fn broadcast_zip<T: Element, D: Dimension>(
    result: &mut [T],
    a: (&[T], D),
    b: (&[T], D),
    out: D,
    f: impl Fn(T, T) -> T + Sync + Send,
) {
    let va = ArrayView::from_shape(a.1, a.0).expect("length matches shape");
    let vb = ArrayView::from_shape(b.1, b.0).expect("length matches shape");
    let za = va.broadcast(out.clone()).expect("broadcast checked");
    let zb = vb.broadcast(out.clone()).expect("broadcast checked");
    let parallel = result.len() >= PARALLEL_MIN;
    // The output view is row-major, whatever order the broadcast inputs are read in.
    let target = ArrayViewMut::from_shape(out, result).expect("length matches shape");
    let zip = Zip::from(target).and(&za).and(&zb);
    if parallel {
        zip.par_for_each(|o, &x, &y| *o = f(x, y));
    } else {
        zip.for_each(|o, &x, &y| *o = f(x, y));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Element `index` (row-major in `out`) of an operand of shape `dims` broadcast to `out`.
    fn broadcast_index(index: usize, dims: &[usize], out: &[usize]) -> usize {
        let pad = out.len() - dims.len();
        let (mut rest, mut flat, mut stride) = (index, 0, 1);
        for axis in (0..out.len()).rev() {
            let coord = rest % out[axis];
            rest /= out[axis];
            if axis >= pad && dims[axis - pad] != 1 {
                flat += coord * stride;
            }
            if axis >= pad {
                stride *= dims[axis - pad];
            }
        }
        flat
    }

    #[test]
    fn broadcasting_matches_per_element_indexing_at_every_rank() {
        let cases: [(&[usize], &[usize], &[usize]); 5] = [
            (&[5], &[1], &[5]),
            (&[3, 1], &[4], &[3, 4]),
            (&[2, 3, 4, 5], &[1, 3, 1, 1], &[2, 3, 4, 5]),
            (&[2, 1, 3, 1, 2], &[4, 2], &[2, 1, 3, 4, 2]),
            (&[1, 2, 1, 3, 1, 2], &[2, 2, 1, 3, 2], &[1, 2, 2, 3, 3, 2]),
        ];
        for (da, db, dout) in cases {
            let values = |dims: &[usize], seed: f64| -> Vec<f64> {
                (0..dims.iter().product())
                    .map(|i| i as f64 * seed)
                    .collect()
            };
            let (a, b) = (values(da, 1.0), values(db, 0.01));
            let (sa, sb, so) = (Shape::new(da), Shape::new(db), Shape::new(dout));
            let got = binary(BinaryOp::Sub, (&a, &sa), (&b, &sb), &so).unwrap();
            let want: Vec<f64> = (0..so.numel())
                .map(|i| a[broadcast_index(i, da, dout)] - b[broadcast_index(i, db, dout)])
                .collect();
            assert_eq!(got, want, "{da:?} - {db:?} -> {dout:?}");
        }
    }
}
