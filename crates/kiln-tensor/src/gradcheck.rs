//! Finite-difference gradient checks against the CPU reference kernels in `f64`.
//!
//! [`check`] evaluates `f` on `f64` leaves, reduces its output through seeded random weights
//! (`L = Σ wᵢ yᵢ`, so that a transposed or mis-broadcast gradient cannot cancel out as it
//! could under a plain sum), back-propagates, and compares every input gradient with the
//! central difference `(L(x + ε) - L(x - ε)) / 2ε`.

use crate::random::Rng;
use crate::{no_grad, Error, Result, Tensor};

/// Tolerances of a gradient check: `|analytic - numeric| <= atol + rtol * |numeric|`.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    /// Finite-difference step.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Tolerance relative to the numeric gradient.
    pub rtol: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// Seeded `f64` values in `[-1, 1)` with the given shape, for gradient-check inputs.
pub fn random_input(dims: &[usize], seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    let n = dims.iter().product();
    let data = (0..n).map(|_| rng.uniform_f64() * 2.0 - 1.0).collect();
    Tensor::from_vec_f64(data, dims).expect("length matches dims")
}

// ANCHOR: check
/// `Σ weights · f(inputs)`, the scalar every check differentiates.
fn weighted(
    f: &dyn Fn(&[Tensor]) -> Result<Tensor>,
    inputs: &[Tensor],
    w: &Tensor,
) -> Result<Tensor> {
    f(inputs)?.mul(w)?.sum_all()
}

/// Checks the gradient of `f` with respect to every tensor of `inputs` (`f64`, CPU).
/// Returns an error naming the input, the element and both values at the first mismatch.
pub fn check(
    f: impl Fn(&[Tensor]) -> Result<Tensor>,
    inputs: &[Tensor],
    tol: Tolerance,
    seed: u64,
) -> Result<()> {
    let leaves: Vec<Tensor> = inputs.iter().map(|t| t.detach().requires_grad()).collect();
    let out = f(&leaves)?;
    let weights = random_input(out.dims(), seed ^ 0x5eed);
    weighted(&f, &leaves, &weights)?.backward()?;
    for (i, leaf) in leaves.iter().enumerate() {
        let analytic = match leaf.grad() {
            Some(g) => g.to_vec_f64()?,
            None => vec![0.0; leaf.numel()],
        };
        let base = leaf.to_vec_f64()?;
        for j in 0..base.len() {
            let at = |delta: f64| -> Result<f64> {
                let mut values = base.clone();
                values[j] += delta;
                let mut moved = inputs.to_vec();
                moved[i] = Tensor::from_vec_f64(values, leaf.dims())?;
                no_grad(|| weighted(&f, &moved, &weights))?
                    .to_vec_f64()
                    .map(|v| v[0])
            };
            let numeric = (at(tol.eps)? - at(-tol.eps)?) / (2.0 * tol.eps);
            let diff = (analytic[j] - numeric).abs();
            if diff.is_nan() || diff > tol.atol + tol.rtol * numeric.abs() {
                return Err(Error::invalid(
                    "gradcheck",
                    format!(
                        "input {i} (shape {}), element {j}: analytic {:.8e}, numeric {numeric:.8e}",
                        leaf.shape(),
                        analytic[j]
                    ),
                ));
            }
        }
    }
    Ok(())
}
// ANCHOR_END: check
