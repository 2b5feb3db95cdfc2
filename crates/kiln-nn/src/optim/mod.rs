//! Optimizers: SGD (momentum, Nesterov, weight decay) and Adam/AdamW.
//!
//! An optimizer holds the parameter tensors it was built from (handles sharing storage and
//! gradient with the module's) and per-parameter state keyed by their order. [`Optimizer::step`]
//! reads each parameter's accumulated gradient and updates the parameter in place, on its
//! device, in one fused kernel per parameter ([`Tensor::sgd_update_`](kiln_tensor::Tensor::sgd_update_),
//! [`Tensor::adam_update_`](kiln_tensor::Tensor::adam_update_)); parameters without a gradient
//! are left alone.

mod adam;
mod sgd;
mod state;

pub use adam::{Adam, AdamConfig};
pub use sgd::{Sgd, SgdConfig};

use crate::state_dict::{CheckpointResult, StateDict};
use kiln_tensor::{Error, Result, Tensor};

/// An error naming `optimizer` when it has parameters and none has a gradient: a step would
/// silently do nothing, as it always does for an optimizer built before its module was moved
/// to another device (it holds the tensors the move replaced).
fn check_gradients(optimizer: &'static str, params: &[Tensor]) -> Result<()> {
    if params.is_empty() || params.iter().any(|p| p.grad().is_some()) {
        return Ok(());
    }
    Err(Error::invalid(
        optimizer,
        format!(
            "none of its {} parameters has a gradient: call backward before step, and build \
             the optimizer after moving the module to its device",
            params.len()
        ),
    ))
}

/// A rule that updates parameters from their gradients.
pub trait Optimizer {
    /// Updates every parameter that has a gradient, in place; an error when none has one.
    fn step(&mut self) -> Result<()>;

    /// The parameters, in the order their state is keyed by.
    fn parameters(&self) -> &[Tensor];

    /// Forgets every parameter's gradient (call before each backward pass, since gradients
    /// accumulate).
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Sets the learning rate used by the following steps (for schedules). Checkpoints do not
    /// store it: a schedule recomputes it from the step.
    fn set_learning_rate(&mut self, lr: f32);

    /// Adds the per-parameter state to `dict` under `{prefix}{i}.{name}` (`i` the parameter's
    /// index), with the parameter count as `{prefix}parameters`.
    fn save_state(&self, prefix: &str, dict: &mut StateDict);

    /// Restores state written by [`Optimizer::save_state`], on the parameters' devices, whole
    /// or not at all: after an error the state is as it was.
    fn load_state(&mut self, prefix: &str, dict: &StateDict) -> CheckpointResult<()>;
}
