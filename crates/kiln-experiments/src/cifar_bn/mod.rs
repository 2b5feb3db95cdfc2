//! The batch-norm experiment behind `examples/cifar_bn`: the article's CNN trained on
//! CIFAR-10 with and without batch normalization (or one of the follow-up comparisons), with
//! curves, a summary table, and files to keep.
//!
//! Shared by the example's command line and by the test that runs it end to end on tiny
//! settings.

pub mod config;
pub mod live;
pub mod model;
pub mod report;
pub mod train;

pub use config::{BnPlacement, ExperimentConfig, Protocol, Study};
pub use report::Summary;

use crate::folder::Program;
#[cfg(not(target_arch = "wasm32"))]
use {
    crate::plot::{self, Panel},
    anyhow::Context,
    kiln::data::{DataOrigin, Dataset},
    std::sync::atomic::AtomicBool,
    train::RunResult,
};

/// The example's output folders: `run.json`, checkpoints and these files.
pub const PROGRAM: Program = Program {
    name: "cifar_bn",
    outputs: &[
        "train.csv",
        "eval.csv",
        "summary.json",
        "loss.png",
        "loss.svg",
    ],
};

/// Runs every run of `config.study` on `train`/`test`, writes the outputs into `config.out`,
/// prints the table, and returns the summary. `stop` ends the current run early when set
/// (Ctrl-C); what was measured until then is still written.
#[cfg(not(target_arch = "wasm32"))]
pub fn run(
    config: &ExperimentConfig,
    train: &Dataset,
    test: &Dataset,
    origin: &DataOrigin,
    stop: &AtomicBool,
) -> anyhow::Result<Summary> {
    std::fs::create_dir_all(&config.out)
        .with_context(|| format!("creating {}", config.out.display()))?;
    let mut results = Vec::new();
    for spec in config.runs() {
        let result = train::run(config, &spec, train, test, stop)?;
        results.push(result);
        // Keep the files current, so an interrupted comparison still leaves its data.
        report::write_all(config, origin, &results)?;
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
    }
    let summary = report::write_all(config, origin, &results)?;
    let title = format!("kiln cifar_bn on {}", plot::short_name(&origin.to_string()));
    plot::draw(&config.out, "loss", &title, &figure(&results))?;
    report::print_table(&summary);
    Ok(summary)
}

/// The article's figures: the training loss (smoothed) and the test loss against steps.
#[cfg(not(target_arch = "wasm32"))]
fn figure(results: &[RunResult]) -> [Panel; 2] {
    let by_step = |values: &[f32]| -> Vec<(f32, f32)> {
        (1..).zip(values).map(|(i, &l)| (i as f32, l)).collect()
    };
    let train = results
        .iter()
        .map(|r| {
            let smooth = report::smoothed(&r.record.train_loss);
            (r.spec.name.clone(), by_step(&smooth))
        })
        .collect();
    let test = results
        .iter()
        .map(|r| {
            let points = r.record.evals.iter();
            let points = points.map(|e| (e.step as f32, e.loss)).collect();
            (r.spec.name.clone(), points)
        })
        .collect();
    [
        Panel {
            title: format!("training loss ({}-step mean)", report::SMOOTHING),
            x_label: "step",
            y_label: "loss",
            series: train,
            markers: false,
        },
        Panel {
            title: "test loss".to_string(),
            x_label: "step",
            y_label: "loss",
            series: test,
            markers: true,
        },
    ]
}
