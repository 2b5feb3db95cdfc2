//! Chapter 3: why the gradient check reduces the output through random weights.

use kiln::prelude::*;
use kiln::tensor::gradcheck::{check, random_input, Tolerance};
use kiln::tensor::Result;

// ANCHOR: transpose_bug
/// `xᵀ` in the forward pass, with a backward pass that forgets to transpose: the gradient
/// reaches `x` through `x - x.detach()` (value zero, gradient the identity).
fn buggy_transpose(x: &Tensor) -> Result<Tensor> {
    x.detach().transpose(0, 1)?.add(&x.sub(&x.detach())?)
}

#[test]
fn random_weights_catch_what_a_plain_sum_hides() {
    let inputs = [random_input(&[3, 3], 1)];
    // Differentiating the plain sum, every output has weight 1: the gradient is all ones,
    // transposed or not, and the bug passes.
    let plain_sum = |x: &[Tensor]| buggy_transpose(&x[0])?.sum_all();
    assert!(check(plain_sum, &inputs, Tolerance::default(), 1).is_ok());
    // With random weights w, the true gradient is wᵀ and the buggy one is w: caught.
    let weighted = check(|x| buggy_transpose(&x[0]), &inputs, Tolerance::default(), 1);
    assert!(weighted.unwrap_err().to_string().contains("analytic"));
}
// ANCHOR_END: transpose_bug
