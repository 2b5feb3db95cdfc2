//! What one invocation of the ResNet experiment does: the recipe, the protocol sized for the
//! device, the runs, and where the files go.

use kiln::tensor::Device;
use std::path::PathBuf;

// ANCHOR: recipe
/// The fast CIFAR-10 record's training recipe, as kiln runs it: SGD with Nesterov momentum
/// and L2 weight decay, a linear one-cycle learning rate, label smoothing, and crop, flip and
/// cutout augmentation.
pub mod recipe {
    /// Peak learning rate of the one-cycle schedule (of the mean batch loss).
    pub const LR: f32 = 0.4;
    /// Where the one-cycle schedule peaks, as a fraction of the run (epoch 5 of 24).
    pub const PEAK_FRACTION: f32 = 5.0 / 24.0;
    /// Nesterov momentum.
    pub const MOMENTUM: f32 = 0.9;
    /// L2 weight decay, added to the gradient (PyTorch's `weight_decay`).
    pub const WEIGHT_DECAY: f32 = 5e-4;
    /// Label smoothing of the training loss.
    pub const LABEL_SMOOTHING: f32 = 0.2;
    /// Zero border of the random crop, in pixels.
    pub const CROP_PADDING: usize = 4;
    /// Side of the cutout square, in pixels.
    pub const CUTOUT: usize = 8;
    /// Learning rates the sweep tries without batch norm, as fractions of [`LR`], largest
    /// first.
    pub const SWEEP_FRACTIONS: [f32; 5] = [1.0, 0.5, 0.25, 0.125, 0.0625];
}
// ANCHOR_END: recipe

/// Which comparison to run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Study {
    /// Without batch norm (at the sweep's learning rate) against with it: the article's
    /// question asked of ResNet-9.
    Bn,
    /// The record's network and recipe alone, with batch norm.
    Record,
}

// ANCHOR: presets
/// Network width, batch, epochs and data sizes: what `--protocol` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub name: &'static str,
    /// Channel width of the first convolution (the record's is 64).
    pub width: usize,
    pub batch_size: usize,
    pub epochs: usize,
    /// Epochs of each learning-rate sweep run.
    pub sweep_epochs: usize,
    /// Train on the first this many training images (all when `None`).
    pub train_images: Option<usize>,
    /// Evaluate on the first this many test images (all when `None`).
    pub eval_images: Option<usize>,
    /// Why the preset departs from the record (`None` for the record's own).
    pub purpose: Option<&'static str>,
}

impl Preset {
    /// The record's network and recipe: width 64, batch 512, 24 epochs on all the data.
    pub const RECORD: Preset = Preset {
        name: "record",
        width: 64,
        batch_size: 512,
        epochs: 24,
        sweep_epochs: 2,
        train_images: None,
        eval_images: None,
        purpose: None,
    };

    /// Sized for a 2-core CPU (under 15 minutes for the sweep and both runs): a quarter of
    /// the width (a sixteenth of the work per image), 10 epochs of the first 10,000 training
    /// images, the test accuracy on the first 2000 test images.
    pub const CPU: Preset = Preset {
        name: "cpu",
        width: 16,
        batch_size: 512,
        epochs: 10,
        sweep_epochs: 2,
        train_images: Some(10_000),
        eval_images: Some(2000),
        purpose: Some("to finish in under 15 minutes on a 2-core CPU"),
    };
}
// ANCHOR_END: presets

/// One training run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunSpec {
    /// Short name used in the files (`no-bn`, `bn`, `sweep-0.1`).
    pub name: String,
    pub batch_norm: bool,
    /// Peak learning rate.
    pub lr: f32,
    pub epochs: usize,
}

/// Everything one invocation needs besides the data.
#[derive(Debug, Clone)]
pub struct ResNetConfig {
    pub device: Device,
    /// The protocol's name (`cpu`, `record`).
    pub protocol: &'static str,
    pub study: Study,
    pub width: usize,
    pub batch_size: usize,
    pub epochs: usize,
    pub sweep_epochs: usize,
    /// Test images used per evaluation (all when `None`).
    pub eval_limit: Option<usize>,
    /// Peak learning rate with batch norm.
    pub lr: f32,
    /// Peak learning rate without batch norm; `None` has the sweep find it.
    pub no_bn_lr: Option<f32>,
    /// Seed of the weights, the data order and the augmentation.
    pub seed: u64,
    pub out: PathBuf,
    /// Save a checkpoint every this many steps (0: never).
    pub checkpoint_every: usize,
    /// Continue the runs from the checkpoints in this folder.
    pub resume: Option<PathBuf>,
    /// Show progress bars (off in tests).
    pub progress: bool,
}

impl ResNetConfig {
    /// The run with batch norm.
    pub fn bn_run(&self) -> RunSpec {
        RunSpec {
            name: "bn".to_string(),
            batch_norm: true,
            lr: self.lr,
            epochs: self.epochs,
        }
    }

    /// The run without batch norm at peak rate `lr`.
    pub fn no_bn_run(&self, lr: f32) -> RunSpec {
        RunSpec {
            name: "no-bn".to_string(),
            batch_norm: false,
            lr,
            epochs: self.epochs,
        }
    }

    /// The sweep's runs without batch norm, largest rate first.
    pub fn sweep_runs(&self) -> Vec<RunSpec> {
        recipe::SWEEP_FRACTIONS
            .iter()
            .map(|fraction| {
                let lr = self.lr * fraction;
                RunSpec {
                    name: format!("sweep-{lr}"),
                    batch_norm: false,
                    lr,
                    epochs: self.sweep_epochs,
                }
            })
            .collect()
    }
}
