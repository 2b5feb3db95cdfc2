//! Pooling layers over NCHW inputs (no tensors, no mode).

use kiln_tensor::Pool2dOptions;

/// Max pooling `[n, c, h, w]` to `[n, c, oh, ow]` with the given window, stride and padding
/// (`MaxPool2d(Pool2dOptions::window(2))` halves the spatial size). The gradient goes to the
/// first largest value of each window, in row-major order.
#[derive(Debug, Clone, Copy)]
pub struct MaxPool2d(pub Pool2dOptions);

stateless_module!(MaxPool2d, |layer, x| x.max_pool2d(layer.0));

/// Average pooling `[n, c, h, w]` to `[n, c, oh, ow]`; padding counts as zeros in the average.
#[derive(Debug, Clone, Copy)]
pub struct AvgPool2d(pub Pool2dOptions);

stateless_module!(AvgPool2d, |layer, x| x.avg_pool2d(layer.0));

/// The mean of each channel: `[n, c, h, w]` to `[n, c]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct GlobalAvgPool;

stateless_module!(GlobalAvgPool, |_layer, x| x.global_avg_pool2d());

/// The maximum of each channel: `[n, c, h, w]` to `[n, c]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct GlobalMaxPool;

stateless_module!(GlobalMaxPool, |_layer, x| x.global_max_pool2d());
