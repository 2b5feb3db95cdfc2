//! The numbers of a comparison: smoothed training loss, steps to reach loss levels, the
//! summary table, and the files `train.csv`, `eval.csv` and `summary.json`.

use super::config::ExperimentConfig;
use super::train::RunResult;
use crate::folder::write_output;
use kiln::data::DataOrigin;
use std::collections::BTreeMap;
use std::fmt::Write as _;

// ANCHOR: levels
/// Training-loss levels whose first crossing is reported.
pub const LEVELS: [f32; 5] = [1.5, 1.0, 0.75, 0.5, 0.2];

/// Steps averaged by the smoothed training loss (a trailing mean).
pub const SMOOTHING: usize = 10;
// ANCHOR_END: levels

/// The summary of one run, as written to `summary.json`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunSummary {
    pub name: String,
    /// Steps completed.
    pub steps: usize,
    pub final_train_loss: Option<f32>,
    pub best_test_accuracy: Option<f32>,
    pub final_test_accuracy: Option<f32>,
    pub best_test_loss: Option<f32>,
    pub final_test_loss: Option<f32>,
    /// Level (as text, e.g. `"0.5"`) to the first step whose smoothed loss is at or below it.
    pub steps_to_loss: BTreeMap<String, Option<usize>>,
    pub wall_seconds: f64,
    /// Training images per second (evaluation excluded).
    pub images_per_second: f64,
    pub stopped: Option<String>,
}

/// Everything `summary.json` holds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub device: String,
    pub dataset: String,
    pub synthetic: bool,
    pub protocol: String,
    pub batch_size: usize,
    pub study: String,
    /// Smoothing window of `steps_to_loss`, in steps.
    pub smoothing_steps: usize,
    pub runs: Vec<RunSummary>,
    /// Per level: steps of the first run divided by steps of the second, when both reached it.
    pub step_ratio: BTreeMap<String, Option<f64>>,
}

/// Trailing mean of the last `SMOOTHING` losses at each step.
pub fn smoothed(losses: &[f32]) -> Vec<f32> {
    (0..losses.len())
        .map(|i| {
            let window = &losses[(i + 1).saturating_sub(SMOOTHING)..=i];
            window.iter().sum::<f32>() / window.len() as f32
        })
        .collect()
}

/// The first step (1-based) whose smoothed loss is at or below `level`.
pub fn steps_to(smooth: &[f32], level: f32) -> Option<usize> {
    smooth.iter().position(|&l| l <= level).map(|i| i + 1)
}

fn level_key(level: f32) -> String {
    format!("{level}")
}

fn summarize(r: &RunResult) -> RunSummary {
    let rec = &r.record;
    let smooth = smoothed(&rec.train_loss);
    let best = |f: fn(&crate::runs::EvalPoint) -> f32, better: fn(f32, f32) -> bool| {
        rec.evals
            .iter()
            .map(f)
            .reduce(|a, b| if better(b, a) { b } else { a })
    };
    RunSummary {
        name: r.spec.name.clone(),
        steps: rec.train_loss.len(),
        final_train_loss: smooth.last().copied(),
        best_test_accuracy: best(|e| e.accuracy, |a, b| a > b),
        final_test_accuracy: rec.evals.last().map(|e| e.accuracy),
        best_test_loss: best(|e| e.loss, |a, b| a < b),
        final_test_loss: rec.evals.last().map(|e| e.loss),
        steps_to_loss: LEVELS
            .iter()
            .map(|&l| (level_key(l), steps_to(&smooth, l)))
            .collect(),
        wall_seconds: rec.wall_seconds,
        images_per_second: rec.images_per_second(r.batch_size),
        stopped: rec.stopped.clone(),
    }
}

/// The summary of `results`, run under `config` on data from `origin` (described by
/// `dataset`).
pub fn summary(
    config: &ExperimentConfig,
    dataset: String,
    synthetic: bool,
    results: &[RunResult],
) -> Summary {
    let runs: Vec<RunSummary> = results.iter().map(summarize).collect();
    let step_ratio = LEVELS
        .iter()
        .map(|&l| {
            let key = level_key(l);
            let steps = |i: usize| runs.get(i).and_then(|r| r.steps_to_loss[&key]);
            let ratio = match (steps(0), steps(1)) {
                (Some(a), Some(b)) => Some(a as f64 / b as f64),
                _ => None,
            };
            (key, ratio)
        })
        .collect();
    Summary {
        device: config.device.to_string(),
        dataset,
        synthetic,
        protocol: config.protocol.name.to_string(),
        batch_size: results
            .first()
            .map_or(config.protocol.batch_size, |r| r.batch_size),
        study: format!("{:?}", config.study).to_lowercase(),
        smoothing_steps: SMOOTHING,
        runs,
        step_ratio,
    }
}

/// Computes the summary and writes `train.csv`, `eval.csv` and `summary.json` into
/// `config.out`.
pub fn write_all(
    config: &ExperimentConfig,
    origin: &DataOrigin,
    results: &[RunResult],
) -> anyhow::Result<Summary> {
    let summary = summary(config, origin.to_string(), origin.is_synthetic(), results);
    let tag = origin.tag();
    let mut train = String::from("run,step,loss,smoothed_loss,dataset\n");
    for r in results {
        let smooth = smoothed(&r.record.train_loss);
        for (i, (l, s)) in r.record.train_loss.iter().zip(&smooth).enumerate() {
            let _ = writeln!(train, "{},{},{l},{s},{tag}", r.spec.name, i + 1);
        }
    }
    let mut eval = String::from("run,step,test_loss,test_accuracy,dataset\n");
    for r in results {
        for e in &r.record.evals {
            let _ = writeln!(
                eval,
                "{},{},{},{},{tag}",
                r.spec.name, e.step, e.loss, e.accuracy
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

/// `f(v)`, or `-` for a missing value: a cell of a summary table.
pub(crate) fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or("-".to_string(), f)
}

/// The summary as a text table.
pub fn table(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "data: {}   device: {}   protocol: {} (batch {})",
        s.dataset, s.device, s.protocol, s.batch_size
    );
    let ratio_label =
        (s.runs.len() == 2).then(|| format!("ratio {}/{}", s.runs[0].name, s.runs[1].name));
    let width = s
        .runs
        .iter()
        .map(|r| r.name.len())
        .chain(ratio_label.as_ref().map(String::len))
        .max()
        .unwrap_or(0)
        .max(16)
        + 2;
    let _ = write!(out, "{:<width$}", "run");
    for l in LEVELS {
        let _ = write!(out, "{:>9}", format!("->{l}"));
    }
    let _ = writeln!(
        out,
        "{:>7}{:>11}{:>10}{:>10}{:>10}{:>10}{:>9}{:>9}",
        "steps", "train loss", "best acc", "final acc", "best tl", "final tl", "wall s", "img/s"
    );
    for r in &s.runs {
        let _ = write!(out, "{:<width$}", r.name);
        for l in LEVELS {
            let _ = write!(
                out,
                "{:>9}",
                opt(r.steps_to_loss[&level_key(l)], |v| v.to_string())
            );
        }
        let _ = writeln!(
            out,
            "{:>7}{:>11}{:>10}{:>10}{:>10}{:>10}{:>9.1}{:>9.0}",
            r.steps,
            opt(r.final_train_loss, |v| format!("{v:.4}")),
            opt(r.best_test_accuracy, |v| format!("{:.1}%", v * 100.0)),
            opt(r.final_test_accuracy, |v| format!("{:.1}%", v * 100.0)),
            opt(r.best_test_loss, |v| format!("{v:.3}")),
            opt(r.final_test_loss, |v| format!("{v:.3}")),
            r.wall_seconds,
            r.images_per_second
        );
    }
    if let Some(label) = ratio_label {
        let _ = write!(out, "{label:<width$}");
        for l in LEVELS {
            let _ = write!(
                out,
                "{:>9}",
                opt(s.step_ratio[&level_key(l)], |v| format!("{v:.1}x"))
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "(->L: first step whose {}-step mean training loss is <= L; tl: test loss)",
        s.smoothing_steps
    );
    out
}

/// Prints [`table`].
pub fn print_table(s: &Summary) {
    say!("\n{}", table(s));
}
