//! Per-parameter optimizer state: a step count and buffers shaped like the parameter.

use crate::state_dict::{CheckpointError, CheckpointResult, StateDict};
use kiln_tensor::{Result, Tensor};

/// Most steps an optimizer takes on a parameter: the update kernels count steps in `u32`.
pub(super) const MAX_STEP: u64 = u32::MAX as u64;

/// The state of one parameter.
#[derive(Debug)]
pub(super) struct ParamState {
    /// Steps taken on this parameter, counting the current one once it is running.
    pub(super) step: u64,
    /// Buffers shaped like the parameter, on its device, in the table's name order.
    pub(super) buffers: Vec<Tensor>,
}

/// The states of an optimizer's parameters, each created at the parameter's first step.
#[derive(Debug)]
pub(super) struct StateTable {
    buffer_names: &'static [&'static str],
    states: Vec<Option<ParamState>>,
}

impl StateTable {
    /// An empty table for `len` parameters whose buffers are called `buffer_names` in
    /// checkpoints.
    pub(super) fn new(buffer_names: &'static [&'static str], len: usize) -> StateTable {
        StateTable {
            buffer_names,
            states: (0..len).map(|_| None).collect(),
        }
    }

    /// The state of parameter `i`, created with zero buffers if it has none yet.
    pub(super) fn get_or_init(&mut self, i: usize, param: &Tensor) -> Result<&mut ParamState> {
        if self.states[i].is_none() {
            let buffers = self
                .buffer_names
                .iter()
                .map(|_| param.zeros_like())
                .collect::<Result<_>>()?;
            self.states[i] = Some(ParamState { step: 0, buffers });
        }
        Ok(self.states[i].as_mut().expect("state just created"))
    }

    /// Writes `{prefix}parameters`, and for each parameter with state `{prefix}{i}.step` and
    /// `{prefix}{i}.{buffer name}`.
    pub(super) fn save(&self, prefix: &str, dict: &mut StateDict) {
        dict.insert_counter(format!("{prefix}parameters"), self.states.len() as u64);
        for (i, state) in self.states.iter().enumerate() {
            let Some(state) = state else { continue };
            dict.insert_counter(format!("{prefix}{i}.step"), state.step);
            for (name, buffer) in self.buffer_names.iter().zip(&state.buffers) {
                dict.insert_tensor(format!("{prefix}{i}.{name}"), buffer.clone());
            }
        }
    }

    /// Replaces the table by the one [`StateTable::save`] wrote, with buffers on the devices
    /// of `params`.
    pub(super) fn load(
        &mut self,
        prefix: &str,
        dict: &StateDict,
        params: &[Tensor],
    ) -> CheckpointResult<()> {
        let saved = dict.counter(&format!("{prefix}parameters"))?;
        if saved != params.len() as u64 {
            return Err(CheckpointError::Incompatible(format!(
                "saved for {saved} parameters, the optimizer has {}",
                params.len()
            )));
        }
        let mut states = Vec::with_capacity(params.len());
        for (i, param) in params.iter().enumerate() {
            let step_name = format!("{prefix}{i}.step");
            if !dict.contains(&step_name) {
                states.push(None);
                continue;
            }
            let mut buffers = Vec::with_capacity(self.buffer_names.len());
            for name in self.buffer_names {
                let buffer = param.zeros_like()?;
                dict.copy_into(&format!("{prefix}{i}.{name}"), &buffer)?;
                buffers.push(buffer);
            }
            let step = dict.counter(&step_name)?;
            if step > MAX_STEP {
                return Err(CheckpointError::Incompatible(format!(
                    "`{step_name}` counts {step} steps, more than the {MAX_STEP} an optimizer takes"
                )));
            }
            states.push(Some(ParamState { step, buffers }));
        }
        self.states = states;
        Ok(())
    }
}
