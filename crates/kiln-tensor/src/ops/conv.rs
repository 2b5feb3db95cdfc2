//! 2-D convolution (cross-correlation, as in every framework), NCHW, with optional bias.

use super::kernels_of;
use crate::kernels::Conv2dDims;
use crate::{Error, Result, Shape, Tensor};

/// Zero padding of a convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Padding {
    /// No padding: the kernel stays inside the image.
    #[default]
    Valid,
    /// Output size `ceil(input / stride)`; the total padding is split with the extra row and
    /// column at the bottom and right (TensorFlow's convention).
    Same,
    /// Explicit `(top, bottom)` and `(left, right)` padding.
    Explicit {
        /// Rows added above.
        top: usize,
        /// Rows added below.
        bottom: usize,
        /// Columns added on the left.
        left: usize,
        /// Columns added on the right.
        right: usize,
    },
}

impl Padding {
    /// The same padding on every side.
    pub fn uniform(p: usize) -> Padding {
        Padding::Explicit {
            top: p,
            bottom: p,
            left: p,
            right: p,
        }
    }

    /// `(before, after)` padding of one spatial axis.
    fn along(self, input: usize, kernel: usize, stride: usize, vertical: bool) -> (usize, usize) {
        match self {
            Padding::Valid => (0, 0),
            Padding::Same => match input.div_ceil(stride).checked_sub(1) {
                // An empty input gets no padding (and then no output).
                None => (0, 0),
                Some(last) => {
                    let total = (last * stride + kernel).saturating_sub(input);
                    (total / 2, total - total / 2)
                }
            },
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            } => {
                if vertical {
                    (top, bottom)
                } else {
                    (left, right)
                }
            }
        }
    }
}

/// Stride and padding of a convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dOptions {
    /// `(vertical, horizontal)` stride.
    pub stride: (usize, usize),
    /// Zero padding.
    pub padding: Padding,
}

impl Default for Conv2dOptions {
    fn default() -> Self {
        Conv2dOptions {
            stride: (1, 1),
            padding: Padding::Valid,
        }
    }
}

impl Conv2dOptions {
    /// The geometry of convolving an input of shape `x` (`[n, c_in, h, w]`) with a weight of
    /// shape `w` (`[c_out, c_in, kh, kw]`): output size and top/left padding included. An
    /// error names both shapes when they do not fit together or the filter does not fit the
    /// padded image.
    pub fn dims(&self, x: &Shape, w: &Shape) -> Result<Conv2dDims> {
        let mismatch = |why: &str| {
            Error::invalid(
                "conv2d",
                format!("{why}: input {x} (expected [n, c_in, h, w]), weight {w} (expected [c_out, c_in, kh, kw])"),
            )
        };
        let ([n, c_in, h, wd], [c_out, wc, kh, kw]) = (x.dims(), w.dims()) else {
            return Err(mismatch("input and weight must be 4-D"));
        };
        if c_in != wc {
            return Err(mismatch("input channels differ"));
        }
        let (sh, sw) = self.stride;
        if sh == 0 || sw == 0 || *kh == 0 || *kw == 0 {
            return Err(mismatch("stride and kernel size must be positive"));
        }
        let (pt, pb) = self.padding.along(*h, *kh, sh, true);
        let (pl, pr) = self.padding.along(*wd, *kw, sw, false);
        let padded =
            |size: usize, before: usize, after: usize| size.checked_add(before)?.checked_add(after);
        let (Some(ph), Some(pw)) = (padded(*h, pt, pb), padded(*wd, pl, pr)) else {
            return Err(mismatch(&format!(
                "padding {:?} overflows the padded size",
                self.padding
            )));
        };
        if ph < *kh || pw < *kw {
            return Err(mismatch("kernel larger than the padded input"));
        }
        let (oh, ow) = ((ph - kh) / sh + 1, (pw - kw) / sw + 1);
        Shape::checked("conv2d", &[*n, *c_out, oh, ow])?;
        Ok(Conv2dDims {
            n: *n,
            c_in: *c_in,
            h: *h,
            w: *wd,
            c_out: *c_out,
            kh: *kh,
            kw: *kw,
            stride: (sh, sw),
            pad: (pt, pl),
            oh,
            ow,
        })
    }
}

impl Tensor {
    /// Convolution of `self` (`[n, c_in, h, w]`) with `weight` (`[c_out, c_in, kh, kw]`),
    /// plus `bias` (`[c_out]`) if given; output `[n, c_out, oh, ow]`. Shapes, dtypes and
    /// devices are checked before anything runs.
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: Conv2dOptions,
    ) -> Result<Tensor> {
        // ANCHOR: conv2d
        let d = opts.dims(self.shape(), weight.shape())?;
        let mut operands = vec![self, weight];
        operands.extend(bias);
        let k = kernels_of("conv2d", &operands)?;
        if let Some(b) = bias.filter(|b| b.dims() != [d.c_out]) {
            return Err(Error::ShapeMismatch {
                op: "conv2d bias",
                lhs: b.shape().clone(),
                rhs: Shape::new(&[d.c_out]),
            });
        }
        let storage = k.conv2d(&*self.try_storage()?, &*weight.try_storage()?, d)?;
        let (x, w) = (self.clone(), weight.clone());
        let y = Tensor::from_op(
            storage,
            Shape::new(&[d.n, d.c_out, d.oh, d.ow]),
            &[self, weight],
            move |g| {
                // Each gradient is computed only when its input needs it (an image batch
                // does not, and its backward-data pass is the most expensive one).
                let k = kernels_of("conv2d_backward", &[g, &x, &w])?;
                let gx = x.tracks_grad().then(|| -> Result<Tensor> {
                    let gx = k.conv2d_backward_data(&*g.try_storage()?, &*w.try_storage()?, d)?;
                    Ok(Tensor::from_storage(gx, x.shape().clone()))
                });
                let gw = w.tracks_grad().then(|| -> Result<Tensor> {
                    let gw = k.conv2d_backward_weight(&*x.try_storage()?, &*g.try_storage()?, d)?;
                    Ok(Tensor::from_storage(gw, w.shape().clone()))
                });
                Ok(vec![gx.transpose()?, gw.transpose()?])
            },
        );
        match bias {
            None => Ok(y),
            Some(b) => y.add(&b.reshape(&[1, d.c_out, 1, 1])?),
        }
        // ANCHOR_END: conv2d
    }
}
