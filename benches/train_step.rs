//! One training step of the example's model (forward, softmax cross-entropy, backward, Adam),
//! with batch norm at every layer input, at batch 32 (`KILN_BENCH_BATCH` overrides it), on the
//! CPU and on the GPU when an adapter opens. Reported as images per second.

use kiln_experiments::cifar_bn::{config, model};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kiln::nn::{Adam, AdamConfig, Module};
use kiln::tensor::{Device, Tensor};

fn train_step(c: &mut Criterion) {
    let batch = std::env::var("KILN_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let spec = config::RunSpec {
        name: "bench".into(),
        batch_norm: true,
        placement: config::BnPlacement::Input,
        affine: true,
        dropout: None,
        steps: 1,
    };
    let mut group = c.benchmark_group("train_step");
    // Few samples: a step takes seconds on a software GPU adapter.
    group.sample_size(10);
    group.throughput(Throughput::Elements(batch as u64));
    let mut devices = vec![Device::Cpu];
    devices.extend(kiln::tensor::test_util::gpu_or_skip());
    for device in devices {
        let mut net = model::build(&spec, (3500, 700), 0).expect("model");
        net.to_device(device).expect("to device");
        let mut adam = Adam::new(net.parameters(), AdamConfig::default()).expect("adam");
        let x = Tensor::rand_uniform(&[batch, 3, 32, 32], 0.0, 1.0, 1)
            .to_device(device)
            .expect("input");
        let labels: Vec<u32> = (0..batch as u32).map(|i| i % 10).collect();
        group.bench_function(BenchmarkId::new(device.to_string(), batch), |b| {
            // Reading the loss back waits for the device.
            b.iter(|| model::train_step(&net, &mut adam, &x, &labels).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, train_step);
criterion_main!(benches);
