//! Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

use super::state::StateTable;
use super::{check_gradients, Optimizer};
use crate::state_dict::{CheckpointResult, StateDict};
use kiln_tensor::{Result, SgdStep, Tensor};

/// SGD hyper-parameters, in PyTorch's formulation (`torch.optim.SGD` with `dampening=0`, checked
/// against it in `tests/torch_optim.rs`): with gradient `g`,
/// `g += weight_decay * p`; with momentum `v = momentum * v + g` and the step direction
/// `d = v`, or `d = g + momentum * v` with Nesterov; without momentum `d = g`; then
/// `p -= lr * d`. The default is plain SGD with `lr = 0.01`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// Learning rate.
    pub lr: f32,
    /// Momentum factor; 0 disables momentum (and its buffer).
    pub momentum: f32,
    /// Nesterov momentum (needs `momentum > 0`).
    pub nesterov: bool,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
}

impl SgdConfig {
    /// The hyper-parameters of every step.
    fn hyper_parameters(&self) -> SgdStep {
        SgdStep {
            lr: self.lr,
            momentum: self.momentum,
            nesterov: self.nesterov,
            weight_decay: self.weight_decay,
        }
    }
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 0.01,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }
}

/// Stochastic gradient descent; see [`SgdConfig`] for the update. State per parameter: `step`,
/// and with momentum `momentum_buffer`.
#[derive(Debug)]
pub struct Sgd {
    params: Vec<Tensor>,
    config: SgdConfig,
    state: StateTable,
}

impl Sgd {
    /// An optimizer over `params` (usually [`crate::Module::parameters`]). Errors for Nesterov
    /// without momentum and for negative or non-finite hyper-parameters.
    pub fn new(params: Vec<Tensor>, config: SgdConfig) -> Result<Sgd> {
        config.hyper_parameters().check("Sgd")?;
        let buffers: &'static [&'static str] = if config.momentum == 0.0 {
            &[]
        } else {
            &["momentum_buffer"]
        };
        let state = StateTable::new(buffers, params.len());
        Ok(Sgd {
            params,
            config,
            state,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }
}

impl Optimizer for Sgd {
    fn step(&mut self) -> Result<()> {
        check_gradients("Sgd", &self.params)?;
        let hp = self.config.hyper_parameters();
        for (i, p) in self.params.iter().enumerate() {
            let Some(grad) = p.grad() else { continue };
            let state = self.state.get_or_init(i, p)?;
            state.step += 1;
            p.sgd_update_(&grad, state.buffers.first(), &hp)?;
        }
        Ok(())
    }

    fn parameters(&self) -> &[Tensor] {
        &self.params
    }

    fn learning_rate(&self) -> f32 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f32) {
        self.config.lr = lr;
    }

    fn save_state(&self, prefix: &str, dict: &mut StateDict) {
        self.state.save(prefix, dict);
    }

    fn load_state(&mut self, prefix: &str, dict: &StateDict) -> CheckpointResult<()> {
        self.state.load(prefix, dict, &self.params)
    }
}
