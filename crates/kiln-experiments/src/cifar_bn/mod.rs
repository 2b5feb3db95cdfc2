//! The batch-norm experiment behind `examples/cifar_bn`: the article's CNN trained on
//! CIFAR-10 with and without batch normalization (or one of the follow-up comparisons), with
//! curves, a summary table, and files to keep.
//!
//! Shared by the example's command line and by the test that runs it end to end on tiny
//! settings.

pub mod config;
pub mod folder;
pub mod live;
pub mod model;
#[cfg(not(target_arch = "wasm32"))]
pub mod plot;
pub mod report;
pub mod train;

pub use config::{BnPlacement, ExperimentConfig, Protocol, Study};
pub use report::Summary;

#[cfg(not(target_arch = "wasm32"))]
use {
    anyhow::Context,
    kiln::data::{DataOrigin, Dataset},
    std::sync::atomic::AtomicBool,
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
    plot::draw(&config.out, &results, &origin.to_string())?;
    report::print_table(&summary);
    Ok(summary)
}
