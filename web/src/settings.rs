//! The page's settings: a laptop-sized version of the `cifar_bn` comparison, on synthetic
//! CIFAR-10-format data generated with kiln-data's generator from a seed, as natively, or on the
//! CIFAR-10 files given to the page ([`crate::data`]).

use kiln::data::SyntheticConfig;
use kiln::tensor::Device;
use kiln_experiments::cifar_bn::{BnPlacement, ExperimentConfig, Protocol, Study};

/// What the page lets a reader choose (JSON with these field names).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    /// Images per training step.
    pub batch_size: usize,
    /// Widths of the two hidden dense layers (3500 and 700 in the article).
    pub hidden: (usize, usize),
    /// Training and test images: generated, or the first ones of the CIFAR-10 files given.
    pub train_images: usize,
    pub test_images: usize,
    /// Steps of the run without and of the run with batch norm.
    pub steps_no_bn: usize,
    pub steps_bn: usize,
    /// Evaluate on the test set every this many steps (and after the last).
    pub eval_every: usize,
    /// Seed of the synthetic data and of the weights.
    pub seed: u64,
    /// Adam's learning rate.
    pub lr: f32,
}

impl Settings {
    /// Fails, naming the setting, unless every count is at least 1 and the learning rate is
    /// a positive number.
    pub fn check(&self) -> anyhow::Result<()> {
        let positive = [
            ("batch_size", self.batch_size),
            ("hidden.0", self.hidden.0),
            ("hidden.1", self.hidden.1),
            ("train_images", self.train_images),
            ("test_images", self.test_images),
            ("steps_no_bn", self.steps_no_bn),
            ("steps_bn", self.steps_bn),
            ("eval_every", self.eval_every),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            anyhow::bail!("setting {name} must be at least 1");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            anyhow::bail!("setting lr must be a positive number, not {}", self.lr);
        }
        Ok(())
    }

    /// The configuration of `cifar_bn --study bn` with these settings, on `device`.
    pub fn experiment(&self, device: Device) -> anyhow::Result<ExperimentConfig> {
        self.check()?;
        Ok(ExperimentConfig {
            device,
            protocol: Protocol {
                name: "web",
                batch_size: self.batch_size,
                steps_no_bn: self.steps_no_bn,
                steps_bn: self.steps_bn,
                eval_every: self.eval_every,
            },
            study: Study::Bn,
            placement: BnPlacement::Input,
            affine: true,
            dropout: false,
            hidden: self.hidden,
            eval_limit: None,
            seed: self.seed,
            lr: self.lr,
            out: Default::default(),
            checkpoint_every: 0,
            resume: None,
            progress: false,
        })
    }

    /// The synthetic data of these settings.
    pub fn synthetic(&self) -> SyntheticConfig {
        SyntheticConfig {
            seed: self.seed,
            train: self.train_images,
            test: self.test_images,
        }
    }
}
