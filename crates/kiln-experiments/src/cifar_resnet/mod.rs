//! The batch-norm question asked of a modern network, behind `examples/cifar_resnet`: ResNet-9
//! trained on CIFAR-10 with the fast record's recipe, with batch norm and without it (at the
//! largest learning rate that does not diverge in a short sweep), with accuracy curves, a summary
//! table and files to keep.

pub mod config;
pub mod report;
pub mod train;

pub use config::{Preset, ResNetConfig, RunSpec, Study};
pub use report::Summary;

use crate::cifar_bn::report::{smoothed, SMOOTHING};
use crate::folder::Program;
use crate::plot::{self, Panel};
use anyhow::Context;
use kiln::data::{DataOrigin, Dataset};
use std::sync::atomic::{AtomicBool, Ordering};
use train::RunResult;

/// The example's output folders: `run.json`, checkpoints and these files.
pub const PROGRAM: Program = Program {
    name: "cifar_resnet",
    outputs: &[
        "train.csv",
        "eval.csv",
        "summary.json",
        "curves.png",
        "curves.svg",
    ],
};

/// Runs the study of `config` on `train`/`test`: the sweep (when the rate without batch norm
/// is not given) and the runs, writing the files into `config.out` after each run, and prints
/// the table. `stop` ends the current run early (Ctrl-C); what was measured until then is
/// still written.
pub fn run(
    config: &ResNetConfig,
    train: &Dataset,
    test: &Dataset,
    origin: &DataOrigin,
    stop: &AtomicBool,
) -> anyhow::Result<Summary> {
    std::fs::create_dir_all(&config.out)
        .with_context(|| format!("creating {}", config.out.display()))?;
    let stopped = || stop.load(Ordering::Relaxed);
    let (mut sweep, mut results) = (Vec::new(), Vec::new());
    let mut specs = vec![config.bn_run()];
    if config.study == Study::Bn {
        let lr = match config.no_bn_lr {
            Some(lr) => Some(lr),
            None => sweep_rate(config, train, test, origin, stop, &mut sweep)?,
        };
        let lr = lr.unwrap_or_else(|| {
            let smallest = config.sweep_runs().last().map_or(config.lr, |r| r.lr);
            if !stopped() {
                note!(
                    "every rate of the sweep diverges without batch norm; the run takes {smallest}"
                );
            }
            smallest
        });
        specs.insert(0, config.no_bn_run(lr));
    }
    for spec in specs {
        if stopped() {
            break;
        }
        results.push(train::run(config, &spec, train, test, stop)?);
        // Keep the files current, so an interrupted comparison still leaves its data.
        report::write_all(config, origin, &sweep, &results)?;
    }
    let summary = report::write_all(config, origin, &sweep, &results)?;
    let title = format!(
        "kiln cifar_resnet on {}",
        plot::short_name(&origin.to_string())
    );
    plot::draw(&config.out, "curves", &title, &figure(&results))?;
    say!("\n{}", report::table(&summary));
    Ok(summary)
}

// ANCHOR: sweep
/// The sweep without batch norm, largest rate first, until one does not diverge: its rate, or
/// `None` when every one does (or a signal stopped the sweep). The runs are appended to `sweep`.
fn sweep_rate(
    config: &ResNetConfig,
    train: &Dataset,
    test: &Dataset,
    origin: &DataOrigin,
    stop: &AtomicBool,
    sweep: &mut Vec<RunResult>,
) -> anyhow::Result<Option<f32>> {
    for spec in config.sweep_runs() {
        let result = train::run(config, &spec, train, test, stop)?;
        let diverged = report::sweep_point(&result).diverged;
        sweep.push(result);
        report::write_all(config, origin, sweep, &[])?;
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        if !diverged {
            return Ok(Some(spec.lr));
        }
    }
    Ok(None)
}
// ANCHOR_END: sweep

/// The curves: training loss (smoothed) and test accuracy against epochs.
fn figure(results: &[RunResult]) -> [Panel; 2] {
    let train = results
        .iter()
        .map(|r| {
            let smooth = smoothed(&r.record.train_loss);
            let points = (1..)
                .zip(smooth)
                .map(|(step, l)| (r.epochs_at(step) as f32, l));
            (r.spec.name.clone(), points.collect())
        })
        .collect();
    let test = results
        .iter()
        .map(|r| {
            let points = r.record.evals.iter();
            let points = points.map(|e| (r.epochs_at(e.step) as f32, e.accuracy));
            (r.spec.name.clone(), points.collect())
        })
        .collect();
    [
        Panel {
            title: format!("training loss ({SMOOTHING}-step mean)"),
            x_label: "epoch",
            y_label: "loss",
            series: train,
            markers: false,
        },
        Panel {
            title: "test accuracy".to_string(),
            x_label: "epoch",
            y_label: "accuracy",
            series: test,
            markers: true,
        },
    ]
}
