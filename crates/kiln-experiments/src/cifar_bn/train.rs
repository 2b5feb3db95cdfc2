//! One training run: Adam on the training set in file order, periodic evaluation on the test
//! set, optional checkpoints, and early stops for divergence or Ctrl-C.

use super::config::{ExperimentConfig, RunSpec};
use super::folder::CHECKPOINTS;
use super::live::evaluate;
use super::model;
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use kiln::data::{DataLoader, Dataset, LoaderConfig, Transform, Transforms};
use kiln::nn::{checkpoint, Adam, AdamConfig, Module, Sequential, StateDict};
use kiln::tensor::Device;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The test-set loss and accuracy after `step` training steps.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct EvalPoint {
    pub step: usize,
    pub loss: f32,
    pub accuracy: f32,
}

/// How a run stopped by a signal is described (`interrupted at step N`).
pub const INTERRUPTED: &str = "interrupted";

/// What one run measured.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunRecord {
    /// Training loss of steps 1, 2, ... (the batch loss before that step's update).
    pub train_loss: Vec<f32>,
    pub evals: Vec<EvalPoint>,
    /// Seconds spent in training steps (evaluation excluded).
    pub train_seconds: f64,
    /// Seconds of the whole run, evaluation included.
    pub wall_seconds: f64,
    /// Why the run ended before its last step, if it did.
    pub stopped: Option<String>,
}

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
        &head(test, config.eval_limit)?,
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

/// The checkpoint of run `name` in output folder `dir`: model, optimizer and [`RunRecord`] in
/// one file, so that they advance together.
fn checkpoint_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(CHECKPOINTS).join(format!("{name}.safetensors"))
}

/// Metadata keys of the record and the settings in a checkpoint.
const RECORD_KEY: &str = "cifar_bn.record";
const CONFIG_KEY: &str = "cifar_bn.config";

/// What a checkpoint stores of the configuration: everything that shapes the run's numbers
/// step by step (the number of steps only says where it ends).
fn config_fingerprint(config: &ExperimentConfig, spec: &RunSpec) -> String {
    let p = &config.protocol;
    let spec = RunSpec {
        steps: 0,
        ..spec.clone()
    };
    format!(
        "{spec:?} batch {} eval every {} on {:?} hidden {:?} seed {} lr {}",
        p.batch_size, p.eval_every, config.eval_limit, config.hidden, config.seed, config.lr
    )
}

impl RunRecord {
    /// Fails unless the record is one this program could have written for a run of `steps`.
    fn check(&self, steps: usize) -> anyhow::Result<()> {
        let done = self.train_loss.len();
        let seconds_ok = |s: f64| (0.0..1e9).contains(&s);
        if !seconds_ok(self.wall_seconds) || !seconds_ok(self.train_seconds) {
            bail!(
                "implausible times (wall {} s, training {} s)",
                self.wall_seconds,
                self.train_seconds
            );
        }
        if done > steps {
            bail!("{done} steps recorded, the run has {steps}");
        }
        if let Some(e) = self.evals.iter().find(|e| e.step == 0 || e.step > done) {
            bail!("an evaluation at step {} of {done}", e.step);
        }
        Ok(())
    }
}

/// Restores `model`, `adam` and the record from the run's checkpoint in `dir`, if one was
/// completed; `None` when there is none (the run starts from step 0). A checkpoint of another
/// configuration, or whose parts disagree, is an error.
fn resume(
    dir: &Path,
    config: &ExperimentConfig,
    spec: &RunSpec,
    model: &Sequential,
    adam: &mut Adam,
) -> anyhow::Result<Option<RunRecord>> {
    let path = checkpoint_path(dir, &spec.name);
    remove_stale_temporaries(path.parent().expect("checkpoint folder"))?;
    if !path.exists() {
        return Ok(None);
    }
    let context = || format!("resuming {} from {}", spec.name, path.display());
    let dict = StateDict::load(&path).with_context(context)?;
    let stored = dict.metadata(CONFIG_KEY).unwrap_or("(none)");
    let current = config_fingerprint(config, spec);
    if stored != current {
        bail!(
            "{}: the checkpoint was made with other settings\n  checkpoint: {stored}\n  this run:   {current}",
            context()
        );
    }
    let record: RunRecord = serde_json::from_str(dict.metadata(RECORD_KEY).unwrap_or(""))
        .with_context(|| format!("{}: its progress record", context()))?;
    record
        .check(spec.steps)
        .with_context(|| format!("{}: its progress record", context()))?;
    let step = dict.step().with_context(context)?;
    if step != Some(record.train_loss.len() as u64) {
        bail!(
            "{}: the checkpoint is at step {step:?} but its progress record at step {}",
            context(),
            record.train_loss.len()
        );
    }
    checkpoint::load_state_dict(&dict, model, Some(adam)).with_context(context)?;
    Ok(Some(record))
}

/// Removes temporary files left in `folder` by a checkpoint write that was killed.
fn remove_stale_temporaries(folder: &Path) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", folder.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".tmp") {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("removing {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The first `limit` images of `data` (all if `None`).
pub fn head(data: &Dataset, limit: Option<usize>) -> anyhow::Result<Dataset> {
    let n = limit.map_or(data.len(), |l| l.min(data.len()));
    if n == data.len() {
        return Ok(data.clone());
    }
    let bytes = data.images()[..n * data.images().len() / data.len()].to_vec();
    Ok(Dataset::new(
        bytes,
        data.labels()[..n].to_vec(),
        data.class_names().to_vec(),
    )?)
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
    let mut record = RunRecord {
        train_loss: Vec::new(),
        evals: Vec::new(),
        train_seconds: 0.0,
        wall_seconds: 0.0,
        stopped: None,
    };
    if let Some(dir) = &config.resume {
        match resume(dir, config, spec, &model, &mut adam)? {
            Some(saved) => {
                record = saved;
                note!("{}: resumed at step {}", spec.name, record.train_loss.len());
                // An interrupted run goes on; a diverged or finished one stays as it was.
                if record
                    .stopped
                    .as_deref()
                    .is_some_and(|s| s.starts_with(INTERRUPTED))
                {
                    record.stopped = None;
                }
            }
            None => note!(
                "{}: no complete checkpoint in {}; starting from step 0",
                spec.name,
                dir.join(CHECKPOINTS).display()
            ),
        }
    }
    let (batch_size, train_data, test_data) = loaders(config, train, test)?;
    let bar = progress_bar(config.progress, spec);
    bar.set_position(record.train_loss.len() as u64);

    let (started, earlier_seconds) = (Instant::now(), record.wall_seconds);
    let per_epoch = train_data.num_batches();
    let mut step = record.train_loss.len();
    'epochs: while step < spec.steps && record.stopped.is_none() {
        let epoch = step / per_epoch;
        for batch in train_data.epoch(epoch as u64).skip(step % per_epoch) {
            let batch = batch?;
            let t = Instant::now();
            let value = model::train_step(&model, &mut adam, &batch.images, &batch.labels)?;
            record.train_seconds += t.elapsed().as_secs_f64();
            step += 1;
            record.train_loss.push(value);
            bar.set_position(step as u64);
            bar.set_message(format!("loss {value:.4}"));
            if !value.is_finite() {
                record.stopped = Some(format!("diverged at step {step}: training loss {value}"));
            } else if stop.load(Ordering::Relaxed) {
                record.stopped = Some(format!("{INTERRUPTED} at step {step}"));
            }
            let due = step.is_multiple_of(config.protocol.eval_every) || step == spec.steps;
            if value.is_finite() && (due || record.stopped.is_some()) {
                let (loss, accuracy) = pollster::block_on(evaluate(&mut model, &test_data))?;
                record.evals.push(EvalPoint {
                    step,
                    loss,
                    accuracy,
                });
            }
            record.wall_seconds = earlier_seconds + started.elapsed().as_secs_f64();
            // Checkpoint on the cadence, and at the end or on an interruption so that no
            // step is lost (a diverged model is not worth keeping).
            let last = step == spec.steps || record.stopped.is_some();
            if config.checkpoint_every > 0
                && value.is_finite()
                && (step.is_multiple_of(config.checkpoint_every) || last)
            {
                save_checkpoint(config, spec, &model, &adam, &record)?;
            }
            if record.stopped.is_some() || step == spec.steps {
                break 'epochs;
            }
        }
    }
    bar.finish_and_clear();
    if let Some(why) = &record.stopped {
        note!("{}: {why}", spec.name);
    }
    Ok(RunResult {
        spec: spec.clone(),
        batch_size,
        record,
    })
}

/// Commits the run's state (model, optimizer, record) as one checkpoint file.
fn save_checkpoint(
    config: &ExperimentConfig,
    spec: &RunSpec,
    model: &Sequential,
    adam: &Adam,
    record: &RunRecord,
) -> anyhow::Result<()> {
    let path = checkpoint_path(&config.out, &spec.name);
    let folder = path.parent().expect("checkpoint folder");
    std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    let mut dict = checkpoint::state_dict(model, Some(adam));
    dict.set_step(record.train_loss.len() as u64);
    dict.insert_metadata(RECORD_KEY, serde_json::to_string(record)?);
    dict.insert_metadata(CONFIG_KEY, config_fingerprint(config, spec));
    dict.save(&path)?;
    Ok(())
}

fn progress_bar(enabled: bool, spec: &RunSpec) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(spec.steps as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>18} [{bar:30}] {pos}/{len} steps {msg} ({elapsed}, eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(spec.name.clone());
    bar
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
