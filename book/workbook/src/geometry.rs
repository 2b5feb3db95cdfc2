//! The shape the batch-norm exercises take, spelled out as the loops need it (the convolution
//! exercises take kiln's own `Conv2dDims`).

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
