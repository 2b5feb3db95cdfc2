//! Chapter 11, solutions: a small CNN, trained end to end on the pieces of the earlier
//! chapters: your reader (chapter 9), your loss gradient and your Adam (chapter 8).

use crate::records::IMAGE_BYTES;
use crate::training::{TrainConfig, TrainReport};
use crate::{ch08, ch09};
use kiln::nn::{
    accuracy, BatchNorm2d, BatchNormConfig, Conv2d, Flatten, LayerInit, Linear, Module, ReLU,
    Sequential,
};
use kiln::tensor::AdamStep;
use kiln::tensor::{no_grad, Tensor};
use std::error::Error;
use std::path::Path;

/// Classes of CIFAR-10, the width of the logits.
const CLASSES: usize = 10;

/// A small CNN from `[n, 3, 32, 32]` images to `[n, 10]` logits, on the CPU:
/// `Conv2d(3 → 8, 3 x 3, stride 2)` → `BatchNorm2d(8)` → `ReLU` → `Conv2d(8 → 16, 3 x 3,
/// stride 2)` → `BatchNorm2d(16)` → `ReLU` → `Flatten` → `Linear(16·7·7 → 10)`, no padding,
/// kiln's default initialization and batch-norm settings. The convolutions and the linear
/// layer, the three layers initialized at random, take the seeds `seed`, `seed + 1` and
/// `seed + 2` in order. `Sequential` names the parameters by position: `0.weight` and `0.bias`
/// (the first convolution), `1.weight` and `1.bias` (its batch norm's γ and β), then `3.*`,
/// `4.*` and `7.*`.
pub fn small_cnn(seed: u64) -> kiln::tensor::Result<Sequential> {
    let init = LayerInit::default();
    let bn = BatchNormConfig::default();
    Ok(Sequential::new()
        .with(Conv2d::new(3, 8, (3, 3), init, seed)?.stride(2)) // [n, 8, 15, 15]
        .with(BatchNorm2d::new(8, bn)?)
        .with(ReLU)
        .with(Conv2d::new(8, 16, (3, 3), init, seed + 1)?.stride(2)) // [n, 16, 7, 7]
        .with(BatchNorm2d::new(16, bn)?)
        .with(ReLU)
        .with(Flatten)
        .with(Linear::new(16 * 7 * 7, CLASSES, init, seed + 2)?))
}

/// Trains [`small_cnn`]`(config.seed)` on the training files of the CIFAR-10 folder `folder`
/// (`data_batch_1.bin` to `data_batch_5.bin`, read with your [`ch09::read_cifar10_file`]) and
/// reports each step's loss and the final accuracy on the training images.
///
/// Step `s` takes the `config.batch_size` images that follow step `s - 1`'s, in file order,
/// wrapping around at the end; turns them into a batch with [`ch09::to_batch`]; computes the
/// logits in train mode and the loss and its gradient with your
/// [`ch08::softmax_cross_entropy`]; back-propagates that gradient through kiln (a scalar whose
/// gradient with respect to the logits is the given one: `Σ logits ⊙ G`); and updates every
/// parameter with your [`ch08::adam_step`] (on the parameter's values read back to the host, then
/// written back in place), then clears its gradient.
pub fn train_end_to_end(folder: &Path, config: TrainConfig) -> Result<TrainReport, Box<dyn Error>> {
    let (mut images, mut labels) = (Vec::new(), Vec::new());
    for i in 1..=5 {
        let path = folder.join(format!("data_batch_{i}.bin"));
        let records = ch09::read_cifar10_file(&path, config.records_per_file)?;
        images.extend(records.images);
        labels.extend(records.labels);
    }
    let total = labels.len();
    let mut model = small_cnn(config.seed)?;
    let params = model.parameters();
    let mut moments: Vec<(Vec<f32>, Vec<f32>)> = params
        .iter()
        .map(|p| (vec![0.0; p.numel()], vec![0.0; p.numel()]))
        .collect();
    let mut losses = Vec::with_capacity(config.steps);
    for step in 0..config.steps {
        let batch: Vec<usize> = (0..config.batch_size)
            .map(|i| (step * config.batch_size + i) % total)
            .collect();
        let pixels: Vec<u8> = batch
            .iter()
            .flat_map(|&i| &images[i * IMAGE_BYTES..][..IMAGE_BYTES])
            .copied()
            .collect();
        let batch_labels: Vec<u32> = batch.iter().map(|&i| labels[i]).collect();

        let logits = model.forward(&ch09::to_batch(&pixels)?)?;
        let (loss, grad) = ch08::softmax_cross_entropy(&logits.to_vec()?, &batch_labels, CLASSES);
        losses.push(loss);
        let grad = Tensor::from_vec(grad, logits.dims())?;
        logits.mul(&grad)?.sum_all()?.backward()?;

        let hp = AdamStep {
            lr: config.lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            step: step as u32 + 1,
        };
        for (p, (m, v)) in params.iter().zip(&mut moments) {
            let g = p.grad().ok_or("a parameter got no gradient")?.to_vec()?;
            let mut values = p.to_vec()?;
            ch08::adam_step(&mut values, &g, m, v, hp);
            p.assign(&Tensor::from_vec(values, p.dims())?)?;
            p.zero_grad();
        }
    }
    model.eval();
    let logits = no_grad(|| model.forward(&ch09::to_batch(&images)?))?;
    Ok(TrainReport {
        losses,
        train_accuracy: accuracy(&logits, &labels)?,
    })
}
