//! The batch-norm question asked of a modern network: ResNet-9, the network of the fast
//! CIFAR-10 training records, trained with their recipe (SGD with Nesterov momentum, a
//! one-cycle learning rate, label smoothing, crop, flip and cutout) with and without batch
//! norm. Without it, the run takes the largest learning rate that a short sweep finds to train.
//!
//! `cargo run --example cifar_resnet --release` uses real CIFAR-10 from `data/` (downloading
//! it when missing) or, offline, a synthetic CIFAR-10-format dataset, announced as such. On a
//! hardware GPU it runs the record's network and recipe (width 64, batch 512, 24 epochs); on
//! the CPU the `cpu` protocol, a quarter of the width for 10 epochs of 10,000 images, sized for
//! under 15 minutes on two cores. `--help` lists the options.
//!
//! Output folders, `--resume`, `--overwrite` and signals work as in `cifar_bn`.

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use kiln::tensor::Device;
use kiln_experiments::cifar_resnet::{self as experiment, Preset, ResNetConfig, Study, PROGRAM};
use kiln_experiments::cli::{self, at_least_one, positive_finite, RunArgs, Signals};
use kiln_experiments::resnet9::RECORD_WIDTH;
use kiln_experiments::say;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ProtocolArg {
    /// The record: width 64, batch 512, 24 epochs, all the data.
    Record,
    /// Width 16, batch 512, 10 epochs of the first 10000 training images, the test accuracy
    /// on 2000 test images (under 15 min on 2 CPU cores).
    Cpu,
}

impl ProtocolArg {
    fn preset(self) -> Preset {
        match self {
            ProtocolArg::Record => Preset::RECORD,
            ProtocolArg::Cpu => Preset::CPU,
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
    /// Protocol [default: record on a GPU, cpu on the CPU].
    #[arg(long, value_enum)]
    protocol: Option<ProtocolArg>,
    /// Which comparison to run.
    #[arg(long, value_enum, default_value = "bn")]
    study: Study,
    /// Override the channel width of the first convolution (the record's is 64).
    #[arg(long, value_parser = at_least_one)]
    width: Option<usize>,
    /// Override the batch size.
    #[arg(long, value_parser = at_least_one)]
    batch_size: Option<usize>,
    /// Override the epochs of each run.
    #[arg(long, value_parser = at_least_one)]
    epochs: Option<usize>,
    /// Override the epochs of each learning-rate sweep run.
    #[arg(long, value_parser = at_least_one)]
    sweep_epochs: Option<usize>,
    /// Use the first N training images only [default: the protocol's: all with record,
    /// 10000 with cpu].
    #[arg(long, value_parser = at_least_one)]
    train_images: Option<usize>,
    /// Evaluate on the first N test images only [default: the protocol's: all with record,
    /// 2000 with cpu].
    #[arg(long, value_parser = at_least_one)]
    eval_images: Option<usize>,
    /// Seed of the weights, the data order and the augmentation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Peak learning rate with batch norm.
    #[arg(long, default_value_t = experiment::config::recipe::LR, value_parser = positive_finite)]
    lr: f32,
    /// Peak learning rate without batch norm [default: the largest that does not diverge in
    /// the sweep].
    #[arg(long, value_parser = positive_finite)]
    no_bn_lr: Option<f32>,
}

/// Trains ResNet-9 on CIFAR-10 with and without batch normalization.
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
        Study::Record => &["no_bn_lr", "sweep_epochs"],
    };
    cli::refuse_overridden(&matches, settings.study, overridden)?;
    // The protocol's sizes fill what the flags leave open, and are stored in `run.json` as
    // resolved, so a resumed run keeps them.
    let preset = settings
        .protocol
        .get_or_insert(match device {
            Device::Gpu => ProtocolArg::Record,
            Device::Cpu => ProtocolArg::Cpu,
        })
        .preset();
    let width = *settings.width.get_or_insert(preset.width);
    let batch_size = *settings.batch_size.get_or_insert(preset.batch_size);
    let epochs = *settings.epochs.get_or_insert(preset.epochs);
    let sweep_epochs = *settings.sweep_epochs.get_or_insert(preset.sweep_epochs);
    settings.train_images = settings.train_images.or(preset.train_images);
    settings.eval_images = settings.eval_images.or(preset.eval_images);

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
    let config = ResNetConfig {
        device,
        protocol: preset.name,
        study: settings.study,
        width,
        batch_size,
        epochs,
        sweep_epochs,
        eval_limit: settings.eval_images,
        lr: settings.lr,
        no_bn_lr: settings.no_bn_lr,
        seed: settings.seed,
        out,
        checkpoint_every: args.run.checkpoint_every,
        resume: args.run.resume.clone(),
        progress: true,
    };

    let batch = batch_size.min(train.len());
    let eval_images = config.eval_limit.map_or(test.len(), |l| l.min(test.len()));
    say!("kiln cifar_resnet: {:?} study", config.study);
    say!("  device:   {}", cli::describe(device));
    say!("  data:     {origin}");
    say!(
        "  protocol: {} (ResNet-9 of width {width}, batch {batch}, {epochs} epochs of {} \
         images, test accuracy after each epoch on {eval_images} images)",
        preset.name,
        train.len()
    );
    if config.study == Study::Bn {
        match config.no_bn_lr {
            Some(lr) => say!("  no-bn lr: {lr} (given)"),
            None => say!(
                "  no-bn lr: the largest of {:?} that does not diverge in {sweep_epochs} epochs",
                config.sweep_runs().iter().map(|r| r.lr).collect::<Vec<_>>()
            ),
        }
    }
    let differences = differences_from_record(
        &config,
        batch,
        (train.len(), all_train_images),
        (eval_images, test.len()),
    );
    if !differences.is_empty() {
        let why = match preset.purpose {
            Some(purpose) => format!(", {purpose}; --protocol record for the real thing"),
            None => " (set by flags)".to_string(),
        };
        say!("  differs from the record: {}{why}", differences.join(", "));
    }
    say!("  output:   {}", config.out.display());

    let summary = experiment::run(&config, &train, &test, &origin, &signals.stop)?;
    say!(
        "wrote train.csv, eval.csv, summary.json, curves.png and curves.svg to {}",
        config.out.display()
    );
    if summary.synthetic {
        say!("note: these results are on SYNTHETIC data, not CIFAR-10");
    }
    Ok(signals.exit_code())
}

/// What the run does otherwise than the record (width 64, batch 512, 24 epochs of all the
/// training images, the test accuracy on all test images, peak rate 0.4), one phrase each.
/// `train_images` and `eval_images` are (used, all).
fn differences_from_record(
    config: &ResNetConfig,
    batch: usize,
    train_images: (usize, usize),
    eval_images: (usize, usize),
) -> Vec<String> {
    let record = Preset::RECORD;
    let mut out = Vec::new();
    if config.width != RECORD_WIDTH {
        out.push(format!("width {} instead of {RECORD_WIDTH}", config.width));
    }
    if batch != record.batch_size {
        out.push(format!("batch {batch} instead of {}", record.batch_size));
    }
    if config.epochs != record.epochs {
        out.push(format!(
            "{} epochs instead of {}",
            config.epochs, record.epochs
        ));
    }
    if train_images.0 < train_images.1 {
        out.push(format!(
            "the first {} of {} training images",
            train_images.0, train_images.1
        ));
    }
    if eval_images.0 < eval_images.1 {
        out.push(format!(
            "test accuracy on the first {} of {} test images",
            eval_images.0, eval_images.1
        ));
    }
    if config.lr != experiment::config::recipe::LR {
        out.push(format!(
            "peak learning rate {} instead of {}",
            config.lr,
            experiment::config::recipe::LR
        ));
    }
    out
}
