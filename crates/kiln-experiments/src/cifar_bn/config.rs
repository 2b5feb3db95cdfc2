//! What one invocation of the experiment does: the protocol, the comparison, and where the
//! files go.

use kiln::tensor::Device;
use std::path::PathBuf;

/// Where batch normalization goes in the network.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum BnPlacement {
    /// At the input of every conv and dense layer (the article's placement; the first one
    /// normalizes the raw image).
    Input,
    /// Between each conv/dense layer and its ReLU.
    PreActivation,
}

/// Which comparison to run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Study {
    /// Without vs with batch norm (the main result).
    Bn,
    /// Batch norm with vs without its scale and shift (gamma, beta).
    Affine,
    /// Dropout 0.4/0.5 after the hidden dense layers, without vs with batch norm.
    Dropout,
    /// Batch norm at layer inputs vs before the activations.
    Placement,
}

/// Batch size, steps and evaluation cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Protocol {
    pub name: &'static str,
    pub batch_size: usize,
    /// Steps of a run without batch norm.
    pub steps_no_bn: usize,
    /// Steps of a run with batch norm.
    pub steps_bn: usize,
    /// Evaluate on the test set every this many steps (and after the last).
    pub eval_every: usize,
}

// ANCHOR: protocols
impl Protocol {
    /// The article's protocol: batch 5000, 400 steps without and 100 with batch norm, the
    /// test set evaluated every 20 steps.
    pub const ARTICLE: Protocol = Protocol {
        name: "article",
        batch_size: 5000,
        steps_no_bn: 400,
        steps_bn: 100,
        eval_every: 20,
    };

    /// The article's protocol scaled down to a 2-core CPU (about 10 minutes for both runs):
    /// the article's steps and evaluation cadence at a fifth of its batch. With
    /// [`Preset::CPU`]'s narrower dense layers and smaller training set, each step still sees a
    /// tenth of the training images, as in the article.
    pub const CPU: Protocol = Protocol {
        name: "cpu",
        batch_size: 1000,
        steps_no_bn: 400,
        steps_bn: 100,
        eval_every: 20,
    };

    /// A few minutes on a 2-core CPU: the article's steps and evaluation cadence (every 20
    /// steps, on 2000 test images) at batch 200.
    pub const QUICK: Protocol = Protocol {
        name: "quick",
        batch_size: 200,
        steps_no_bn: 400,
        steps_bn: 100,
        eval_every: 20,
    };
}

/// What `--protocol` selects: a [`Protocol`] with the network and data sizes it runs at
/// unless flags override them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub protocol: Protocol,
    /// Widths of the two hidden dense layers.
    pub hidden: (usize, usize),
    /// Train on the first this many training images (all when `None`).
    pub train_images: Option<usize>,
    /// Evaluate on the first this many test images (all when `None`).
    pub eval_images: Option<usize>,
    /// Why the preset departs from the article (`None` for the article's own).
    pub purpose: Option<&'static str>,
}

impl Preset {
    /// The article: batch 5000, dense layers of 3500 and 700 units, all the data.
    pub const ARTICLE: Preset = Preset {
        protocol: Protocol::ARTICLE,
        hidden: (3500, 700),
        train_images: None,
        eval_images: None,
        purpose: None,
    };

    /// The CPU default: batch 1000 on the first 10,000 training images with dense layers of
    /// 500 and 100 units, the test loss on the first 1000 test images.
    pub const CPU: Preset = Preset {
        protocol: Protocol::CPU,
        hidden: (500, 100),
        train_images: Some(10_000),
        eval_images: Some(1000),
        purpose: Some("to finish in about 10 minutes on a 2-core CPU"),
    };

    /// Batch 200 with the article's network, the test loss on the first 2000 test images.
    pub const QUICK: Preset = Preset {
        protocol: Protocol::QUICK,
        hidden: (3500, 700),
        train_images: None,
        eval_images: Some(2000),
        purpose: Some("to finish in a few minutes on a 2-core CPU"),
    };
}
// ANCHOR_END: protocols

/// One training run of a comparison.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunSpec {
    /// Short name used in the files (`no-bn`, `bn`, ...).
    pub name: String,
    pub batch_norm: bool,
    pub placement: BnPlacement,
    /// Scale and shift in the batch-norm layers.
    pub affine: bool,
    /// Dropout probabilities after the two hidden dense layers.
    pub dropout: Option<(f32, f32)>,
    pub steps: usize,
}

/// Everything one invocation needs besides the data.
#[derive(Debug, Clone)]
pub struct ExperimentConfig {
    pub device: Device,
    pub protocol: Protocol,
    pub study: Study,
    /// Placement, affine and dropout of the main comparison (`--study bn`).
    pub placement: BnPlacement,
    pub affine: bool,
    pub dropout: bool,
    /// Widths of the two hidden dense layers (3500 and 700 in the article).
    pub hidden: (usize, usize),
    /// Test images used per evaluation (all when `None`).
    pub eval_limit: Option<usize>,
    pub seed: u64,
    /// Adam's learning rate (1e-3 in the article).
    pub lr: f32,
    pub out: PathBuf,
    /// Save a checkpoint every this many steps (0: never).
    pub checkpoint_every: usize,
    /// Continue the runs from the checkpoints in this folder.
    pub resume: Option<PathBuf>,
    /// Show progress bars (off in tests).
    pub progress: bool,
}

/// The dropout probabilities of the follow-up study.
const DROPOUT: (f32, f32) = (0.4, 0.5);

impl ExperimentConfig {
    // ANCHOR: runs
    /// The runs of the chosen study, in order; the first is the reference of each ratio.
    pub fn runs(&self) -> Vec<RunSpec> {
        let p = self.protocol;
        let run = |name: &str, batch_norm: bool| RunSpec {
            name: name.to_string(),
            batch_norm,
            placement: self.placement,
            affine: self.affine,
            dropout: self.dropout.then_some(DROPOUT),
            steps: if batch_norm {
                p.steps_bn
            } else {
                p.steps_no_bn
            },
        };
        match self.study {
            Study::Bn => vec![run("no-bn", false), run("bn", true)],
            Study::Affine => vec![
                RunSpec {
                    affine: true,
                    ..run("bn-affine", true)
                },
                RunSpec {
                    affine: false,
                    ..run("bn-no-affine", true)
                },
            ],
            Study::Dropout => vec![
                RunSpec {
                    dropout: Some(DROPOUT),
                    ..run("dropout-no-bn", false)
                },
                RunSpec {
                    dropout: Some(DROPOUT),
                    placement: BnPlacement::PreActivation,
                    ..run("dropout-bn", true)
                },
            ],
            Study::Placement => vec![
                RunSpec {
                    placement: BnPlacement::Input,
                    ..run("bn-input", true)
                },
                RunSpec {
                    placement: BnPlacement::PreActivation,
                    ..run("bn-pre-activation", true)
                },
            ],
        }
    }
    // ANCHOR_END: runs
}
