//! The batch-norm comparison on CIFAR-10: the same CNN trained without and with batch
//! normalization, from the same weights and data order.
//!
//! `cargo run --example cifar_bn --release` uses real CIFAR-10 from `data/` (downloading it
//! when missing) or, offline, a synthetic CIFAR-10-format dataset, announced as such. On a
//! hardware GPU it runs the article's protocol (batch 5000, 400 and 100 steps); on the CPU the
//! `cpu` one, the article's steps at batch 1000 with narrower dense layers and fewer training
//! images, sized for about 10 minutes on two cores. `--help` lists the options.
//!
//! Each run gets a fresh output folder; `--resume DIR` continues an earlier one from its
//! checkpoints with the settings stored in `DIR/run.json`. SIGINT and SIGTERM finish the current
//! step, write what was measured, and exit with 130 and 143; a second signal exits at once.

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use kiln::tensor::Device;
use kiln_experiments::cifar_bn::config::Preset;
use kiln_experiments::cifar_bn::{self as experiment, PROGRAM};
use kiln_experiments::cifar_bn::{BnPlacement, ExperimentConfig, Study};
use kiln_experiments::cli::{self, at_least_one, positive_finite, RunArgs, Signals};
use kiln_experiments::say;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ProtocolArg {
    /// Batch 5000; 400 steps without and 100 with batch norm; evaluation every 20 steps.
    Article,
    /// Batch 1000 of the first 10000 training images, dense layers 500 and 100; 400 and 100
    /// steps; evaluation every 20 steps on 1000 test images (about 10 min on 2 CPU cores).
    Cpu,
    /// Batch 200; 400 and 100 steps; evaluation every 20 steps on 2000 test images (a few
    /// minutes on 2 CPU cores).
    Quick,
}

impl ProtocolArg {
    fn preset(self) -> Preset {
        match self {
            ProtocolArg::Article => Preset::ARTICLE,
            ProtocolArg::Cpu => Preset::CPU,
            ProtocolArg::Quick => Preset::QUICK,
        }
    }
}

/// The settings that shape a run's numbers: stored in `run.json`, taken from there by
/// `--resume`, and compared with any of them given again.
#[derive(Debug, Clone, clap::Args, serde::Serialize, serde::Deserialize)]
struct Settings {
    /// Use the synthetic CIFAR-10-format dataset even if real data is available.
    #[arg(long)]
    synthetic: bool,
    /// Training protocol [default: article on a GPU, cpu on the CPU].
    #[arg(long, value_enum)]
    protocol: Option<ProtocolArg>,
    /// Override the protocol's batch size.
    #[arg(long, value_parser = at_least_one)]
    batch_size: Option<usize>,
    /// Override the steps of runs without batch norm.
    #[arg(long, value_parser = at_least_one)]
    steps_no_bn: Option<usize>,
    /// Override the steps of runs with batch norm.
    #[arg(long, value_parser = at_least_one)]
    steps_bn: Option<usize>,
    /// Override how often (in steps) the test set is evaluated.
    #[arg(long, value_parser = at_least_one)]
    eval_every: Option<usize>,
    /// Evaluate on the first N test images only [default: the protocol's: all with
    /// article, 1000 with cpu, 2000 with quick].
    #[arg(long, value_parser = at_least_one)]
    eval_images: Option<usize>,
    /// Use the first N training images only [default: the protocol's: all with article and
    /// quick, 10000 with cpu].
    #[arg(long, value_parser = at_least_one)]
    train_images: Option<usize>,
    /// Seed of the weights (and of dropout).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3, value_parser = positive_finite)]
    lr: f32,
    /// Where batch norm goes in the main comparison.
    #[arg(long, value_enum, default_value = "input")]
    bn_placement: BnPlacement,
    /// Batch norm without scale and shift.
    #[arg(long)]
    no_affine: bool,
    /// Dropout 0.4 and 0.5 after the hidden dense layers.
    #[arg(long)]
    dropout: bool,
    /// Which comparison to run.
    #[arg(long, value_enum, default_value = "bn")]
    study: Study,
    /// Widths of the two hidden dense layers [default: the protocol's: 3500 700 with article
    /// and quick, 500 100 with cpu].
    #[arg(long, num_args = 2, value_names = ["H1", "H2"], value_parser = at_least_one)]
    hidden: Option<Vec<usize>>,
}

/// Trains the article's CNN on CIFAR-10 with and without batch normalization.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    settings: Settings,
}

fn main() -> ExitCode {
    cli::main(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let signals = Signals::register()?;
    let matches = Args::command().get_matches();
    let mut args = Args::from_arg_matches(&matches)?;
    let device = cli::device(args.run.device)?;
    let mut settings = args.run.settings(&PROGRAM, &args.settings, &matches)?;
    let overridden: &[&str] = match settings.study {
        Study::Bn => &[],
        Study::Affine => &["no_affine"],
        Study::Placement | Study::Dropout => &["bn_placement"],
    };
    cli::refuse_overridden(&matches, settings.study, overridden)?;
    // The protocol's sizes fill what the flags leave open, and are stored in `run.json` as
    // resolved, so a resumed run keeps them.
    let preset = settings
        .protocol
        .get_or_insert(match device {
            Device::Gpu => ProtocolArg::Article,
            Device::Cpu => ProtocolArg::Cpu,
        })
        .preset();
    let hidden = settings
        .hidden
        .get_or_insert_with(|| vec![preset.hidden.0, preset.hidden.1]);
    let hidden = (hidden[0], hidden[1]);
    settings.train_images = settings.train_images.or(preset.train_images);
    settings.eval_images = settings.eval_images.or(preset.eval_images);
    let mut protocol = preset.protocol;
    protocol.batch_size = settings.batch_size.unwrap_or(protocol.batch_size);
    protocol.steps_no_bn = settings.steps_no_bn.unwrap_or(protocol.steps_no_bn);
    protocol.steps_bn = settings.steps_bn.unwrap_or(protocol.steps_bn);
    protocol.eval_every = settings.eval_every.unwrap_or(protocol.eval_every);

    let (train, test, origin) = args.run.load_data(&mut settings.synthetic)?;
    if signals.stopped() {
        return Ok(signals.exit_code());
    }
    let all_train_images = train.len();
    let train = settings
        .train_images
        .map_or(train.clone(), |n| train.first(n));
    // Held until the program ends: no other run writes into the folder meanwhile.
    let (out, _lock) = args.run.output_folder(&PROGRAM, &settings)?;
    let config = ExperimentConfig {
        device,
        protocol,
        study: settings.study,
        placement: settings.bn_placement,
        affine: !settings.no_affine,
        dropout: settings.dropout,
        hidden,
        eval_limit: settings.eval_images,
        seed: settings.seed,
        lr: settings.lr,
        out,
        checkpoint_every: args.run.checkpoint_every,
        resume: args.run.resume.clone(),
        progress: true,
    };

    let device_name = cli::describe(device);
    let batch = protocol.batch_size.min(train.len());
    let capped = if batch < protocol.batch_size {
        format!(", capped at the {} training images", train.len())
    } else {
        String::new()
    };
    let eval_images = config.eval_limit.map_or(test.len(), |l| l.min(test.len()));
    say!("kiln cifar_bn: {:?} study", config.study);
    say!("  device:   {device_name}");
    say!("  data:     {origin}");
    say!(
        "  protocol: {} (batch {batch}{capped}, {} steps without / {} with batch norm, test every {} steps on {} images)",
        protocol.name,
        protocol.steps_no_bn,
        protocol.steps_bn,
        protocol.eval_every,
        eval_images
    );
    let differences = differences_from_article(
        &config,
        batch,
        (train.len(), all_train_images),
        (eval_images, test.len()),
    );
    if !differences.is_empty() {
        let why = match preset.purpose {
            Some(purpose) => format!(", {purpose}; --protocol article for the real thing"),
            None => " (set by flags)".to_string(),
        };
        say!(
            "  differs from the article: {}{why}",
            differences.join(", ")
        );
    }
    say!("  output:   {}", config.out.display());
    let estimate = experiment::train::estimate_seconds(&config, &train, &test)?;
    say!(
        "  estimate: about {:.0} s ({:.1} min)",
        estimate,
        estimate / 60.0
    );

    let summary = experiment::run(&config, &train, &test, &origin, &signals.stop)?;
    say!(
        "wrote train.csv, eval.csv, summary.json, loss.png and loss.svg to {}",
        config.out.display()
    );
    if summary.synthetic {
        say!("note: these results are on SYNTHETIC data, not CIFAR-10");
    }
    Ok(signals.exit_code())
}

/// What the run does otherwise than the article's protocol (batch 5000, 400 and 100 steps,
/// dense layers of 3500 and 700, all training images, the test loss every 20 steps on all test
/// images, Adam at 1e-3), one phrase each. `train_images` and `eval_images` are (used, all).
fn differences_from_article(
    config: &ExperimentConfig,
    batch: usize,
    train_images: (usize, usize),
    eval_images: (usize, usize),
) -> Vec<String> {
    let (article, p) = (Preset::ARTICLE, &config.protocol);
    let mut out = Vec::new();
    if batch != article.protocol.batch_size {
        out.push(format!(
            "batch {batch} instead of {}",
            article.protocol.batch_size
        ));
    }
    let steps = (p.steps_no_bn, p.steps_bn);
    let article_steps = (article.protocol.steps_no_bn, article.protocol.steps_bn);
    if steps != article_steps {
        out.push(format!(
            "{} and {} steps instead of {} and {}",
            steps.0, steps.1, article_steps.0, article_steps.1
        ));
    }
    if config.hidden != article.hidden {
        out.push(format!(
            "dense widths {}/{} instead of {}/{}",
            config.hidden.0, config.hidden.1, article.hidden.0, article.hidden.1
        ));
    }
    if train_images.0 < train_images.1 {
        out.push(format!(
            "the first {} of {} training images",
            train_images.0, train_images.1
        ));
    }
    if p.eval_every != article.protocol.eval_every {
        out.push(format!(
            "test loss every {} steps instead of {}",
            p.eval_every, article.protocol.eval_every
        ));
    }
    if eval_images.0 < eval_images.1 {
        out.push(format!(
            "test loss on the first {} of {} test images",
            eval_images.0, eval_images.1
        ));
    }
    if config.lr != 1e-3 {
        out.push(format!("learning rate {} instead of 0.001", config.lr));
    }
    out
}
