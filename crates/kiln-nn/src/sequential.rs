//! A chain of modules applied in order.

use crate::module::{Module, TensorRole};
use kiln_tensor::{Result, Tensor};
use std::sync::atomic::AtomicU64;

/// Applies its children in order, each to the previous one's output.
///
/// Children are named by their index: the tensors of child `i` are visited as `"{i}.{name}"`
/// (`0.weight`, `3.running_mean`), in child order. Mode changes and device moves reach every
/// child.
#[derive(Default)]
pub struct Sequential {
    children: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// An empty chain (the identity).
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// The chain with `module` appended, for building in one expression.
    pub fn with(mut self, module: impl Module + 'static) -> Sequential {
        self.push(module);
        self
    }

    /// Appends `module`.
    pub fn push(&mut self, module: impl Module + 'static) {
        self.children.push(Box::new(module));
    }

    /// The number of children.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// Whether there are no children.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }
}

impl Module for Sequential {
    // ANCHOR: forward
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = x.clone();
        for child in &self.children {
            y = child.forward(&y)?;
        }
        Ok(y)
    }

    fn visit_tensors(&self, f: &mut dyn FnMut(&str, &Tensor, TensorRole)) {
        for (i, child) in self.children.iter().enumerate() {
            child.visit_tensors(&mut |name, t, role| f(&format!("{i}.{name}"), t, role));
        }
    }
    // ANCHOR_END: forward

    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.children.iter_mut().try_for_each(|c| c.map_tensors(f))
    }

    fn visit_counters(&self, f: &mut dyn FnMut(&str, &AtomicU64)) {
        for (i, child) in self.children.iter().enumerate() {
            child.visit_counters(&mut |name, c| f(&format!("{i}.{name}"), c));
        }
    }

    fn set_training(&mut self, training: bool) {
        for child in &mut self.children {
            child.set_training(training);
        }
    }
}
