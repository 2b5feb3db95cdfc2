//! One training run: Adam on the training set in file order, periodic evaluation on the test
//! set, optional checkpoints, and early stops for divergence or Ctrl-C (the loop is
//! [`crate::runs::train`]).

use super::config::{ExperimentConfig, RunSpec};
use super::model;
use crate::runs::{self, Cadence, Checkpoint, Trainer};
use anyhow::Context;
use kiln::data::{Batch, DataLoader, Dataset, LoaderConfig, Transform, Transforms};
use kiln::nn::{checkpoint, Adam, AdamConfig, Module, Sequential, StateDict};
use kiln::tensor::Device;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

pub use crate::runs::{EvalPoint, RunRecord, INTERRUPTED};

/// A finished (or stopped) run.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub spec: RunSpec,
    pub batch_size: usize,
    pub record: RunRecord,
}

/// The batch size of a run on `train` (the protocol's, at most the whole set), and its loaders:
/// full training batches in file order, and the evaluated test images in batches of at most
/// 1000.
pub fn loaders(
    config: &ExperimentConfig,
    train: &Dataset,
    test: &Dataset,
) -> anyhow::Result<(usize, DataLoader, DataLoader)> {
    let batch_size = config.protocol.batch_size.min(train.len());
    let train_data = loader(train, batch_size, config.device, true)?;
    let test_data = loader(
        &config
            .eval_limit
            .map_or_else(|| test.clone(), |n| test.first(n)),
        batch_size.min(1000),
        config.device,
        false,
    )?;
    Ok((batch_size, train_data, test_data))
}

/// Pixels scaled to [0, 1], nothing else (the article's preprocessing).
fn loader(
    data: &Dataset,
    batch_size: usize,
    device: Device,
    drop_last: bool,
) -> anyhow::Result<DataLoader> {
    let config = LoaderConfig {
        drop_last,
        device,
        transforms: Transforms::new().then(Transform::ScaleTo01),
        ..LoaderConfig::new(batch_size)
    };
    Ok(DataLoader::new(data, config)?)
}

/// The name checkpoints are keyed by.
const PROGRAM: &str = "cifar_bn";

/// What a checkpoint stores of the configuration: everything that shapes the run's numbers
/// step by step (the number of steps only says where it ends), `data` included
/// ([`runs::data_fingerprint`]).
fn config_fingerprint(config: &ExperimentConfig, spec: &RunSpec, data: &str) -> String {
    let p = &config.protocol;
    let spec = RunSpec {
        steps: 0,
        ..spec.clone()
    };
    format!(
        "{spec:?} batch {} eval every {} on {:?} hidden {:?} seed {} lr {}, {data}",
        p.batch_size, p.eval_every, config.eval_limit, config.hidden, config.seed, config.lr
    )
}

/// The checkpoint of `spec`'s run on `data` in output folder `dir`.
fn checkpoint_in(dir: &Path, config: &ExperimentConfig, spec: &RunSpec, data: &str) -> Checkpoint {
    let fingerprint = config_fingerprint(config, spec, data);
    Checkpoint::new(dir, &spec.name, PROGRAM, fingerprint)
}

/// The article's network with Adam, evaluated on the test loader.
struct ArticleTrainer {
    model: Sequential,
    adam: Adam,
    test: DataLoader,
}

impl Trainer for ArticleTrainer {
    fn step(&mut self, batch: &Batch) -> anyhow::Result<f32> {
        Ok(model::train_step(
            &self.model,
            &mut self.adam,
            &batch.images,
            &batch.labels,
        )?)
    }

    fn evaluate(&mut self) -> anyhow::Result<(f32, f32)> {
        pollster::block_on(runs::evaluate(&mut self.model, &self.test))
    }

    fn state(&self) -> StateDict {
        checkpoint::state_dict(&self.model, Some(&self.adam))
    }
}

/// Trains one run of the comparison.
pub fn run(
    config: &ExperimentConfig,
    spec: &RunSpec,
    train: &Dataset,
    test: &Dataset,
    stop: &AtomicBool,
) -> anyhow::Result<RunResult> {
    let mut model = model::build(spec, config.hidden, config.seed)?;
    model.to_device(config.device)?;
    let mut adam = Adam::new(model.parameters(), AdamConfig::default().lr(config.lr))?;
    let data = runs::data_fingerprint(train, test);
    let resume_from = config
        .resume
        .as_deref()
        .map(|dir| checkpoint_in(dir, config, spec, &data));
    let mut record = runs::start(&spec.name, resume_from.as_ref(), spec.steps, |dict| {
        Ok(checkpoint::load_state_dict(dict, &model, Some(&mut adam))?)
    })?;
    let (batch_size, train_data, test) = loaders(config, train, test)?;
    let cadence = Cadence {
        steps: spec.steps,
        eval_every: config.protocol.eval_every,
        checkpoint_every: config.checkpoint_every,
    };
    runs::train(
        &spec.name,
        &mut ArticleTrainer { model, adam, test },
        &mut record,
        &train_data,
        cadence,
        &checkpoint_in(&config.out, config, spec, &data),
        stop,
        &runs::progress_bar(config.progress, &spec.name, spec.steps),
    )?;
    Ok(RunResult {
        spec: spec.clone(),
        batch_size,
        record,
    })
}

/// Seconds the whole comparison should take: two timed training steps of the batch-norm
/// model at the protocol's batch size, scaled to every run's steps plus the evaluations
/// (a forward pass costs about a third of a training step per image).
pub fn estimate_seconds(
    config: &ExperimentConfig,
    train: &Dataset,
    test: &Dataset,
) -> anyhow::Result<f64> {
    let runs = config.runs();
    let spec = runs.iter().find(|r| r.batch_norm).unwrap_or(&runs[0]);
    let batch_size = config.protocol.batch_size.min(train.len());
    let model = model::build(spec, config.hidden, config.seed)?;
    let mut model = model;
    model.to_device(config.device)?;
    let mut adam = Adam::new(model.parameters(), AdamConfig::default())?;
    let data = loader(train, batch_size, config.device, true)?;
    let batch = data.epoch(0).next().context("no training batch")??;
    let mut step_seconds = 0.0;
    for _ in 0..2 {
        let t = Instant::now();
        model::train_step(&model, &mut adam, &batch.images, &batch.labels)?;
        step_seconds = t.elapsed().as_secs_f64();
    }
    let per_image = step_seconds / batch_size as f64;
    let eval_images = config.eval_limit.map_or(test.len(), |l| l.min(test.len())) as f64;
    let total = runs
        .iter()
        .map(|r| {
            let evals = (r.steps / config.protocol.eval_every + 1) as f64;
            r.steps as f64 * step_seconds + evals * eval_images * per_image / 3.0
        })
        .sum();
    Ok(total)
}
