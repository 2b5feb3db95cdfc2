//! End-to-end training: an MLP learns a 2-D spiral (on the CPU, and on the GPU when an adapter
//! opens), and a small CNN with batch norm learns which quadrant of an image holds a bright
//! square.

mod common;

use kiln_nn::{
    accuracy, checkpoint, cross_entropy, Adam, AdamConfig, BatchNorm1d, BatchNorm2d,
    BatchNormConfig, Conv2d, Flatten, LayerInit, Linear, Module, Optimizer, ReLU, Sequential,
};
use kiln_tensor::{no_grad, Device, Tensor};

/// Trains an MLP with batch norm on a 3-arm spiral with full-batch Adam on `device`; returns
/// the model (in eval mode), the points on `device`, and the final train accuracy.
fn train_spiral(device: Device, steps: usize) -> (Sequential, Tensor, f32) {
    let (points, labels) = common::spiral(3, 100, 1);
    let points = points.to_device(device).unwrap();
    let mut model = common::mlp(64, 3, true, 10);
    model.to_device(device).unwrap();
    let mut adam = Adam::new(model.parameters(), AdamConfig::default().lr(0.02)).unwrap();
    for _ in 0..steps {
        adam.zero_grad();
        let loss = cross_entropy(&model.forward(&points).unwrap(), &labels).unwrap();
        loss.backward().unwrap();
        adam.step().unwrap();
    }
    model.eval();
    let logits = no_grad(|| model.forward(&points)).unwrap();
    let acc = accuracy(&logits, &labels).unwrap();
    (model, points, acc)
}

#[test]
fn mlp_learns_a_spiral_on_the_cpu() {
    let (_, _, acc) = train_spiral(Device::Cpu, 300);
    assert!(acc > 0.95, "train accuracy {acc}");
}

#[test]
fn mlp_learns_a_spiral_on_the_gpu_and_survives_a_checkpoint() {
    // Skips (saying so on stderr) without an adapter, fails with KILN_REQUIRE_GPU=1.
    let Some(device) = kiln_tensor::test_util::gpu_or_skip() else {
        return;
    };
    let (model, points, acc) = train_spiral(device, 300);
    assert!(acc > 0.95, "train accuracy {acc}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gpu.safetensors");
    checkpoint::save(&path, &model, None).unwrap();
    let mut restored = common::mlp(64, 3, true, 99);
    restored.to_device(device).unwrap();
    checkpoint::load(&path, &restored, None).unwrap();
    restored.eval();
    let expected = no_grad(|| model.forward(&points))
        .unwrap()
        .to_vec()
        .unwrap();
    let actual = no_grad(|| restored.forward(&points))
        .unwrap()
        .to_vec()
        .unwrap();
    assert_eq!(actual, expected);
}

/// `n` single-channel `size`×`size` images of seeded noise with a bright 4×4 square in one
/// quadrant; the label is the quadrant (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right).
fn quadrant_images(n: usize, size: usize, seed: u64) -> (Tensor, Vec<u32>) {
    let mut pixels = Tensor::rand_uniform(&[n, 1, size, size], 0.0, 0.5, seed)
        .to_vec()
        .unwrap();
    let offsets = Tensor::rand_uniform(&[n, 2], 0.0, (size / 2 - 4) as f32, seed + 1)
        .to_vec()
        .unwrap();
    let half = size / 2;
    let labels: Vec<u32> = (0..n).map(|i| (i % 4) as u32).collect();
    for (i, &label) in labels.iter().enumerate() {
        let top = (label as usize / 2) * half + offsets[2 * i] as usize;
        let left = (label as usize % 2) * half + offsets[2 * i + 1] as usize;
        for y in top..top + 4 {
            for x in left..left + 4 {
                pixels[(i * size + y) * size + x] = 1.0;
            }
        }
    }
    (
        Tensor::from_vec(pixels, &[n, 1, size, size]).unwrap(),
        labels,
    )
}

#[test]
fn cnn_with_batch_norm_loss_falls_on_quadrant_images() {
    let (size, n, batch) = (16, 256, 32);
    let (images, labels) = quadrant_images(n, size, 3);
    let bn = BatchNormConfig::default();
    let init = LayerInit::tensorflow();
    let model = Sequential::new()
        .with(BatchNorm2d::new(1, bn).unwrap())
        .with(Conv2d::new(1, 8, (3, 3), init, 1).unwrap().stride(2))
        .with(ReLU)
        .with(BatchNorm2d::new(8, bn).unwrap())
        .with(Conv2d::new(8, 16, (3, 3), init, 2).unwrap())
        .with(ReLU)
        .with(Flatten)
        .with(BatchNorm1d::new(16 * 5 * 5, bn).unwrap())
        .with(Linear::new(16 * 5 * 5, 4, init, 3).unwrap());
    let mut adam = Adam::new(model.parameters(), AdamConfig::default()).unwrap();
    let image_len = size * size;
    let all = images.to_vec().unwrap();
    let mut epoch_losses = Vec::new();
    for _ in 0..4 {
        let mut total = 0.0;
        for start in (0..n).step_by(batch) {
            let x = &all[start * image_len..(start + batch) * image_len];
            let x = Tensor::from_slice(x, &[batch, 1, size, size]).unwrap();
            adam.zero_grad();
            let loss =
                cross_entropy(&model.forward(&x).unwrap(), &labels[start..start + batch]).unwrap();
            loss.backward().unwrap();
            adam.step().unwrap();
            total += loss.item().unwrap();
        }
        epoch_losses.push(total / (n / batch) as f32);
    }
    let (first, last) = (epoch_losses[0], epoch_losses[3]);
    assert!(
        last < 0.4 * first,
        "loss per epoch {epoch_losses:?} did not fall clearly"
    );
}
