//! Inverted dropout with a reproducible mask per step.

use crate::module::{Module, TensorRole};
use kiln_tensor::random::derive_seed;
use kiln_tensor::{Error, Result, Tensor};
use std::sync::atomic::{AtomicU64, Ordering};

/// Zeroes each element with probability `p` in train mode and scales the kept ones by
/// `1 / (1 - p)`, so that eval mode is the identity with the same expected output. Any shape.
///
/// Masks are reproducible: forward call `k` in train mode (counting from 0 since construction)
/// draws its mask from a seed derived from `(seed, k)`, so two runs with the same seed drop the
/// same elements at the same steps, on every device. The counter advances only in train mode;
/// checkpoints save it as the counter `calls`, so a resumed run draws the masks the
/// uninterrupted one would have.
#[derive(Debug)]
pub struct Dropout {
    p: f32,
    seed: u64,
    calls: AtomicU64,
    training: bool,
}

impl Dropout {
    /// Dropout with probability `p` in `[0, 1)`, drawing its masks from `seed`.
    pub fn new(p: f32, seed: u64) -> Result<Dropout> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::invalid(
                "Dropout",
                format!("probability {p} is not in [0, 1)"),
            ));
        }
        Ok(Dropout {
            p,
            seed,
            calls: AtomicU64::new(0),
            training: true,
        })
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }
}

impl Module for Dropout {
    // ANCHOR: forward
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if !self.training || self.p == 0.0 {
            return Ok(x.clone());
        }
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        x.dropout(self.p, derive_seed(self.seed, call))
    }
    // ANCHOR_END: forward

    fn visit_tensors(&self, _: &mut dyn FnMut(&str, &Tensor, TensorRole)) {}

    fn map_tensors(&mut self, _: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        Ok(())
    }

    fn visit_counters(&self, f: &mut dyn FnMut(&str, &AtomicU64)) {
        f("calls", &self.calls);
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}
