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

    /// Sized for a 2-core CPU to finish both runs in a few minutes: the article's steps (400
    /// and 100) and evaluation cadence (every 20 steps, on 2000 test images) at batch 200.
    pub const QUICK: Protocol = Protocol {
        name: "quick",
        batch_size: 200,
        steps_no_bn: 400,
        steps_bn: 100,
        eval_every: 20,
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
