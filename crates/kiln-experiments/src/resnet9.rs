//! ResNet-9, the network of the fast CIFAR-10 training records: every convolution 3x3 with
//! padding 1, followed by batch norm (when enabled) and ReLU.
//!
//! ```text
//! prep     conv 3 -> w                                  [n, w, 32, 32]
//! layer 1  conv w -> 2w, max-pool 2, + residual(conv 2w, conv 2w)   [n, 2w, 16, 16]
//! layer 2  conv 2w -> 4w, max-pool 2                    [n, 4w, 8, 8]
//! layer 3  conv 4w -> 8w, max-pool 2, + residual(conv 8w, conv 8w)  [n, 8w, 4, 4]
//! head     global max-pool, linear 8w -> 10 (no bias), times 0.125 (`Scale`)
//! ```
//!
//! The record's width is `w = 64` (6.57 M parameters). Without batch norm the convolutions
//! keep their biases; with it they have none (batch norm's shift takes their place).

use kiln::nn::{
    BatchNorm2d, BatchNormConfig, Conv2d, GlobalMaxPool, Init, LayerInit, Linear, MaxPool2d,
    Momentum, ReLU, Residual, Scale, Sequential,
};
use kiln::tensor::random::derive_seed;
use kiln::tensor::{Padding, Pool2dOptions, Result};

/// The factor the logits are scaled by, as in the record's network.
pub const LOGIT_SCALE: f32 = 0.125;

/// The record's channel width.
pub const RECORD_WIDTH: usize = 64;

/// Batch norm as PyTorch's defaults, which the record keeps: epsilon 1e-5, momentum 0.1.
fn bn_config() -> BatchNormConfig {
    BatchNormConfig {
        eps: 1e-5,
        momentum: Momentum::Torch(0.1),
        affine: true,
    }
}

// ANCHOR: build
/// ResNet-9 of channel width `width`, with or without batch norm, its layers' weights drawn
/// from streams of `seed` (PyTorch's default initialization). The output is the scaled logits
/// `[n, 10]` for an input `[n, 3, 32, 32]`; the scale is the last layer, so the network holds
/// no more parameters than PyTorch's.
pub fn build(width: usize, batch_norm: bool, seed: u64) -> Result<Sequential> {
    let mut layer = 0u64;
    let mut conv_bn_relu = |c_in: usize, c_out: usize| -> Result<Sequential> {
        layer += 1;
        let init = if batch_norm {
            LayerInit::torch().without_bias()
        } else {
            LayerInit::torch()
        };
        let conv = Conv2d::new(c_in, c_out, (3, 3), init, derive_seed(seed, layer))?
            .padding(Padding::Same);
        let mut block = Sequential::new().with(conv);
        if batch_norm {
            block.push(BatchNorm2d::new(c_out, bn_config())?);
        }
        Ok(block.with(ReLU))
    };
    let pool = || MaxPool2d(Pool2dOptions::window(2));
    let (w1, w2, w3, w4) = (width, 2 * width, 4 * width, 8 * width);
    let prep = conv_bn_relu(3, w1)?;
    let layer1 = conv_bn_relu(w1, w2)?.with(pool());
    let res1 = Residual::new(conv_bn_relu(w2, w2)?.with(conv_bn_relu(w2, w2)?));
    let layer2 = conv_bn_relu(w2, w3)?.with(pool());
    let layer3 = conv_bn_relu(w3, w4)?.with(pool());
    let res3 = Residual::new(conv_bn_relu(w4, w4)?.with(conv_bn_relu(w4, w4)?));
    let head = Linear::new(
        w4,
        10,
        LayerInit {
            weight: Init::torch_default(),
            bias: None,
        },
        derive_seed(seed, 100),
    )?;
    Ok(Sequential::new()
        .with(prep)
        .with(layer1)
        .with(res1)
        .with(layer2)
        .with(layer3)
        .with(res3)
        .with(GlobalMaxPool)
        .with(head)
        .with(Scale(LOGIT_SCALE)))
}
// ANCHOR_END: build

#[cfg(test)]
mod tests {
    use super::*;
    use kiln::nn::Module;
    use kiln::tensor::Tensor;

    fn parameters(net: &Sequential) -> usize {
        net.parameters().iter().map(Tensor::numel).sum()
    }

    /// The parameter counts PyTorch gives the same layout (`nn.Conv2d(.., 3, padding=1,
    /// bias=not bn)`, `nn.BatchNorm2d`, `nn.Linear(8w, 10, bias=False)`): 6,573,120 at the
    /// record's width with batch norm, 6,570,880 without.
    #[test]
    fn the_record_network_has_pytorchs_parameter_count() {
        assert_eq!(
            parameters(&build(RECORD_WIDTH, true, 0).unwrap()),
            6_573_120
        );
        assert_eq!(
            parameters(&build(RECORD_WIDTH, false, 0).unwrap()),
            6_570_880
        );
    }

    #[test]
    fn images_become_ten_logits_and_gradients_reach_every_parameter() {
        for batch_norm in [true, false] {
            let net = build(4, batch_norm, 1).unwrap();
            let images = Tensor::rand_uniform(&[2, 3, 32, 32], -1.0, 1.0, 2);
            let y = net.forward(&images).unwrap();
            assert_eq!(y.dims(), &[2, 10]);
            y.softmax_cross_entropy(&[3, 7])
                .unwrap()
                .backward()
                .unwrap();
            for (name, p) in net.named_parameters() {
                assert!(p.grad().is_some(), "{name} has no gradient");
            }
        }
    }
}
