//! Times training steps and prints one line in the form of the PyTorch reference script
//! `benches/torch_reference.py`, so the two can be compared in one run on one machine:
//!
//! `kiln <version> model=M device=D threads=T batch=B bn=X step_ms=... images_per_s=...`
//!
//! The model is the article's CNN (forward, softmax cross-entropy, backward, Adam), or with
//! `--model resnet9` the ResNet-9 of the fast CIFAR-10 recipe (forward, cross-entropy with label
//! smoothing 0.2, backward, SGD with Nesterov momentum 0.9 and weight decay 5e-4).
//!
//! With `--matmul N` it also times an `N x N` f32 matrix product: `sgemm N GFLOP/s ...`. On the
//! GPU, a first line names the adapter (`adapter gpu (...)`), `--profile` adds the GPU time of
//! every kernel of one step (timestamp queries), and the product's line its kernel's own
//! GFLOP/s. `--f16-operands` runs the GPU's products and convolutions with operands rounded to
//! f16 (`MatmulPrecision::F16Operands`), and `--subgroups` its batch-norm reductions with
//! subgroup operations (`with_subgroup_reductions`).

use kiln_experiments::cifar_bn::{config, model};
use kiln_experiments::cifar_resnet::{self, config::recipe};
use kiln_experiments::resnet9;

use clap::{Parser, ValueEnum};
use kiln::nn::{Adam, AdamConfig, Module};
use kiln::tensor::{
    gpu, with_matmul_precision, with_subgroup_reductions, Device, MatmulPrecision, Result, Tensor,
};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DeviceArg {
    Cpu,
    Gpu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModelArg {
    /// The article's CNN of the cifar_bn example.
    CifarBn,
    /// ResNet-9 at the record's width.
    Resnet9,
}

/// Times training steps of the cifar_bn model or of ResNet-9.
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceArg,
    #[arg(long, value_enum, default_value = "cifar-bn")]
    model: ModelArg,
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// With batch norm at every layer input (the default).
    #[arg(long, overrides_with = "no_bn")]
    bn: bool,
    /// Without batch norm.
    #[arg(long)]
    no_bn: bool,
    /// Timed steps, after two warm-up steps.
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Also time an N x N matrix product.
    #[arg(long, default_value_t = 0)]
    matmul: usize,
    /// GPU only: print the time of each kernel of one more step, from timestamp queries.
    #[arg(long)]
    profile: bool,
    /// GPU only: round the operands of matrix products and convolutions to f16.
    #[arg(long)]
    f16_operands: bool,
    /// GPU only: batch-norm reductions with subgroup operations.
    #[arg(long)]
    subgroups: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    for (flag, set) in [
        ("--f16-operands", args.f16_operands),
        ("--subgroups", args.subgroups),
    ] {
        if set && args.device != DeviceArg::Gpu {
            anyhow::bail!("{flag} picks a variant of GPU kernels: it needs --device gpu");
        }
    }
    let precision = if args.f16_operands {
        MatmulPrecision::F16Operands
    } else {
        MatmulPrecision::F32
    };
    with_matmul_precision(precision, || {
        with_subgroup_reductions(args.subgroups, || run(&args))
    })
}

fn run(args: &Args) -> anyhow::Result<()> {
    let device = match args.device {
        DeviceArg::Cpu => Device::Cpu,
        DeviceArg::Gpu => Device::Gpu,
    };
    if args.profile && device != Device::Gpu {
        anyhow::bail!("--profile times GPU kernels: it needs --device gpu");
    }
    if device == Device::Gpu {
        println!("adapter {}", device.describe());
    }
    let bn = !args.no_bn;
    let x = Tensor::rand_uniform(&[args.batch, 3, 32, 32], 0.0, 1.0, 1).to_device(device)?;
    let labels: Vec<u32> = (0..args.batch as u32).map(|i| i * 7 % 10).collect();
    let mut step: Box<dyn FnMut() -> Result<f32>> = match args.model {
        ModelArg::CifarBn => {
            let spec = config::RunSpec {
                name: "timing".into(),
                batch_norm: bn,
                placement: config::BnPlacement::Input,
                affine: true,
                dropout: None,
                steps: args.steps,
            };
            let mut net = model::build(&spec, (3500, 700), 0)?;
            net.to_device(device)?;
            let mut adam = Adam::new(net.parameters(), AdamConfig::default())?;
            let x = x.clone();
            let labels = labels.clone();
            Box::new(move || model::train_step(&net, &mut adam, &x, &labels))
        }
        ModelArg::Resnet9 => {
            let mut net = resnet9::build(resnet9::RECORD_WIDTH, bn, 0)?;
            net.to_device(device)?;
            let mut sgd = cifar_resnet::train::sgd(net.parameters(), recipe::LR)?;
            let x = x.clone();
            let labels = labels.clone();
            Box::new(move || cifar_resnet::train::train_step(&net, &mut sgd, &x, &labels))
        }
    };
    for _ in 0..2 {
        step()?;
    }
    let t = Instant::now();
    for _ in 0..args.steps {
        step()?;
    }
    let dt = t.elapsed().as_secs_f64() / args.steps as f64;
    println!(
        "kiln {} model={} device={} threads={} batch={} bn={} step_ms={:.1} images_per_s={:.0}",
        env!("CARGO_PKG_VERSION"),
        match args.model {
            ModelArg::CifarBn => "cifar_bn",
            ModelArg::Resnet9 => "resnet9",
        },
        device,
        rayon::current_num_threads(),
        args.batch,
        if bn { "True" } else { "False" },
        dt * 1e3,
        args.batch as f64 / dt
    );
    if args.profile {
        // A profile that cannot be taken (no timestamp queries) costs its table, not the rest.
        match gpu::profile(&mut step) {
            Ok((_, profile)) => println!("{profile}"),
            Err(e) => println!("profile unavailable: {e}"),
        }
    }
    if args.matmul > 0 {
        let n = args.matmul;
        let a = Tensor::rand_uniform(&[n, n], 0.0, 1.0, 2).to_device(device)?;
        let b = Tensor::rand_uniform(&[n, n], 0.0, 1.0, 3).to_device(device)?;
        for _ in 0..3 {
            a.matmul(&b)?.sum_all()?.item()?;
        }
        let reps = matmul_reps(n, device);
        let t = Instant::now();
        let mut last = None;
        for _ in 0..reps {
            last = Some(a.matmul(&b)?);
        }
        // Reading one value waits for queued GPU work.
        last.expect("reps > 0").sum_all()?.item()?;
        let dt = t.elapsed().as_secs_f64() / reps as f64;
        let kernel = if args.profile {
            let profile = gpu::profile(|| a.matmul(&b)?.sum_all()?.item());
            // `matmul_batched:main`, or its f16 twin; `none` when it was not timed.
            let gflops = profile.ok().and_then(|(_, profile)| {
                profile
                    .kernels
                    .iter()
                    .find(|k| k.kernel.starts_with("matmul_batched"))
                    .and_then(|k| k.gflops_per_s())
            });
            gflops.map_or(" kernel_GFLOP/s none".into(), |g| {
                format!(" kernel_GFLOP/s {g:.1}")
            })
        } else {
            String::new()
        };
        println!(
            "sgemm {n} GFLOP/s {:.1}{kernel}",
            2.0 * (n as f64).powi(3) / dt / 1e9
        );
    }
    Ok(())
}

/// Timed repetitions of an `n x n` product, as in `benches/torch_reference.py`: at least 10,
/// and about 2e11 flops in all on the CPU (about a second), so that small products are timed
/// over many calls; on a GPU about 2e13 (half a second at 40 TFLOP/s) but at most 1000 calls,
/// which small products spend in dispatching.
fn matmul_reps(n: usize, device: Device) -> usize {
    let flops = 2.0 * (n as f64).powi(3);
    let reps = if device == Device::Cpu {
        2e11 / flops
    } else {
        (2e13 / flops).min(1000.0)
    };
    reps.ceil().max(10.0) as usize
}
