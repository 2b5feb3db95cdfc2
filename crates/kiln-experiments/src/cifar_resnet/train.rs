//! One ResNet-9 run: the record's recipe on shuffled, augmented batches, the test accuracy
//! after every epoch, optional checkpoints (with the schedule's position), and early stops for
//! divergence or Ctrl-C (the loop is [`crate::runs::train`]).

use super::config::{recipe, ResNetConfig, RunSpec};
use crate::resnet9;
use crate::runs::{self, Cadence, Checkpoint, RunRecord, Trainer};
use kiln::data::{Batch, DataLoader, Dataset, LoaderConfig, Transform, Transforms};
use kiln::nn::{
    checkpoint, cross_entropy_smoothed, Module, Optimizer, Schedule, Scheduler, Sequential, Sgd,
    SgdConfig, StateDict,
};
use kiln::tensor::{Result, Tensor};
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// A finished (or stopped) run.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub spec: RunSpec,
    /// Training steps per epoch.
    pub steps_per_epoch: usize,
    pub batch_size: usize,
    pub record: RunRecord,
}

impl RunResult {
    /// Epochs completed after `step` steps.
    pub fn epochs_at(&self, step: usize) -> f64 {
        step as f64 / self.steps_per_epoch as f64
    }
}

// ANCHOR: step
/// The record's optimizer for `params` at peak rate `lr` (the scheduler sets the rate of each
/// step).
pub fn sgd(params: Vec<Tensor>, lr: f32) -> Result<Sgd> {
    let config = SgdConfig {
        lr,
        momentum: recipe::MOMENTUM,
        nesterov: true,
        weight_decay: recipe::WEIGHT_DECAY,
    };
    Sgd::new(params, config)
}

/// One training step: label-smoothed cross-entropy of the network's scaled logits, backward,
/// SGD update. Returns the batch loss.
pub fn train_step(
    net: &Sequential,
    optimizer: &mut dyn Optimizer,
    images: &Tensor,
    labels: &[u32],
) -> Result<f32> {
    optimizer.zero_grad();
    let loss = cross_entropy_smoothed(&net.forward(images)?, labels, recipe::LABEL_SMOOTHING)?;
    loss.backward()?;
    optimizer.step()?;
    loss.item()
}
// ANCHOR_END: step

/// The training loader (shuffled each epoch, full batches, cropped, flipped, standardized
/// with the training set's channel statistics, cut out) and the test loader (standardized
/// alike, in batches of at most 1000), with the batch size: the config's, at most the training
/// set.
pub fn loaders(
    config: &ResNetConfig,
    train: &Dataset,
    test: &Dataset,
) -> anyhow::Result<(usize, DataLoader, DataLoader)> {
    let batch_size = config.batch_size.min(train.len());
    let (mean, std) = train.channel_stats();
    let train_loader = LoaderConfig {
        shuffle: true,
        seed: config.seed,
        drop_last: true,
        device: config.device,
        transforms: Transforms::new()
            .then(Transform::RandomCrop {
                padding: recipe::CROP_PADDING,
            })
            .then(Transform::RandomHorizontalFlip)
            .then(Transform::ScaleTo01)
            .then(Transform::Standardize { mean, std })
            .then(Transform::Cutout {
                size: recipe::CUTOUT,
            }),
        ..LoaderConfig::new(batch_size)
    };
    let test_loader = LoaderConfig {
        device: config.device,
        transforms: Transforms::new()
            .then(Transform::ScaleTo01)
            .then(Transform::Standardize { mean, std }),
        ..LoaderConfig::new(batch_size.min(1000))
    };
    let test = config
        .eval_limit
        .map_or_else(|| test.clone(), |n| test.first(n));
    Ok((
        batch_size,
        DataLoader::new(train, train_loader)?,
        DataLoader::new(&test, test_loader)?,
    ))
}

/// ResNet-9 with its optimizer and schedule, evaluated on the test loader.
struct ResNetTrainer {
    model: Sequential,
    sgd: Sgd,
    scheduler: Scheduler,
    test: DataLoader,
}

/// Checkpoint prefix of the schedule's state.
const SCHEDULE_PREFIX: &str = "schedule.";

impl Trainer for ResNetTrainer {
    // ANCHOR: scheduled_step
    fn step(&mut self, batch: &Batch) -> anyhow::Result<f32> {
        self.scheduler.apply(&mut self.sgd);
        let loss = train_step(&self.model, &mut self.sgd, &batch.images, &batch.labels)?;
        self.scheduler.advance();
        Ok(loss)
    }
    // ANCHOR_END: scheduled_step

    fn evaluate(&mut self) -> anyhow::Result<(f32, f32)> {
        pollster::block_on(runs::evaluate(&mut self.model, &self.test))
    }

    fn state(&self) -> StateDict {
        let mut dict = checkpoint::state_dict(&self.model, Some(&self.sgd));
        self.scheduler.save_state(SCHEDULE_PREFIX, &mut dict);
        dict
    }
}

/// The name checkpoints are keyed by.
const PROGRAM: &str = "cifar_resnet";

/// Everything that shapes a run's numbers step by step, `data` included
/// ([`runs::data_fingerprint`]).
fn config_fingerprint(config: &ResNetConfig, spec: &RunSpec, data: &str) -> String {
    format!(
        "{spec:?} width {} batch {} on {:?} test images, seed {}, {data}",
        config.width, config.batch_size, config.eval_limit, config.seed
    )
}

/// The checkpoint of `spec`'s run on `data` in output folder `dir`.
fn checkpoint_in(dir: &Path, config: &ResNetConfig, spec: &RunSpec, data: &str) -> Checkpoint {
    let fingerprint = config_fingerprint(config, spec, data);
    Checkpoint::new(dir, &spec.name, PROGRAM, fingerprint)
}

/// Trains one run.
pub fn run(
    config: &ResNetConfig,
    spec: &RunSpec,
    train: &Dataset,
    test: &Dataset,
    stop: &AtomicBool,
) -> anyhow::Result<RunResult> {
    let data = runs::data_fingerprint(train, test);
    let (batch_size, train_data, test) = loaders(config, train, test)?;
    let steps_per_epoch = train_data.num_batches();
    let steps = spec.epochs * steps_per_epoch;
    let mut model = resnet9::build(config.width, spec.batch_norm, config.seed)?;
    model.to_device(config.device)?;
    let mut sgd = sgd(model.parameters(), spec.lr)?;
    let schedule = Schedule::one_cycle(steps.max(1) as u64, recipe::PEAK_FRACTION)?;
    let mut scheduler = Scheduler::new(schedule, spec.lr)?;
    let resume_from = config
        .resume
        .as_deref()
        .map(|dir| checkpoint_in(dir, config, spec, &data));
    let mut record = runs::start(&spec.name, resume_from.as_ref(), steps, |dict| {
        checkpoint::load_state_dict(dict, &model, Some(&mut sgd))?;
        Ok(scheduler.load_state(SCHEDULE_PREFIX, dict)?)
    })?;
    let cadence = Cadence {
        steps,
        eval_every: steps_per_epoch,
        checkpoint_every: config.checkpoint_every,
    };
    let mut trainer = ResNetTrainer {
        model,
        sgd,
        scheduler,
        test,
    };
    runs::train(
        &spec.name,
        &mut trainer,
        &mut record,
        &train_data,
        cadence,
        &checkpoint_in(&config.out, config, spec, &data),
        stop,
        &runs::progress_bar(config.progress, &spec.name, steps),
    )?;
    Ok(RunResult {
        spec: spec.clone(),
        steps_per_epoch,
        batch_size,
        record,
    })
}
