//! Flattening the per-example axes.

/// Collapses every axis after the first: `[n, c, h, w]` becomes `[n, c*h*w]`. Free: the output
/// shares the input's storage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flatten;

stateless_module!(Flatten, |_layer, x| x.flatten_from(1));
