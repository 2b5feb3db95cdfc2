//! Chapter 11: a small CNN, trained end to end on the pieces of the earlier chapters: your
//! reader (chapter 9), your loss gradient and your Adam (chapter 8).
//!
//! Tests: `cargo test --release --manifest-path book/workbook/Cargo.toml ch11`. The training
//! run must learn (the loss falls, the training accuracy beats chance by far), and its first
//! steps must match the same run made with kiln's own `cross_entropy`, `Adam` and loader.

use crate::training::{TrainConfig, TrainReport};
use kiln::nn::Sequential;
use std::error::Error;
use std::path::Path;

/// A small CNN from `[n, 3, 32, 32]` images to `[n, 10]` logits, on the CPU:
/// `Conv2d(3 → 8, 3 x 3, stride 2)` → `BatchNorm2d(8)` → `ReLU` → `Conv2d(8 → 16, 3 x 3,
/// stride 2)` → `BatchNorm2d(16)` → `ReLU` → `Flatten` → `Linear(16·7·7 → 10)`, no padding,
/// kiln's default initialization and batch-norm settings. The convolutions and the linear
/// layer, the three layers initialized at random, take the seeds `seed`, `seed + 1` and
/// `seed + 2` in order. `Sequential` names the parameters by position: `0.weight` and `0.bias`
/// (the first convolution), `1.weight` and `1.bias` (its batch norm's γ and β), then `3.*`,
/// `4.*` and `7.*`.
///
/// Hint: `Sequential::new().with(...)`, with the layers of `kiln::nn` (chapter 8). Check the
/// spatial sizes: `(32 − 3) / 2 + 1 = 15`, then `(15 − 3) / 2 + 1 = 7`.
pub fn small_cnn(seed: u64) -> kiln::tensor::Result<Sequential> {
    todo!()
}

/// Trains [`small_cnn`]`(config.seed)` on the training files of the CIFAR-10 folder `folder`
/// (`data_batch_1.bin` to `data_batch_5.bin`, read with your
/// [`read_cifar10_file`](crate::ch09::read_cifar10_file)) and reports each step's loss and the
/// final accuracy on the training images.
///
/// Step `s` takes the `config.batch_size` images that follow step `s - 1`'s, in file order,
/// wrapping around at the end; turns them into a batch with your
/// [`to_batch`](crate::ch09::to_batch); computes the logits in train mode and the loss and its
/// gradient with your [`softmax_cross_entropy`](crate::ch08::softmax_cross_entropy);
/// back-propagates that gradient through kiln (a scalar whose gradient with respect to the
/// logits is the given one: `Σ logits ⊙ G`); and updates every parameter with your
/// [`adam_step`](crate::ch08::adam_step) (on the parameter's values read back to the host, then
/// written back in place), then clears its gradient.
///
/// Hint: keep one pair of moment vectors per parameter (`model.parameters()`), zeros at first.
/// `param.to_vec()` reads a parameter's values and
/// `param.assign(&Tensor::from_vec(new, param.dims())?)` writes them back in place. Evaluate
/// with `model.eval()`, `no_grad` and `kiln::nn::accuracy`.
pub fn train_end_to_end(folder: &Path, config: TrainConfig) -> Result<TrainReport, Box<dyn Error>> {
    todo!()
}
