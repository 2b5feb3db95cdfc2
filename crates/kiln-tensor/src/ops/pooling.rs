//! 2-D max and average pooling, NCHW, and global pooling over the spatial axes.
//!
//! Max pooling routes each output's gradient to the input element it took: the first largest
//! value of its window in row-major order (so ties go to the top-left-most element), or the
//! window's first NaN, which wins the maximum as in PyTorch. Average pooling divides by the
//! window size, counting the padding as zeros (PyTorch's default `count_include_pad=True`).

use super::kernels_of;
use super::MAX_F32_INDEX;
use crate::kernels::Pool2dDims;
use crate::{Error, Result, Shape, Tensor};

/// Window, stride and padding of a 2-D pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2dOptions {
    /// `(height, width)` of the window.
    pub kernel: (usize, usize),
    /// `(vertical, horizontal)` stride.
    pub stride: (usize, usize),
    /// `(vertical, horizontal)` padding on each side, at most half the window.
    pub padding: (usize, usize),
}

impl Pool2dOptions {
    /// A `k x k` window moved by `k` (adjacent, non-overlapping windows), without padding.
    pub fn window(k: usize) -> Pool2dOptions {
        Pool2dOptions {
            kernel: (k, k),
            stride: (k, k),
            padding: (0, 0),
        }
    }
}

impl Tensor {
    /// Max pooling of `[n, c, h, w]` to `[n, c, oh, ow]`, `oh = (h + 2 * pad - kh) / stride + 1`
    /// (likewise `ow`); the padding never wins. See the module docs for ties and NaN.
    pub fn max_pool2d(&self, opts: Pool2dOptions) -> Result<Tensor> {
        let op = "max_pool2d";
        let d = pool_dims(op, self.shape(), opts)?;
        let (y, argmax) = kernels_of(op, &[self])?.max_pool2d(&*self.try_storage()?, d)?;
        let argmax = Tensor::from_storage(argmax, output_shape(self, d));
        Ok(Tensor::from_op(
            y,
            output_shape(self, d),
            &[self],
            move |g| {
                let k = kernels_of("max_pool2d_backward", &[g, &argmax])?;
                let gx = k.max_pool2d_backward(&*g.try_storage()?, &*argmax.try_storage()?, d)?;
                Ok(vec![Some(Tensor::from_storage(
                    gx,
                    input_shape(d, &argmax),
                ))])
            },
        ))
    }

    /// Average pooling of `[n, c, h, w]` to `[n, c, oh, ow]` (sizes as
    /// [`Tensor::max_pool2d`]): each window's sum over `kh * kw`, padding counted as zeros.
    pub fn avg_pool2d(&self, opts: Pool2dOptions) -> Result<Tensor> {
        let op = "avg_pool2d";
        let d = pool_dims(op, self.shape(), opts)?;
        let y = kernels_of(op, &[self])?.avg_pool2d(&*self.try_storage()?, d)?;
        let out = output_shape(self, d);
        let input = self.shape().clone();
        Ok(Tensor::from_op(y, out, &[self], move |g| {
            let k = kernels_of("avg_pool2d_backward", &[g])?;
            let gx = k.avg_pool2d_backward(&*g.try_storage()?, d)?;
            Ok(vec![Some(Tensor::from_storage(gx, input.clone()))])
        }))
    }

    /// Global average pooling: the mean of each plane of `[n, c, h, w]`, as `[n, c]`.
    pub fn global_avg_pool2d(&self) -> Result<Tensor> {
        check_rank4("global_avg_pool2d", self.shape())?;
        self.mean(&[2, 3], false)
    }

    /// Global max pooling: the maximum of each plane of `[n, c, h, w]`, as `[n, c]`; max
    /// pooling with one window over the plane, so ties and NaN go as in
    /// [`Tensor::max_pool2d`].
    pub fn global_max_pool2d(&self) -> Result<Tensor> {
        let [n, c, h, w] = check_rank4("global_max_pool2d", self.shape())?;
        let opts = Pool2dOptions {
            kernel: (h, w),
            stride: (h.max(1), w.max(1)),
            padding: (0, 0),
        };
        self.max_pool2d(opts)?.reshape(&[n, c])
    }
}

/// The dimensions of `shape`, or an error naming `op` unless it is `[n, c, h, w]`.
fn check_rank4(op: &'static str, shape: &Shape) -> Result<[usize; 4]> {
    match *shape.dims() {
        [n, c, h, w] => Ok([n, c, h, w]),
        _ => Err(Error::invalid(
            op,
            format!("input must be [n, c, h, w], got {shape}"),
        )),
    }
}

/// The pooling geometry of `shape` under `opts`, or an error naming `op`, the shape and the
/// options.
fn pool_dims(op: &'static str, shape: &Shape, opts: Pool2dOptions) -> Result<Pool2dDims> {
    let [n, c, h, w] = check_rank4(op, shape)?;
    let Pool2dOptions {
        kernel: (kh, kw),
        stride,
        padding: pad,
    } = opts;
    let fail = |why: &str| {
        Err(Error::invalid(
            op,
            format!("{why}: input {shape}, {opts:?}"),
        ))
    };
    if kh == 0 || kw == 0 || stride.0 == 0 || stride.1 == 0 {
        return fail("window and stride must be at least 1");
    }
    if pad.0 > kh / 2 || pad.1 > kw / 2 {
        return fail("padding must be at most half the window");
    }
    // 2 * pad <= the window, so only the addition can overflow.
    if h.checked_add(2 * pad.0).is_none() || w.checked_add(2 * pad.1).is_none() {
        return fail("the padded input's size overflows");
    }
    // Average pooling divides by the window's area, as an f32 (and as a u32 on the GPU).
    if kh.checked_mul(kw).is_none_or(|area| area > MAX_F32_INDEX) {
        return fail("the window's area exceeds 2^24");
    }
    if h == 0 || w == 0 || h + 2 * pad.0 < kh || w + 2 * pad.1 < kw {
        return fail("the window does not fit in the padded input");
    }
    // Max pooling keeps its arg-max indices within a plane as f32.
    if h * w > MAX_F32_INDEX {
        return fail("an input plane holds more than 2^24 elements");
    }
    Ok(Pool2dDims {
        planes: n * c,
        h,
        w,
        kh,
        kw,
        stride,
        pad,
        oh: (h + 2 * pad.0 - kh) / stride.0 + 1,
        ow: (w + 2 * pad.1 - kw) / stride.1 + 1,
    })
}

/// `[n, c, oh, ow]` for the input `x`.
fn output_shape(x: &Tensor, d: Pool2dDims) -> Shape {
    Shape::new(&[x.dims()[0], x.dims()[1], d.oh, d.ow])
}

/// `[n, c, h, w]` for an output-shaped tensor `y`.
fn input_shape(d: Pool2dDims, y: &Tensor) -> Shape {
    Shape::new(&[y.dims()[0], y.dims()[1], d.h, d.w])
}
