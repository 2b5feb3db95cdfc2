//! Adam and AdamW.

use super::state::{StateTable, MAX_STEP};
use super::{check_gradients, Optimizer};
use crate::state_dict::{CheckpointResult, StateDict};
use kiln_tensor::{AdamStep, Error, Result, Tensor};

/// Adam hyper-parameters. With gradient `g` at step `t` (from 1):
/// `m = beta1 m + (1 - beta1) g`, `v = beta2 v + (1 - beta2) g²`,
/// `p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)`.
///
/// Weight decay is either L2 added to the gradient first, `g += weight_decay * p` (Adam), or
/// decoupled, `p -= lr * weight_decay * p` before the update (AdamW, Loshchilov and Hutter).
/// The default is PyTorch's Adam: `lr = 1e-3`, betas `(0.9, 0.999)`, `eps = 1e-8`, no decay;
/// [`AdamConfig::adamw`] gives PyTorch's AdamW.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f32,
    /// Decay rate of the first moment.
    pub beta1: f32,
    /// Decay rate of the second moment.
    pub beta2: f32,
    /// Added to the denominator.
    pub eps: f32,
    /// Weight decay factor.
    pub weight_decay: f32,
    /// Decoupled weight decay (AdamW) instead of L2 in the gradient (Adam).
    pub decoupled_weight_decay: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
        }
    }
}

impl AdamConfig {
    /// The hyper-parameters of step `step` (from 1).
    fn at_step(&self, step: u32) -> AdamStep {
        AdamStep {
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
            decoupled: self.decoupled_weight_decay,
            step,
        }
    }

    /// PyTorch's AdamW defaults: Adam's, with decoupled weight decay `1e-2`.
    pub fn adamw() -> AdamConfig {
        AdamConfig {
            weight_decay: 1e-2,
            decoupled_weight_decay: true,
            ..AdamConfig::default()
        }
    }

    /// The same configuration with learning rate `lr`.
    pub fn lr(self, lr: f32) -> AdamConfig {
        AdamConfig { lr, ..self }
    }
}

/// Adam, or AdamW with [`AdamConfig::decoupled_weight_decay`]; see [`AdamConfig`] for the update.
/// State per parameter: `step`, `exp_avg` (m) and `exp_avg_sq` (v).
#[derive(Debug)]
pub struct Adam {
    params: Vec<Tensor>,
    config: AdamConfig,
    state: StateTable,
}

impl Adam {
    /// An optimizer over `params` (usually [`crate::Module::parameters`]). Errors for betas
    /// outside `[0, 1)` and negative or non-finite learning rate, eps or decay.
    pub fn new(params: Vec<Tensor>, config: AdamConfig) -> Result<Adam> {
        config.at_step(1).check("Adam")?;
        let state = StateTable::new(&["exp_avg", "exp_avg_sq"], params.len());
        Ok(Adam {
            params,
            config,
            state,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }
}

impl Optimizer for Adam {
    // ANCHOR: step
    fn step(&mut self) -> Result<()> {
        check_gradients("Adam", &self.params)?;
        let c = self.config;
        for (i, p) in self.params.iter().enumerate() {
            let Some(grad) = p.grad() else { continue };
            let state = self.state.get_or_init(i, p)?;
            state.step += 1;
            let step = u32::try_from(state.step)
                .map_err(|_| Error::invalid("Adam", format!("more than {MAX_STEP} steps")))?;
            let hp = c.at_step(step);
            let [m, v] = &state.buffers[..] else {
                unreachable!("Adam keeps two buffers per parameter")
            };
            p.adam_update_(&grad, m, v, &hp)?;
        }
        Ok(())
    }
    // ANCHOR_END: step

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
