//! Chapter 3, solutions: central differences and a gradient check built on them.

use kiln::tensor::gradcheck::{random_input, Tolerance};
use kiln::tensor::{no_grad, Result, Tensor};

/// The central differences of `f` at `x`: element `j` is
/// `(f(x + eps e_j) - f(x - eps e_j)) / (2 eps)`, where `e_j` is the `j`-th unit vector.
pub fn central_difference(f: &dyn Fn(&[f64]) -> f64, x: &[f64], eps: f64) -> Vec<f64> {
    let mut moved = x.to_vec();
    (0..x.len())
        .map(|j| {
            moved[j] = x[j] + eps;
            let up = f(&moved);
            moved[j] = x[j] - eps;
            let down = f(&moved);
            moved[j] = x[j];
            (up - down) / (2.0 * eps)
        })
        .collect()
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
pub fn gradient_check(
    f: &dyn Fn(&[Tensor]) -> Result<Tensor>,
    inputs: &[Tensor],
    tol: Tolerance,
    seed: u64,
) -> std::result::Result<(), String> {
    let err = |e: kiln::tensor::Error| e.to_string();
    let leaves: Vec<Tensor> = inputs.iter().map(|t| t.detach().requires_grad()).collect();
    let weights = random_input(f(&leaves).map_err(err)?.dims(), seed ^ 0x5eed);
    let loss = |xs: &[Tensor]| f(xs)?.mul(&weights)?.sum_all();
    loss(&leaves).map_err(err)?.backward().map_err(err)?;
    for (i, leaf) in leaves.iter().enumerate() {
        let analytic = match leaf.grad() {
            Some(g) => g.to_vec_f64().map_err(err)?,
            None => vec![0.0; leaf.numel()],
        };
        // L as a function of input i alone, the others held fixed.
        let along = |values: &[f64]| -> f64 {
            let mut moved = inputs.to_vec();
            moved[i] = Tensor::from_vec_f64(values.to_vec(), leaf.dims()).expect("same shape");
            no_grad(|| loss(&moved))
                .and_then(|l| l.to_vec_f64())
                .expect("f ran on these shapes already")[0]
        };
        let numeric = central_difference(&along, &leaf.to_vec_f64().map_err(err)?, tol.eps);
        for (j, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
            let diff = (a - n).abs();
            if diff.is_nan() || diff > tol.atol + tol.rtol * n.abs() {
                return Err(format!(
                    "input {i} (shape {}), element {j}: analytic {a:.8e}, numeric {n:.8e}",
                    leaf.shape()
                ));
            }
        }
    }
    Ok(())
}
