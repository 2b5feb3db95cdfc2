//! Multiplying by a constant.

/// `x · factor` elementwise, with no parameters: the fixed output scale of a classifier head
/// (ResNet-9's logits are its linear layer's output times 0.125).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale(pub f32);

stateless_module!(Scale, |layer, x| x.mul_scalar(layer.0));
