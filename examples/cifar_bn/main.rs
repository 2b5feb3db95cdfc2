//! The batch-norm comparison on CIFAR-10: the same CNN trained without and with batch
//! normalization, from the same weights and data order.
//!
//! `cargo run --example cifar_bn --release` uses real CIFAR-10 from `data/` (downloading it
//! when missing) or, offline, a synthetic CIFAR-10-format dataset, announced as such. On a
//! hardware GPU it runs the article's protocol (batch 5000, 400 and 100 steps); on the CPU a
//! quick one sized for a few minutes. `--help` lists the options.

mod experiment;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use experiment::{BnPlacement, ExperimentConfig, Protocol, Study};
use kiln::data::{Cifar10, DataSource};
use kiln::tensor::Device;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DeviceArg {
    /// A hardware GPU if there is one, else the CPU.
    Auto,
    Cpu,
    Gpu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProtocolArg {
    /// Batch 5000; 400 steps without and 100 with batch norm; evaluation every 20 steps.
    Article,
    /// Batch 200; 400 and 100 steps; evaluation every 20 steps on 2000 test images (for CPUs).
    Quick,
}

/// Trains the article's CNN on CIFAR-10 with and without batch normalization.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Where to train.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceArg,
    /// Folder holding (or receiving) `cifar-10-batches-bin/`, and the synthetic data cache.
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// Use the synthetic CIFAR-10-format dataset even if real data is available.
    #[arg(long)]
    synthetic: bool,
    /// Do not try to download CIFAR-10 when it is missing.
    #[arg(long)]
    no_download: bool,
    /// Training protocol [default: article on a GPU, quick on the CPU].
    #[arg(long, value_enum)]
    protocol: Option<ProtocolArg>,
    /// Override the protocol's batch size.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Override the steps of runs without batch norm.
    #[arg(long)]
    steps_no_bn: Option<usize>,
    /// Override the steps of runs with batch norm.
    #[arg(long)]
    steps_bn: Option<usize>,
    /// Override how often (in steps) the test set is evaluated.
    #[arg(long)]
    eval_every: Option<usize>,
    /// Evaluate on the first N test images only [default: all, or 2000 with --protocol quick].
    #[arg(long)]
    eval_images: Option<usize>,
    /// Use the first N training images only.
    #[arg(long)]
    train_images: Option<usize>,
    /// Seed of the weights (and of dropout).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    /// Output folder [default: runs/cifar_bn/<timestamp>].
    #[arg(long)]
    out: Option<PathBuf>,
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
    /// Widths of the two hidden dense layers.
    #[arg(long, num_args = 2, value_names = ["H1", "H2"], default_values_t = [3500, 700])]
    hidden: Vec<usize>,
    /// Save a checkpoint every N steps into <out>/checkpoints (0: never).
    #[arg(long, default_value_t = 0)]
    checkpoint_every: usize,
    /// Continue from the checkpoints of an earlier output folder.
    #[arg(long)]
    resume: Option<PathBuf>,
}

fn device(arg: DeviceArg) -> anyhow::Result<Device> {
    Ok(match arg {
        DeviceArg::Cpu => Device::Cpu,
        DeviceArg::Gpu => {
            kiln::tensor::gpu::adapter_summary().context("--device gpu: no usable GPU")?;
            Device::Gpu
        }
        DeviceArg::Auto => kiln::tensor::default_device()?,
    })
}

fn timestamp() -> String {
    chrono::Local::now().format("%Y%m%d-%H%M%S").to_string()
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let device = device(args.device)?;
    let mut protocol = match args.protocol {
        Some(ProtocolArg::Article) => Protocol::ARTICLE,
        Some(ProtocolArg::Quick) => Protocol::QUICK,
        None if device == Device::Gpu => Protocol::ARTICLE,
        None => Protocol::QUICK,
    };
    protocol.batch_size = args.batch_size.unwrap_or(protocol.batch_size);
    protocol.steps_no_bn = args.steps_no_bn.unwrap_or(protocol.steps_no_bn);
    protocol.steps_bn = args.steps_bn.unwrap_or(protocol.steps_bn);
    protocol.eval_every = args.eval_every.unwrap_or(protocol.eval_every).max(1);
    let quick = protocol.name == Protocol::QUICK.name;

    let source = if args.synthetic {
        DataSource::Synthetic(Default::default())
    } else {
        DataSource::Auto {
            download: !args.no_download,
        }
    };
    let (train, test, origin) = Cifar10::load_or_synthetic(&args.data, source)?;
    let train = experiment::train::head(&train, args.train_images)?;
    let config = ExperimentConfig {
        device,
        protocol,
        study: args.study,
        placement: args.bn_placement,
        affine: !args.no_affine,
        dropout: args.dropout,
        hidden: (args.hidden[0], args.hidden[1]),
        eval_limit: args.eval_images.or(quick.then_some(2000)),
        seed: args.seed,
        lr: args.lr,
        out: args
            .out
            .unwrap_or_else(|| PathBuf::from("runs/cifar_bn").join(timestamp())),
        checkpoint_every: args.checkpoint_every,
        resume: args.resume,
        progress: true,
    };

    let device_name = match device {
        Device::Gpu => format!("gpu ({})", kiln::tensor::gpu::adapter_summary()?),
        Device::Cpu => format!("cpu ({} threads)", rayon::current_num_threads()),
    };
    println!("kiln cifar_bn: {:?} study", config.study);
    println!("  device:   {device_name}");
    println!("  data:     {origin}");
    println!(
        "  protocol: {} (batch {}, {} steps without / {} with batch norm, test every {} steps on {} images)",
        protocol.name,
        protocol.batch_size,
        protocol.steps_no_bn,
        protocol.steps_bn,
        protocol.eval_every,
        config.eval_limit.map_or(test.len(), |l| l.min(test.len()))
    );
    println!("  output:   {}", config.out.display());
    let estimate = experiment::train::estimate_seconds(&config, &train, &test)?;
    println!(
        "  estimate: about {:.0} s ({:.1} min)",
        estimate,
        estimate / 60.0
    );

    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        eprintln!("\nCtrl-C: finishing the current step and writing what was measured");
        flag.store(true, Ordering::Relaxed);
    })?;
    let summary = experiment::run(&config, &train, &test, &origin, &stop)?;
    println!(
        "wrote train.csv, eval.csv, summary.json, loss.png and loss.svg to {}",
        config.out.display()
    );
    if summary.synthetic {
        println!("note: these results are on SYNTHETIC data, not CIFAR-10");
    }
    Ok(())
}
