//! The [`Module`] trait: a differentiable function with named tensors and a train/eval mode.

use kiln_tensor::{Device, Result, Tensor};
use std::sync::atomic::AtomicU64;

/// What a module's tensor is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorRole {
    /// Trained by gradient descent: a leaf that requires grad (weights, biases, BN's gamma/beta).
    Parameter,
    /// State that is not trained but belongs to the model (BN's running statistics). Saved in
    /// checkpoints, moved by [`Module::to_device`], never seen by optimizers.
    Buffer,
}

/// A layer or a container of layers.
///
/// # Tensors
///
/// A module exposes its tensors through [`Module::visit_tensors`], in a stable order and with
/// dotted names: a [`crate::Sequential`] prefixes its children's names with their index, so the
/// first layer's weight is `0.weight` and the running mean of a batch norm at index 3 is
/// `3.running_mean`. [`Module::parameters`] (what optimizers see) and [`Module::named_buffers`] are
/// derived from that one walk, so optimizer state keyed by parameter order and checkpoints keyed
/// by name always agree with the module.
///
/// # Train and eval mode
///
/// The mode is a plain field of the modules that have one (batch norm, dropout), switched by
/// [`Module::train`] / [`Module::eval`] through `&mut self` and read by [`Module::forward`]
/// through `&self`. The switch is rare and explicit, so `&mut self` lets the borrow checker
/// guarantee that no forward pass runs while the mode changes; forward stays `&self` so a model
/// can be evaluated through shared references. The state forward does change — batch norm's
/// running statistics and dropout's step counter — lives behind interior mutability (tensor
/// storage written in place, an atomic counter), which keeps forward `&self` in both modes.
///
/// Modules start in train mode, as in PyTorch.
///
/// # Nothing to forget
///
/// The walks ([`Module::visit_tensors`], [`Module::map_tensors`], [`Module::visit_counters`])
/// and the mode switch
/// ([`Module::set_training`]) have no default bodies: every module says what tensors it holds
/// and what its mode does, even when the answer is "none" (an empty body). A container that
/// forgot to forward them to its children would silently keep them on the CPU or in train mode;
/// (or, forgetting the counters, resume a run differently from how it would have gone on); here
/// the compiler refuses it instead.
// ANCHOR: trait_core
pub trait Module: Send + Sync {
    /// Applies the module to `x`. Recording for autograd follows the usual rule: the graph is
    /// built when an input or parameter requires grad and recording is on (see
    /// [`kiln_tensor::no_grad`] for evaluation).
    fn forward(&self, x: &Tensor) -> Result<Tensor>;

    /// Calls `f(name, tensor, role)` for each tensor of this module and its children, in a
    /// stable order, with dotted names relative to this module (a module without tensors
    /// visits nothing).
    fn visit_tensors(&self, f: &mut dyn FnMut(&str, &Tensor, TensorRole));
    // ANCHOR_END: trait_core

    /// Replaces each tensor of this module and its children, in [`Module::visit_tensors`]
    /// order, by `f(tensor)`, which must keep its shape (moving to a device, casting for a
    /// gradient check). A parameter stays a parameter only if `f` returns a tensor that
    /// requires grad; [`Module::to_device`] takes care of that.
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()>;

    /// Calls `f(name, counter)` for each counter of this module and its children, named and
    /// ordered as in [`Module::visit_tensors`]: state that is not a tensor but that later
    /// forward passes depend on, such as dropout's count of training calls, which seeds its
    /// masks. Checkpoints save and restore the counters, so that a resumed run goes on as the
    /// uninterrupted one would (a module without counters visits nothing).
    fn visit_counters(&self, f: &mut dyn FnMut(&str, &AtomicU64));

    /// Sets train (`true`) or eval (`false`) mode on this module and its children (a module
    /// whose forward does not depend on the mode does nothing).
    fn set_training(&mut self, training: bool);

    /// Train mode: batch norm uses and updates batch statistics, dropout drops.
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Eval mode: batch norm uses its running statistics, dropout is the identity.
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// Moves every tensor to `device`; parameters stay leaves that require grad. Build
    /// optimizers after moving: they hold the parameter tensors themselves (and an optimizer
    /// none of whose parameters gets a gradient refuses to step).
    fn to_device(&mut self, device: Device) -> Result<()> {
        self.map_tensors(&mut |t| {
            let moved = t.to_device(device)?;
            Ok(if t.tracks_grad() && !moved.same(t) {
                moved.requires_grad()
            } else {
                moved
            })
        })
    }

    /// Every tensor with its name and role, in visit order.
    fn named_tensors(&self) -> Vec<(String, Tensor, TensorRole)> {
        let mut out = Vec::new();
        self.visit_tensors(&mut |name, t, role| out.push((name.to_string(), t.clone(), role)));
        out
    }

    /// The trainable parameters with their names, in visit order.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        with_role(self.named_tensors(), TensorRole::Parameter)
    }

    /// The trainable parameters in visit order: what optimizers are built from. The tensors
    /// are handles sharing storage and gradient with the module's own.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    /// The buffers (running statistics) with their names, in visit order.
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        with_role(self.named_tensors(), TensorRole::Buffer)
    }
}

/// The `(name, tensor)` pairs of `tensors` that have `role`.
fn with_role(
    tensors: Vec<(String, Tensor, TensorRole)>,
    role: TensorRole,
) -> Vec<(String, Tensor)> {
    tensors
        .into_iter()
        .filter(|(_, _, r)| *r == role)
        .map(|(name, t, _)| (name, t))
        .collect()
}
