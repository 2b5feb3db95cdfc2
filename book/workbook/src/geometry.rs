//! The shapes the convolution and batch-norm exercises take, spelled out as the loops need
//! them.

/// The geometry of a convolution: input `[n, c_in, h, w]`, weight `[c_out, c_in, kh, kw]`,
/// output `[n, c_out, oh, ow]`, with `oh = (h + pad_top + pad_bottom - kh) / stride.0 + 1`
/// (likewise `ow`). Only the top and left padding are needed to index: the bottom and right
/// padding are what `oh` and `ow` leave over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dDims {
    /// Batch size.
    pub n: usize,
    /// Input channels.
    pub c_in: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub c_out: usize,
    /// Filter height.
    pub kh: usize,
    /// Filter width.
    pub kw: usize,
    /// `(vertical, horizontal)` stride.
    pub stride: (usize, usize),
    /// `(top, left)` zero padding.
    pub pad: (usize, usize),
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
}

/// A batch-norm input viewed as `[n, c, spatial]`: `spatial` is 1 for `[n, c]` and `h · w` for
/// `[n, c, h, w]`. Channel `ch` of sample `b` is the run `x[(b·c + ch)·spatial ..][..spatial]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BnDims {
    /// Batch size.
    pub n: usize,
    /// Channels.
    pub c: usize,
    /// Values per channel and sample.
    pub spatial: usize,
}
