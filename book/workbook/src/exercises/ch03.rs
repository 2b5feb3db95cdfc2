//! Chapter 3: central differences, and a gradient check built on them.
//!
//! Tests: `cargo test --release --manifest-path book/workbook/Cargo.toml ch03`. Your check must
//! accept kiln's gradients on random shapes and reject the bugs of chapter 3: a forgotten
//! transpose, a forgotten sum over a broadcast axis, a gradient off by 1%.

use kiln::tensor::gradcheck::Tolerance;
use kiln::tensor::{Result, Tensor};

/// The central differences of `f` at `x`: element `j` is
/// `(f(x + eps e_j) - f(x - eps e_j)) / (2 eps)`, where `e_j` is the `j`-th unit vector.
///
/// Hint: move one coordinate at a time, in a copy of `x`, and put it back afterwards. The
/// error is of order `eps²`; a one-sided difference would be of order `eps`, and a test
/// tells them apart.
pub fn central_difference(f: &dyn Fn(&[f64]) -> f64, x: &[f64], eps: f64) -> Vec<f64> {
    todo!()
}

/// Checks kiln's gradients of `f` with respect to each of `inputs` (`f64` CPU tensors) against
/// [`central_difference`]s with step `tol.eps`.
///
/// `f`'s output is reduced to the scalar `L = Σ w ⊙ f(inputs)`, `w` being
/// `random_input(output dims, seed ^ 0x5eed)` (as kiln's `check`, so that the weights are not
/// the values of an input made from `seed`). Gradients of `L` from `backward` must satisfy
/// `|analytic - numeric| <= tol.atol + tol.rtol * |numeric|` for every element of every input
/// (an input that gets no gradient has gradient 0). The error names the first input (`input i`)
/// and element (`element j`) that fails, with both values.
///
/// Hint: make leaves with `t.detach().requires_grad()`, weights with
/// `kiln::tensor::gradcheck::random_input`, back-propagate `f(leaves)?.mul(&w)?.sum_all()?`
/// and read each leaf's `grad()`. For the numeric side, evaluate `L` inside `no_grad` as a
/// function of one input's values (`Tensor::from_vec_f64`, `to_vec_f64`), the others fixed,
/// and hand that function to your [`central_difference`]. Why random weights and not a plain
/// sum? Chapter 3 says; one of the tests shows it.
pub fn gradient_check(
    f: &dyn Fn(&[Tensor]) -> Result<Tensor>,
    inputs: &[Tensor],
    tol: Tolerance,
    seed: u64,
) -> std::result::Result<(), String> {
    todo!()
}
