//! 2-D convolution layer.

use super::check_sizes;
use crate::init::LayerInit;
use crate::init::WeightBias;
use crate::module::{Module, TensorRole};
use kiln_tensor::{Conv2dOptions, Padding, Result, Tensor};
use std::sync::atomic::AtomicU64;

/// A 2-D convolution (cross-correlation), NCHW: input `[n, in_channels, h, w]`, output
/// `[n, out_channels, oh, ow]` with `oh = (h + padding - kh) / stride + 1` (see [`Padding`]).
///
/// Tensor names: `weight` (`[out_channels, in_channels, kh, kw]`) and, when present, `bias`
/// (`[out_channels]`). Stride 1 and [`Padding::Valid`] unless set with [`Conv2d::stride`] and
/// [`Conv2d::padding`].
#[derive(Debug)]
pub struct Conv2d {
    params: WeightBias,
    options: Conv2dOptions,
}

impl Conv2d {
    /// A convolution with a `(kh, kw)` kernel, initialized by `init` from `seed`, on the CPU
    /// (move it with [`Module::to_device`]). Errors, naming the value, when a channel count or
    /// kernel size is 0 or the weight does not fit in host memory.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: (usize, usize),
        init: LayerInit,
        seed: u64,
    ) -> Result<Conv2d> {
        let sizes = [
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("kernel height", kernel.0),
            ("kernel width", kernel.1),
        ];
        check_sizes("Conv2d", &sizes)?;
        let shape = [out_channels, in_channels, kernel.0, kernel.1];
        Ok(Conv2d {
            params: init.build("Conv2d", &shape, seed)?,
            options: Conv2dOptions::default(),
        })
    }

    /// The same layer with stride `s` along both axes.
    pub fn stride(mut self, s: usize) -> Conv2d {
        self.options.stride = (s, s);
        self
    }

    /// The same layer with the given padding.
    pub fn padding(mut self, padding: Padding) -> Conv2d {
        self.options.padding = padding;
        self
    }

    /// The same layer with the given stride and padding.
    pub fn options(self, options: Conv2dOptions) -> Conv2d {
        Conv2d { options, ..self }
    }

    /// The weight `[out_channels, in_channels, kh, kw]`.
    pub fn weight(&self) -> &Tensor {
        &self.params.weight
    }

    /// The bias `[out_channels]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.params.bias.as_ref()
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.conv2d(self.weight(), self.bias(), self.options)
    }

    fn visit_tensors(&self, f: &mut dyn FnMut(&str, &Tensor, TensorRole)) {
        self.params.visit(f);
    }

    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.params.map(f)
    }

    fn visit_counters(&self, _: &mut dyn FnMut(&str, &AtomicU64)) {}

    fn set_training(&mut self, _: bool) {}
}
