//! The comparison stepped from outside, never waiting for the device: what the web page
//! drives. Each [`Live::step`] records the next training step, then returns the loss of the step
//! before, which travelled back while the device ran the new one. Losses, evaluations and the
//! summary are those of [`super::train::run`] for the same settings. On the CPU device a step is
//! computed as it is recorded, so a long piece of work (an evaluation, batch after batch) awaits
//! an injected [`Yield`] between its parts: the page's event loop runs there.

use super::config::{ExperimentConfig, RunSpec};
use super::model;
use super::report::{self, Summary};
use super::train::{loaders, RunResult};
use crate::runs::{evaluate_yielding, EvalPoint, RunRecord};
use kiln::data::{Batches, DataLoader, Dataset};
use kiln::nn::{Adam, AdamConfig, Module, Sequential};
use std::future::Future;
use std::pin::Pin;

/// Seconds since a fixed origin: the page's clock in the browser, which has no `Instant`.
pub type Clock = Box<dyn Fn() -> f64>;

/// A future that resolves once the host has had its turn: in the browser, on a later task of
/// the event loop, so that the page repaints and answers in between; natively, at once.
pub type Yield = Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>>>;

/// The [`Yield`] of a native run, which has no event loop to let run: it resolves at once.
pub fn native_yield() -> Yield {
    Box::new(|| -> Pin<Box<dyn Future<Output = ()>>> { Box::pin(std::future::ready(())) })
}

/// A step's loss on its way back from the device.
type PendingLoss = Pin<Box<dyn Future<Output = kiln::tensor::Result<f32>>>>;

/// What one [`Live::step`] brought back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Progress {
    /// Index of the run in [`ExperimentConfig::runs`].
    pub run: usize,
    /// The run's name (`no-bn`, `bn`).
    pub name: String,
    /// The step (1-based) whose loss this is.
    pub step: usize,
    /// Its batch loss.
    pub loss: f32,
    /// The test evaluation after this step, when one was due.
    pub eval: Option<EvalPoint>,
    /// Seconds since the previous step's loss arrived (or the run began): the step time.
    pub seconds: f64,
}

/// The run in progress.
struct Run {
    spec: RunSpec,
    model: Sequential,
    adam: Adam,
    /// The epoch `batches` belongs to.
    epoch: u64,
    batches: Batches,
    /// Steps recorded so far; the last one's loss may still be on its way.
    recorded: usize,
    pending: Option<PendingLoss>,
    record: RunRecord,
    started: f64,
    /// When the last loss arrived.
    last: f64,
}

/// A comparison in progress (see the module docs).
pub struct Live {
    config: ExperimentConfig,
    specs: Vec<RunSpec>,
    train: DataLoader,
    test: DataLoader,
    batch_size: usize,
    clock: Clock,
    yield_now: Yield,
    finished: Vec<RunResult>,
    run: Option<Run>,
}

impl Live {
    /// The runs of `config` on `train`/`test`, batched as [`super::train::run`] batches them;
    /// nothing is recorded before the first [`Live::step`]. `clock` times the steps;
    /// `yield_now` is awaited between the parts of a long [`Live::step`].
    pub fn new(
        config: ExperimentConfig,
        train: &Dataset,
        test: &Dataset,
        clock: Clock,
        yield_now: Yield,
    ) -> anyhow::Result<Live> {
        let (batch_size, train_data, test_data) = loaders(&config, train, test)?;
        Ok(Live {
            specs: config.runs(),
            config,
            train: train_data,
            test: test_data,
            batch_size,
            clock,
            yield_now,
            finished: Vec::new(),
            run: None,
        })
    }

    // ANCHOR: step
    /// Records the next step and returns the loss of the one before, once it has arrived;
    /// `None` when every run has finished. A step after which the test set is evaluated is
    /// waited for before the next one is recorded, so that the evaluation sees its weights.
    /// `yield_now` is awaited between two steps recorded in one call (at the start of a run and
    /// after an evaluation) and between the test batches of an evaluation.
    pub async fn step(&mut self) -> anyhow::Result<Option<Progress>> {
        loop {
            let Some(run) = self.run.as_mut() else {
                let Some(spec) = self.specs.get(self.finished.len()) else {
                    return Ok(None);
                };
                self.run = Some(self.start(spec.clone())?);
                continue;
            };
            let previous = run.pending.take();
            let eval_due = |step: usize| {
                step.is_multiple_of(self.config.protocol.eval_every) || step == run.spec.steps
            };
            let more = run.recorded < run.spec.steps && run.record.stopped.is_none();
            if more && (previous.is_none() || !eval_due(run.recorded)) {
                run.pending = Some(run.record_next(&self.train)?);
            }
            match previous {
                Some(loss) => {
                    let loss = loss.await?;
                    let progress = self.finish_step(loss).await?;
                    return Ok(Some(progress));
                }
                None if run.pending.is_none() => {
                    let run = self.run.take().expect("a run in progress");
                    self.finished.push(RunResult {
                        spec: run.spec,
                        batch_size: self.batch_size,
                        record: run.record,
                    });
                }
                None => (self.yield_now)().await,
            }
        }
    }
    // ANCHOR_END: step

    fn start(&self, spec: RunSpec) -> anyhow::Result<Run> {
        let mut model = model::build(&spec, self.config.hidden, self.config.seed)?;
        model.to_device(self.config.device)?;
        let adam = Adam::new(model.parameters(), AdamConfig::default().lr(self.config.lr))?;
        let now = (self.clock)();
        Ok(Run {
            spec,
            model,
            adam,
            epoch: 0,
            batches: self.train.epoch(0),
            recorded: 0,
            pending: None,
            record: RunRecord::default(),
            started: now,
            last: now,
        })
    }

    /// Books the loss of the oldest step in flight, evaluates when due, and says what happened.
    async fn finish_step(&mut self, loss: f32) -> anyhow::Result<Progress> {
        let run = self.run.as_mut().expect("a run in progress");
        let now = (self.clock)();
        let seconds = now - run.last;
        run.last = now;
        run.record.train_seconds += seconds;
        run.record.train_loss.push(loss);
        let step = run.record.train_loss.len();
        if !loss.is_finite() {
            run.record.stopped = Some(format!("diverged at step {step}: training loss {loss}"));
            run.pending = None;
        }
        let due = step.is_multiple_of(self.config.protocol.eval_every) || step == run.spec.steps;
        let eval = if loss.is_finite() && due {
            let (loss, accuracy) =
                evaluate_yielding(&mut run.model, &self.test, &self.yield_now).await?;
            // The evaluation is not training time: the next step's clock starts after it.
            run.last = (self.clock)();
            let point = EvalPoint {
                step,
                loss,
                accuracy,
                train_seconds: run.record.train_seconds,
            };
            run.record.evals.push(point);
            Some(point)
        } else {
            None
        };
        run.record.wall_seconds = (self.clock)() - run.started;
        Ok(Progress {
            run: self.finished.len(),
            name: run.spec.name.clone(),
            step,
            loss,
            eval,
            seconds,
        })
    }

    /// The summary of the runs so far (the finished ones and the one in progress), as
    /// `cifar_bn` prints it; `dataset` describes the data.
    pub fn summary(&self, dataset: String, synthetic: bool) -> Summary {
        let mut results = self.finished.clone();
        results.extend(self.run.as_ref().map(|run| RunResult {
            spec: run.spec.clone(),
            batch_size: self.batch_size,
            record: run.record.clone(),
        }));
        report::summary(&self.config, dataset, synthetic, &results)
    }

    /// The runs of the comparison, in order.
    pub fn runs(&self) -> &[RunSpec] {
        &self.specs
    }
}

impl Run {
    /// Records the next training step (the next batch, in a new epoch when one is used up)
    /// and starts reading its loss back.
    fn record_next(&mut self, data: &DataLoader) -> anyhow::Result<PendingLoss> {
        let batch = match self.batches.next() {
            Some(batch) => batch?,
            None => {
                self.epoch += 1;
                self.batches = data.epoch(self.epoch);
                self.batches
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("the training set has no full batch"))??
            }
        };
        let loss = model::record_step(&self.model, &mut self.adam, &batch.images, &batch.labels)?;
        self.recorded += 1;
        Ok(Box::pin(loss.item_async()))
    }
}
