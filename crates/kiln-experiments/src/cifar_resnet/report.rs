//! The numbers of the ResNet comparison: epochs and training time to test-accuracy targets,
//! the learning-rate sweep's verdicts, the table, and the files `train.csv`, `eval.csv` and
//! `summary.json`.

use super::config::ResNetConfig;
use super::train::RunResult;
use crate::cifar_bn::report::{opt, smoothed, SMOOTHING};
use crate::folder::write_output;
use kiln::data::DataOrigin;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Test accuracies whose first reaching is reported (the record's target is 94%).
pub const TARGETS: [f32; 5] = [0.5, 0.7, 0.8, 0.9, 0.94];

// ANCHOR: diverged
/// A sweep run diverges when a loss is not finite or the mean of its last [`SMOOTHING`]
/// steps is above its first step's loss; the sweep keeps the largest rate that does not.
pub fn diverged(losses: &[f32]) -> bool {
    let last = smoothed(losses).last().copied();
    !losses.iter().all(|l| l.is_finite())
        || matches!((losses.first(), last), (Some(&a), Some(b)) if b > a)
}
// ANCHOR_END: diverged

/// When a run first reached a test accuracy.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reached {
    pub epochs: f64,
    /// Seconds of training steps until then (evaluations excluded).
    pub train_seconds: f64,
}

/// The summary of one run, as written to `summary.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunSummary {
    pub name: String,
    pub batch_norm: bool,
    /// Peak learning rate.
    pub lr: f32,
    /// Steps and epochs completed.
    pub steps: usize,
    pub epochs: f64,
    /// Mean training loss of the last steps.
    pub final_train_loss: Option<f32>,
    pub best_test_accuracy: Option<f32>,
    pub final_test_accuracy: Option<f32>,
    pub final_test_loss: Option<f32>,
    /// Target (as text, e.g. `"0.9"`) to the first evaluation at or above it.
    pub to_accuracy: BTreeMap<String, Option<Reached>>,
    pub wall_seconds: f64,
    /// Training images per second (evaluation excluded).
    pub images_per_second: f64,
    pub stopped: Option<String>,
}

/// One run of the learning-rate sweep.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepPoint {
    pub lr: f32,
    pub steps: usize,
    pub first_loss: Option<f32>,
    /// Mean training loss of the last steps.
    pub final_loss: Option<f32>,
    /// Whether it diverged (see [`diverged`]).
    pub diverged: bool,
}

/// Everything `summary.json` holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub device: String,
    pub dataset: String,
    pub synthetic: bool,
    pub protocol: String,
    pub width: usize,
    pub batch_size: usize,
    pub study: String,
    /// Smoothing window of the final training losses, in steps.
    pub smoothing_steps: usize,
    /// The sweep's runs, largest rate first (empty when the rate was given).
    pub sweep: Vec<SweepPoint>,
    pub runs: Vec<RunSummary>,
    /// Per target: epochs of the first run divided by epochs of the second, when both reached
    /// it.
    pub epoch_ratio: BTreeMap<String, Option<f64>>,
}

fn target_key(target: f32) -> String {
    format!("{target}")
}

/// What a sweep run says: its losses and whether it [`diverged`], or stopped as diverged (a
/// test loss that was not finite, [`crate::runs::RunRecord::diverged`]).
pub fn sweep_point(r: &RunResult) -> SweepPoint {
    let losses = &r.record.train_loss;
    SweepPoint {
        lr: r.spec.lr,
        steps: losses.len(),
        first_loss: losses.first().copied(),
        final_loss: smoothed(losses).last().copied(),
        diverged: diverged(losses) || r.record.diverged(),
    }
}

fn summarize(r: &RunResult) -> RunSummary {
    let rec = &r.record;
    let reached = |target: f32| {
        rec.evals
            .iter()
            .find(|e| e.accuracy >= target)
            .map(|e| Reached {
                epochs: r.epochs_at(e.step),
                train_seconds: e.train_seconds,
            })
    };
    RunSummary {
        name: r.spec.name.clone(),
        batch_norm: r.spec.batch_norm,
        lr: r.spec.lr,
        steps: rec.train_loss.len(),
        epochs: r.epochs_at(rec.train_loss.len()),
        final_train_loss: smoothed(&rec.train_loss).last().copied(),
        best_test_accuracy: rec.evals.iter().map(|e| e.accuracy).reduce(f32::max),
        final_test_accuracy: rec.evals.last().map(|e| e.accuracy),
        final_test_loss: rec.evals.last().map(|e| e.loss),
        to_accuracy: TARGETS
            .iter()
            .map(|&t| (target_key(t), reached(t)))
            .collect(),
        wall_seconds: rec.wall_seconds,
        images_per_second: rec.images_per_second(r.batch_size),
        stopped: rec.stopped.clone(),
    }
}

/// The summary of the sweep and the runs under `config`, on data described by `origin`.
pub fn summary(
    config: &ResNetConfig,
    origin: &DataOrigin,
    sweep: &[RunResult],
    results: &[RunResult],
) -> Summary {
    let runs: Vec<RunSummary> = results.iter().map(summarize).collect();
    let epoch_ratio = TARGETS
        .iter()
        .map(|&t| {
            let key = target_key(t);
            let epochs = |i: usize| runs.get(i).and_then(|r| r.to_accuracy[&key]);
            let ratio = match (epochs(0), epochs(1)) {
                (Some(a), Some(b)) => Some(a.epochs / b.epochs),
                _ => None,
            };
            (key, ratio)
        })
        .collect();
    Summary {
        device: config.device.to_string(),
        dataset: origin.to_string(),
        synthetic: origin.is_synthetic(),
        protocol: config.protocol.to_string(),
        width: config.width,
        batch_size: results.first().map_or(config.batch_size, |r| r.batch_size),
        study: format!("{:?}", config.study).to_lowercase(),
        smoothing_steps: SMOOTHING,
        sweep: sweep.iter().map(sweep_point).collect(),
        runs,
        epoch_ratio,
    }
}

/// Computes the summary and writes `train.csv`, `eval.csv` (sweep runs included) and
/// `summary.json` into `config.out`.
pub fn write_all(
    config: &ResNetConfig,
    origin: &DataOrigin,
    sweep: &[RunResult],
    results: &[RunResult],
) -> anyhow::Result<Summary> {
    let summary = summary(config, origin, sweep, results);
    let tag = origin.tag();
    let mut train = String::from("run,step,epoch,loss,smoothed_loss,dataset\n");
    let mut eval = String::from("run,step,epoch,train_seconds,test_loss,test_accuracy,dataset\n");
    for r in sweep.iter().chain(results) {
        let name = &r.spec.name;
        let smooth = smoothed(&r.record.train_loss);
        for (i, (l, s)) in r.record.train_loss.iter().zip(&smooth).enumerate() {
            let epoch = r.epochs_at(i + 1);
            let _ = writeln!(train, "{name},{},{epoch},{l},{s},{tag}", i + 1);
        }
        for e in &r.record.evals {
            let epoch = r.epochs_at(e.step);
            let _ = writeln!(
                eval,
                "{name},{},{epoch},{},{},{},{tag}",
                e.step, e.train_seconds, e.loss, e.accuracy
            );
        }
    }
    write_output(&config.out, "train.csv", train.as_bytes())?;
    write_output(&config.out, "eval.csv", eval.as_bytes())?;
    write_output(
        &config.out,
        "summary.json",
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    Ok(summary)
}

/// The summary as text: the sweep's verdicts, then a row per run.
pub fn table(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "data: {}   device: {}   protocol: {} (width {}, batch {})",
        s.dataset, s.device, s.protocol, s.width, s.batch_size
    );
    if !s.sweep.is_empty() {
        let _ = writeln!(out, "learning-rate sweep without batch norm:");
        for p in &s.sweep {
            let _ = writeln!(
                out,
                "  lr {:<8} loss {} -> {} over {} steps: {}",
                p.lr,
                opt(p.first_loss, |v| format!("{v:.3}")),
                opt(p.final_loss, |v| format!("{v:.3}")),
                p.steps,
                if p.diverged {
                    "diverges"
                } else {
                    "does not diverge"
                }
            );
        }
    }
    let _ = write!(out, "{:<16}{:>8}", "run", "lr");
    for t in TARGETS {
        let _ = write!(out, "{:>14}", format!("->{}%", t * 100.0));
    }
    let _ = writeln!(
        out,
        "{:>8}{:>11}{:>10}{:>10}{:>10}{:>9}{:>8}",
        "epochs", "train loss", "best acc", "final acc", "final tl", "wall s", "img/s"
    );
    for r in &s.runs {
        let _ = write!(out, "{:<16}{:>8}", r.name, r.lr);
        for t in TARGETS {
            let cell = opt(r.to_accuracy[&target_key(t)], |v| {
                format!("{:.0} ep {:.0} s", v.epochs, v.train_seconds)
            });
            let _ = write!(out, "{cell:>14}");
        }
        let _ = writeln!(
            out,
            "{:>8.1}{:>11}{:>10}{:>10}{:>10}{:>9.1}{:>8.0}",
            r.epochs,
            opt(r.final_train_loss, |v| format!("{v:.4}")),
            opt(r.best_test_accuracy, |v| format!("{:.1}%", v * 100.0)),
            opt(r.final_test_accuracy, |v| format!("{:.1}%", v * 100.0)),
            opt(r.final_test_loss, |v| format!("{v:.3}")),
            r.wall_seconds,
            r.images_per_second
        );
    }
    if s.runs.len() == 2 {
        let label = format!("ratio {}/{}", s.runs[0].name, s.runs[1].name);
        let _ = write!(out, "{label:<24}");
        for t in TARGETS {
            let cell = opt(s.epoch_ratio[&target_key(t)], |v| format!("{v:.1}x"));
            let _ = write!(out, "{cell:>14}");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "(->A: first evaluation (after each epoch) with test accuracy >= A: epochs, and seconds \
         of training until then; train loss: mean of the last {} steps; tl: test loss)",
        s.smoothing_steps
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_run_diverges_on_a_non_finite_loss_or_a_rising_mean() {
        assert!(!diverged(&[2.3, 2.3, 2.2]));
        assert!(!diverged(&[2.3, 2.3, 2.3]), "a flat loss does not diverge");
        assert!(diverged(&[2.3, 2.2, 2.5]), "the mean 2.33 rose above 2.3");
        assert!(diverged(&[2.3, f32::NAN, 1.0]));
        assert!(diverged(&[2.3, f32::INFINITY]));
        // Only the last ten steps count: an early spike that settles is not divergence.
        let mut settled = vec![2.3, 9.0];
        settled.extend([2.0; 10]);
        assert!(!diverged(&settled));
        assert!(!diverged(&[]), "no steps, nothing diverged");
    }

    #[test]
    fn a_sweep_run_stopped_by_a_non_finite_test_loss_diverged() {
        let mut result = RunResult {
            spec: crate::cifar_resnet::config::RunSpec {
                name: "sweep-0.4".into(),
                batch_norm: false,
                lr: 0.4,
                epochs: 2,
            },
            steps_per_epoch: 3,
            batch_size: 4,
            record: crate::runs::RunRecord {
                train_loss: vec![2.3, 2.2, 2.1],
                ..Default::default()
            },
        };
        assert!(!sweep_point(&result).diverged);
        result.record.stopped = Some("diverged at step 3: test loss NaN".into());
        assert!(sweep_point(&result).diverged);
    }
}
