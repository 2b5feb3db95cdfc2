//! Inverted dropout with a counter-based mask (the same on every device for a seed).

use super::kernels_of;
use crate::{Error, Result, Tensor};

impl Tensor {
    /// Zeroes each element with probability `p` and scales the rest by `1 / (1 - p)`, so the
    /// expected value is unchanged. The mask is a function of `seed` and the element index.
    pub fn dropout(&self, p: f32, seed: u64) -> Result<Tensor> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::invalid(
                "dropout",
                format!("probability {p} is not in [0, 1)"),
            ));
        }
        let k = kernels_of("dropout", &[self])?;
        let mask = k.dropout_mask(self.dtype(), self.numel(), p, seed)?;
        let mask = Tensor::from_storage(mask, self.shape().clone());
        self.mul(&mask)
    }
}
