//! What every training run of the examples shares: its record (losses, evaluations, times), the
//! loop that steps it with evaluations and checkpoints on a cadence and stops on divergence or a
//! signal, and the checkpoint that holds model, optimizer and record in one file.

use crate::folder::CHECKPOINTS;
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use kiln::data::{Batch, DataLoader, Dataset};
use kiln::nn::{accuracy_async, cross_entropy, Module, Sequential, StateDict};
use kiln::tensor::no_grad;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The test-set loss and accuracy after `step` training steps.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct EvalPoint {
    pub step: usize,
    pub loss: f32,
    pub accuracy: f32,
    /// Seconds spent in training steps until then (evaluations excluded).
    #[serde(default)]
    pub train_seconds: f64,
}

/// How a run stopped by a signal is described (`interrupted at step N`).
pub const INTERRUPTED: &str = "interrupted";

/// How a run stopped by a non-finite loss is described (`diverged at step N: ...`).
pub const DIVERGED: &str = "diverged";

/// What one run measured.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
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

impl RunRecord {
    /// Whether the run stopped on a non-finite training or test loss.
    pub fn diverged(&self) -> bool {
        self.stopped
            .as_deref()
            .is_some_and(|s| s.starts_with(DIVERGED))
    }

    /// Training images per second at `batch_size` images a step (evaluation excluded; 0 before
    /// any step).
    pub fn images_per_second(&self, batch_size: usize) -> f64 {
        if self.train_seconds > 0.0 {
            (self.train_loss.len() * batch_size) as f64 / self.train_seconds
        } else {
            0.0
        }
    }

    /// Fails unless the record is one this program could have written for a run of `steps`.
    pub fn check(&self, steps: usize) -> anyhow::Result<()> {
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

/// Mean loss and accuracy of `model` (in eval mode) on `data`. Every batch is recorded before
/// any result is awaited, so the device runs them back to back.
pub async fn evaluate(model: &mut Sequential, data: &DataLoader) -> anyhow::Result<(f32, f32)> {
    evaluate_yielding(model, data, || std::future::ready(())).await
}

/// [`evaluate`], awaiting `yield_now()` after each batch is recorded. On a page's only thread,
/// where a batch on the CPU device is computed as it is recorded, the browser then gets its
/// turn between batches; on the GPU the batches still run back to back.
pub async fn evaluate_yielding<F: Future<Output = ()>>(
    model: &mut Sequential,
    data: &DataLoader,
    yield_now: impl Fn() -> F,
) -> anyhow::Result<(f32, f32)> {
    model.eval();
    let recorded: anyhow::Result<Vec<_>> = async {
        let mut recorded = Vec::new();
        for batch in data.epoch(0) {
            let batch = batch?;
            let logits = no_grad(|| model.forward(&batch.images))?;
            let loss = cross_entropy(&logits, &batch.labels)?.item_async();
            let accuracy = accuracy_async(&logits, &batch.labels);
            recorded.push((batch.labels.len(), loss, accuracy));
            yield_now().await;
        }
        Ok(recorded)
    }
    .await;
    model.train();
    let (mut loss, mut correct, mut count) = (0.0f64, 0.0f64, 0usize);
    for (n, batch_loss, batch_accuracy) in recorded? {
        loss += f64::from(batch_loss.await?) * n as f64;
        correct += f64::from(batch_accuracy.await?) * n as f64;
        count += n;
    }
    if count == 0 {
        bail!("evaluation: the test set is empty");
    }
    Ok((
        (loss / count as f64) as f32,
        (correct / count as f64) as f32,
    ))
}

/// What a checkpoint's fingerprint says of a run's data: the sizes of its training and test
/// sets and a CRC-32 of each one's images and labels, so that a run is not continued on other
/// data (another subset, or CIFAR-10 where it trained on the synthetic stand-in).
pub fn data_fingerprint(train: &Dataset, test: &Dataset) -> String {
    let crc = |data: &Dataset| {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(data.images());
        for label in data.labels() {
            hasher.update(&label.to_le_bytes());
        }
        hasher.finalize()
    };
    format!(
        "train {} images (crc32 {:08x}), test {} images (crc32 {:08x})",
        train.len(),
        crc(train),
        test.len(),
        crc(test)
    )
}

/// A run's model and optimizer, as [`train`] drives them.
pub trait Trainer {
    /// One training step on `batch`; returns its loss.
    fn step(&mut self, batch: &Batch) -> anyhow::Result<f32>;
    /// Test loss and accuracy.
    fn evaluate(&mut self) -> anyhow::Result<(f32, f32)>;
    /// The state to checkpoint: model, optimizer and whatever else the next step depends on.
    fn state(&self) -> StateDict;
}

/// How long a run lasts and when it evaluates and checkpoints.
#[derive(Debug, Clone, Copy)]
pub struct Cadence {
    pub steps: usize,
    /// Evaluate every this many steps, and after the last.
    pub eval_every: usize,
    /// Checkpoint every this many steps, at the end and on an interruption (0: never).
    pub checkpoint_every: usize,
}

/// Where a run's checkpoint goes and what it must match to be resumed.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// `<out>/checkpoints/<run>.safetensors`.
    pub path: PathBuf,
    /// Prefix of the metadata keys (the program's name).
    pub program: &'static str,
    /// Everything that shapes the run's numbers step by step; a checkpoint with another is
    /// refused.
    pub fingerprint: String,
}

impl Checkpoint {
    /// The checkpoint of run `name` in output folder `out`.
    pub fn new(out: &Path, name: &str, program: &'static str, fingerprint: String) -> Checkpoint {
        Checkpoint {
            path: out.join(CHECKPOINTS).join(format!("{name}.safetensors")),
            program,
            fingerprint,
        }
    }

    fn record_key(&self) -> String {
        format!("{}.record", self.program)
    }

    fn config_key(&self) -> String {
        format!("{}.config", self.program)
    }

    /// Commits `state` and `record` as one file: a kill leaves this one or the one before.
    pub fn save(&self, mut state: StateDict, record: &RunRecord) -> anyhow::Result<()> {
        let folder = self.path.parent().expect("checkpoint folder");
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        state.set_step(record.train_loss.len() as u64);
        state.insert_metadata(self.record_key(), serde_json::to_string(record)?);
        state.insert_metadata(self.config_key(), self.fingerprint.clone());
        state.save(&self.path)?;
        Ok(())
    }

    /// Restores a run of `steps` steps from this checkpoint: `restore` loads the state, and
    /// the record is returned. `None` when no checkpoint was completed (the run starts from
    /// step 0). A checkpoint of another configuration, or whose parts disagree, is an error.
    pub fn resume(
        &self,
        steps: usize,
        restore: impl FnOnce(&StateDict) -> anyhow::Result<()>,
    ) -> anyhow::Result<Option<RunRecord>> {
        remove_stale_temporaries(self.path.parent().expect("checkpoint folder"))?;
        if !self.path.exists() {
            return Ok(None);
        }
        let context = || format!("resuming from {}", self.path.display());
        let dict = StateDict::load(&self.path).with_context(context)?;
        let stored = dict.metadata(&self.config_key()).unwrap_or("(none)");
        if stored != self.fingerprint {
            bail!(
                "{}: the checkpoint was made with other settings\n  checkpoint: {stored}\n  this run:   {}",
                context(),
                self.fingerprint
            );
        }
        let record: RunRecord =
            serde_json::from_str(dict.metadata(&self.record_key()).unwrap_or(""))
                .with_context(|| format!("{}: its progress record", context()))?;
        record
            .check(steps)
            .with_context(|| format!("{}: its progress record", context()))?;
        let step = dict.step().with_context(context)?;
        if step != Some(record.train_loss.len() as u64) {
            bail!(
                "{}: the checkpoint is at step {step:?} but its progress record at step {}",
                context(),
                record.train_loss.len()
            );
        }
        restore(&dict).with_context(context)?;
        Ok(Some(record))
    }
}

/// Removes temporary files left in `folder` by a checkpoint write that was killed (no other
/// run is writing there: the program holds the output folder's lock, [`crate::folder::lock`]).
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

/// The record a run starts from: the checkpoint's in `resume_from`, if given and one was
/// completed there (an interrupted run goes on; a diverged or finished one stays as it was),
/// else an empty one. Says which on stderr.
pub fn start(
    name: &str,
    resume_from: Option<&Checkpoint>,
    steps: usize,
    restore: impl FnOnce(&StateDict) -> anyhow::Result<()>,
) -> anyhow::Result<RunRecord> {
    let Some(checkpoint) = resume_from else {
        return Ok(RunRecord::default());
    };
    match checkpoint.resume(steps, restore)? {
        Some(mut record) => {
            note!("{name}: resumed at step {}", record.train_loss.len());
            if record
                .stopped
                .as_deref()
                .is_some_and(|s| s.starts_with(INTERRUPTED))
            {
                record.stopped = None;
            }
            Ok(record)
        }
        None => {
            note!(
                "{name}: no complete checkpoint at {}; starting from step 0",
                checkpoint.path.display()
            );
            Ok(RunRecord::default())
        }
    }
}

// ANCHOR: loop
/// Trains run `name`'s `trainer` on `data` from where `record` stands to `cadence.steps`, epoch after epoch
/// (epoch `e` is the loader's epoch `e`, so a resumed run sees the batches it would have seen),
/// evaluating and checkpointing (into `checkpoint`) on the cadence. A non-finite loss stops the
/// run as diverged; `stop` (a signal) stops it after the current step, which is evaluated and
/// checkpointed so that nothing measured is lost. A non-finite test loss (the step's update
/// broke the model) stops it as diverged too, and a diverged model is never checkpointed. Why a
/// run stopped early is said on stderr.
#[allow(clippy::too_many_arguments)]
pub fn train(
    name: &str,
    trainer: &mut dyn Trainer,
    record: &mut RunRecord,
    data: &DataLoader,
    cadence: Cadence,
    checkpoint: &Checkpoint,
    stop: &AtomicBool,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    bar.set_position(record.train_loss.len() as u64);
    let (started, earlier_seconds) = (Instant::now(), record.wall_seconds);
    let per_epoch = data.num_batches();
    if per_epoch == 0 {
        bail!("no full training batch: fewer images than the batch size");
    }
    let mut step = record.train_loss.len();
    'epochs: while step < cadence.steps && record.stopped.is_none() {
        let epoch = step / per_epoch;
        for batch in data.epoch(epoch as u64).skip(step % per_epoch) {
            let batch = batch?;
            let t = Instant::now();
            let value = trainer.step(&batch)?;
            record.train_seconds += t.elapsed().as_secs_f64();
            step += 1;
            record.train_loss.push(value);
            bar.set_position(step as u64);
            bar.set_message(format!("loss {value:.4}"));
            if !value.is_finite() {
                record.stopped = Some(format!("{DIVERGED} at step {step}: training loss {value}"));
            } else if stop.load(Ordering::Relaxed) {
                record.stopped = Some(format!("{INTERRUPTED} at step {step}"));
            }
            let last = step == cadence.steps || record.stopped.is_some();
            let mut healthy = value.is_finite();
            if healthy && (step.is_multiple_of(cadence.eval_every) || last) {
                let (loss, accuracy) = trainer.evaluate()?;
                record.evals.push(EvalPoint {
                    step,
                    loss,
                    accuracy,
                    train_seconds: record.train_seconds,
                });
                if !loss.is_finite() {
                    record.stopped = Some(format!("{DIVERGED} at step {step}: test loss {loss}"));
                    healthy = false;
                }
            }
            let last = last || !healthy;
            record.wall_seconds = earlier_seconds + started.elapsed().as_secs_f64();
            // A diverged model is not worth keeping.
            if cadence.checkpoint_every > 0
                && healthy
                && (step.is_multiple_of(cadence.checkpoint_every) || last)
            {
                checkpoint.save(trainer.state(), record)?;
            }
            if last {
                break 'epochs;
            }
        }
    }
    bar.finish_and_clear();
    if let Some(why) = &record.stopped {
        note!("{name}: {why}");
    }
    Ok(())
}
// ANCHOR_END: loop

/// A progress bar for run `name` of `steps` steps (hidden unless `enabled`).
pub fn progress_bar(enabled: bool, name: &str, steps: usize) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>18} [{bar:30}] {pos}/{len} steps {msg} ({elapsed}, eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(name.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln::data::LoaderConfig;

    /// A trainer whose steps lose 1.0 and whose model breaks at step `breaks` (its test loss
    /// becomes NaN, as after an update to NaN weights); its state is empty.
    struct Breaking {
        steps: usize,
        breaks: usize,
    }

    impl Trainer for Breaking {
        fn step(&mut self, _: &Batch) -> anyhow::Result<f32> {
            self.steps += 1;
            Ok(1.0)
        }

        fn evaluate(&mut self) -> anyhow::Result<(f32, f32)> {
            let loss = if self.steps >= self.breaks {
                f32::NAN
            } else {
                0.5
            };
            Ok((loss, 0.1))
        }

        fn state(&self) -> StateDict {
            StateDict::default()
        }
    }

    #[test]
    fn a_model_broken_by_its_update_stops_the_run_without_a_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let images = 8;
        let data = Dataset::new(vec![0; images * 3072], vec![0; images], vec!["a".into()]);
        let loader = DataLoader::new(&data.unwrap(), LoaderConfig::new(1)).unwrap();
        let checkpoint = Checkpoint::new(dir.path(), "run", "test", "settings".into());
        let cadence = Cadence {
            steps: 6,
            eval_every: 1,
            checkpoint_every: 1,
        };
        let mut trainer = Breaking {
            steps: 0,
            breaks: 3,
        };
        let mut record = RunRecord::default();
        let stop = AtomicBool::new(false);
        let bar = ProgressBar::hidden();
        train(
            "run",
            &mut trainer,
            &mut record,
            &loader,
            cadence,
            &checkpoint,
            &stop,
            &bar,
        )
        .unwrap();
        assert_eq!(record.train_loss.len(), 3);
        assert_eq!(
            record.stopped.as_deref(),
            Some("diverged at step 3: test loss NaN")
        );
        assert!(record.diverged());
        // The checkpoint is the one of step 2, and it resumes as the diverged run's record
        // cannot: JSON has no NaN.
        let resumed = checkpoint
            .resume(cadence.steps, |_| Ok(()))
            .unwrap()
            .unwrap();
        assert_eq!(resumed.train_loss.len(), 2);
    }
}
