//! Checkpoints in the safetensors format: a module's parameters and buffers, and optionally an
//! optimizer's state.
//!
//! A module's tensors are stored under their names (`0.weight`, `3.running_mean`, ...) with
//! their dtype (`F32`, or `F64` for `f64` tensors) and shape; an optimizer's state under
//! `optimizer.` (`optimizer.0.exp_avg`, step counts as `U64` scalars). Any tool that reads
//! safetensors (Python's `safetensors.torch.load_file`, for one) reads these files.
//!
//! Loading writes into the module's existing tensors in place, on their device, so handles held
//! elsewhere (an optimizer's parameters) see the loaded values. A tensor of another shape than
//! the module's, a missing tensor, or a tensor the module does not have is an error naming it.
//! A module's counters ([`Module::visit_counters`]: dropout's count of calls) are stored as
//! `U64` scalars under their names (`2.calls`); loading sets those the file has and leaves the
//! others (PyTorch's files have none).
//!
//! What a checkpoint guarantees:
//! - **One file, one commit.** The model, the optimizer state (its step counters included) and
//!   any metadata the caller adds (a run's progress and configuration, say) live in one file,
//!   written with [`write_atomically`]: a process killed at any moment leaves the previous
//!   checkpoint or the new one, whole.
//! - **Integrity.** kiln stores a CRC-32 of every entry (name, dtype, shape, bytes) and of the
//!   metadata under the metadata key `kiln.crc32`, and loading verifies it: flipped bytes are an
//!   error naming the file. Files written by other tools (no `kiln.crc32`) load unverified;
//!   kiln's own also carry the mark `kiln.format`, so one whose checksum key is damaged is
//!   refused rather than taken for another tool's.
//! - **Consistent steps.** A checkpoint given a step ([`StateDict::set_step`]) loads into an
//!   optimizer only if the optimizer state it holds is at that same step.

pub use crate::durable::{create_atomically, write_atomically, FileError};
use crate::module::{Module, TensorRole};
use crate::optim::Optimizer;
use crate::state_dict::OPTIMIZER_PREFIX;
pub use crate::state_dict::{CheckpointError, CheckpointResult, StateDict};
use kiln_tensor::Tensor;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::Ordering;

/// How [`load_state_dict_with`] treats a checkpoint that does not match the module exactly.
/// The default is strict and exact, like PyTorch's `load_state_dict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// Missing and unexpected tensors are errors (PyTorch's `strict=True`). When `false` they
    /// are listed in the [`LoadReport`] and every tensor present in both is loaded. Shapes must
    /// match either way.
    pub strict: bool,
    /// Convert tensors stored in another float type (`F64`, `F16`, `BF16`) to the module's.
    pub cast: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            strict: true,
            cast: false,
        }
    }
}

/// What a load left out, as PyTorch's `load_state_dict(strict=False)` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Module tensors the checkpoint does not have (they keep their values).
    pub missing: Vec<String>,
    /// Checkpoint tensors the module does not have (ignored).
    pub unexpected: Vec<String>,
}

/// An error naming the first name that two of `tensors` share.
fn check_unique(tensors: &[(String, Tensor, TensorRole)]) -> CheckpointResult<()> {
    let mut seen = HashSet::new();
    match tensors.iter().find(|(name, _, _)| !seen.insert(name)) {
        Some((name, _, _)) => Err(CheckpointError::DuplicateName { name: name.clone() }),
        None => Ok(()),
    }
}

/// The tensors of `module` and, if given, the state of `optimizer`, as one dictionary. Its
/// tensor names must be unique: [`save`] and the loads refuse a module whose are not.
pub fn state_dict(module: &dyn Module, optimizer: Option<&dyn Optimizer>) -> StateDict {
    let mut dict = StateDict::new();
    for (name, t, _) in module.named_tensors() {
        dict.insert_tensor(name, t);
    }
    module.visit_counters(&mut |name, counter| {
        dict.insert_counter(name, counter.load(Ordering::Relaxed));
    });
    if let Some(opt) = optimizer {
        opt.save_state(OPTIMIZER_PREFIX, &mut dict);
    }
    dict
}

/// Loads `dict` into `module` (every parameter and buffer, in place) and, if given, into
/// `optimizer`, strictly: [`load_state_dict_with`] and the default [`LoadOptions`].
pub fn load_state_dict(
    dict: &StateDict,
    module: &dyn Module,
    optimizer: Option<&mut dyn Optimizer>,
) -> CheckpointResult<()> {
    load_state_dict_with(dict, module, optimizer, LoadOptions::default()).map(drop)
}

/// Loads `dict` into `module` (every parameter and buffer, in place) and, if given, into
/// `optimizer`.
///
/// Entries under `optimizer.` are ignored when no optimizer is given. The module's counters
/// ([`Module::visit_counters`]) take the file's values where it has them and keep theirs
/// otherwise; other counters (such as PyTorch's `num_batches_tracked`) are not the module's. With `options.strict`, a module
/// tensor the checkpoint lacks, or a checkpoint tensor the module lacks, is an error naming
/// it; otherwise both are listed in the returned report. The module's tensors, and the
/// agreement of the optimizer state's step with the checkpoint's, are all checked before
/// anything is written, and the optimizer's state loads (whole or not at all) before the
/// module's tensors are written, so a mismatch leaves both as they were.
pub fn load_state_dict_with(
    dict: &StateDict,
    module: &dyn Module,
    optimizer: Option<&mut dyn Optimizer>,
    options: LoadOptions,
) -> CheckpointResult<LoadReport> {
    if optimizer.is_some() {
        dict.check_steps()?;
    }
    let tensors = module.named_tensors();
    check_unique(&tensors)?;
    let mut report = LoadReport::default();
    let mut sources = Vec::with_capacity(tensors.len());
    for (name, t, _) in &tensors {
        if !options.strict && !dict.contains(name) {
            report.missing.push(name.clone());
            continue;
        }
        sources.push((t, dict.prepared(name, t, options.cast)?));
    }
    report.unexpected = dict
        .tensor_names()
        .chain(dict.unloadable_names())
        .filter(|name| {
            !name.starts_with(OPTIMIZER_PREFIX) && !tensors.iter().any(|(n, _, _)| n == name)
        })
        .map(str::to_string)
        .collect();
    report.unexpected.sort();
    if let (true, Some(name)) = (options.strict, report.unexpected.first()) {
        return Err(CheckpointError::Unexpected { name: name.clone() });
    }
    // The optimizer's state loads whole or not at all, so loading it first leaves both as
    // they were when it fails.
    if let Some(opt) = optimizer {
        opt.load_state(OPTIMIZER_PREFIX, dict)?;
    }
    for (dst, src) in sources {
        crate::inplace::overwrite(dst, &src)?;
    }
    module.visit_counters(&mut |name, counter| {
        if let Ok(value) = dict.counter(name) {
            counter.store(value, Ordering::Relaxed);
        }
    });
    Ok(report)
}

/// Saves `module`'s parameters and buffers and, if given, `optimizer`'s state to a
/// safetensors file at `path`.
pub fn save(
    path: impl AsRef<Path>,
    module: &dyn Module,
    optimizer: Option<&dyn Optimizer>,
) -> CheckpointResult<()> {
    check_unique(&module.named_tensors())?;
    state_dict(module, optimizer).save(path)
}

/// Loads a safetensors file (one written by [`save`], or by PyTorch's
/// `safetensors.torch.save_file(model.state_dict(), path)` for a model of the same layout) into
/// `module` and, if given, `optimizer`, with `options` (see [`load_state_dict_with`]). Errors
/// name the file ([`CheckpointError::cause`] gives what went wrong without it).
pub fn load_with(
    path: impl AsRef<Path>,
    module: &dyn Module,
    optimizer: Option<&mut dyn Optimizer>,
    options: LoadOptions,
) -> CheckpointResult<LoadReport> {
    let path = path.as_ref();
    load_state_dict_with(&StateDict::load(path)?, module, optimizer, options)
        .map_err(|e| CheckpointError::in_file(path, e))
}

/// Loads a file written by [`save`] into `module` and, if given, `optimizer` (see
/// [`load_state_dict`]). Errors name the file.
pub fn load(
    path: impl AsRef<Path>,
    module: &dyn Module,
    optimizer: Option<&mut dyn Optimizer>,
) -> CheckpointResult<()> {
    load_with(path, module, optimizer, LoadOptions::default()).map(drop)
}
