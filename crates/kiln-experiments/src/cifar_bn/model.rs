//! The article's network: three valid 3x3 convolutions (30, 50, 60 filters; strides 2, 1, 1)
//! with ReLU, then dense layers of `hidden.0` and `hidden.1` units with ReLU and 10 logits.
//! Input `[n, 3, 32, 32]` -> `[n, 30, 15, 15]` -> `[n, 50, 13, 13]` -> `[n, 60, 11, 11]` ->
//! 7260 features.

use super::config::{BnPlacement, RunSpec};
use kiln::nn::{cross_entropy, Module, Optimizer};
use kiln::nn::{
    BatchNorm1d, BatchNorm2d, BatchNormConfig, Conv2d, Dropout, Flatten, LayerInit, Linear,
    Momentum, ReLU, Sequential,
};
use kiln::tensor::random::derive_seed;
use kiln::tensor::{Result, Tensor};

/// Batch norm as in the article: epsilon 1e-3, TensorFlow momentum 0.75.
fn bn_config(affine: bool) -> BatchNormConfig {
    BatchNormConfig {
        eps: 1e-3,
        momentum: Momentum::TensorFlow(0.75),
        affine,
    }
}

// ANCHOR: build
/// Builds the network of `spec`. Weights are Glorot-uniform and biases zero; layer `i` draws
/// its weights from a seed mixed from `seed` and `i` (distinct seeds never share a layer's
/// stream), so runs of one comparison start from equal weights.
pub fn build(spec: &RunSpec, hidden: (usize, usize), seed: u64) -> Result<Sequential> {
    let init = LayerInit::tensorflow();
    let bn = bn_config(spec.affine);
    let run_seed = derive_seed(seed, 0);
    let layer_seed = |i: u64| derive_seed(run_seed, i);
    let convs = [(3, 30, 2), (30, 50, 1), (50, 60, 1)];
    let dense = [
        (60 * 11 * 11, hidden.0),
        (hidden.0, hidden.1),
        (hidden.1, 10),
    ];
    let input_bn = spec.batch_norm && spec.placement == BnPlacement::Input;
    let pre_activation_bn = spec.batch_norm && spec.placement == BnPlacement::PreActivation;

    let mut net = Sequential::new();
    for (i, &(c_in, c_out, stride)) in convs.iter().enumerate() {
        if input_bn {
            net.push(BatchNorm2d::new(c_in, bn)?);
        }
        net.push(Conv2d::new(c_in, c_out, (3, 3), init, layer_seed(i as u64))?.stride(stride));
        if pre_activation_bn {
            net.push(BatchNorm2d::new(c_out, bn)?);
        }
        net.push(ReLU);
    }
    net.push(Flatten);
    for (i, &(d_in, d_out)) in dense.iter().enumerate() {
        let last = i == dense.len() - 1;
        if input_bn {
            net.push(BatchNorm1d::new(d_in, bn)?);
        }
        net.push(Linear::new(d_in, d_out, init, layer_seed(10 + i as u64))?);
        if last {
            break;
        }
        if pre_activation_bn {
            net.push(BatchNorm1d::new(d_out, bn)?);
        }
        net.push(ReLU);
        if let Some(p) = spec.dropout {
            let rate = if i == 0 { p.0 } else { p.1 };
            net.push(Dropout::new(rate, layer_seed(20 + i as u64))?);
        }
    }
    Ok(net)
}
// ANCHOR_END: build

// ANCHOR: step
/// One training step: forward, softmax cross-entropy, backward, optimizer update. Returns the
/// batch loss (its read-back is the step's only wait for the device).
pub fn train_step(
    net: &Sequential,
    optimizer: &mut dyn Optimizer,
    images: &Tensor,
    labels: &[u32],
) -> Result<f32> {
    record_step(net, optimizer, images, labels)?.item()
}

/// [`train_step`] without the wait: the batch loss as a one-element tensor on the device.
pub fn record_step(
    net: &Sequential,
    optimizer: &mut dyn Optimizer,
    images: &Tensor,
    labels: &[u32],
) -> Result<Tensor> {
    optimizer.zero_grad();
    let loss = cross_entropy(&net.forward(images)?, labels)?;
    loss.backward()?;
    optimizer.step()?;
    Ok(loss)
}
// ANCHOR_END: step
