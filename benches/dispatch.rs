//! The fixed cost of one operation: a chain of small elementwise ops (`y = 0.5 y + x` on 256
//! elements, two dispatches per link) ended by a one-element read-back, reported as ops per
//! second. On a hardware GPU the kernels take a few microseconds, so this measures the host
//! side of a dispatch: recording, bind groups, submission. On lavapipe every dispatch also
//! wakes the driver's worker threads, which dominates.

mod common;

use common::configure;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kiln::tensor::{Device, Tensor};

/// Links per iteration.
const LINKS: usize = 256;

fn dispatch(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch");
    configure(&mut group);
    group.throughput(Throughput::Elements(2 * LINKS as u64));
    let mut devices = vec![Device::Cpu];
    devices.extend(kiln::tensor::test_util::gpu_or_skip());
    for device in devices {
        let x = Tensor::rand_uniform(&[256], -1.0, 1.0, 1)
            .to_device(device)
            .expect("input");
        group.bench_function(BenchmarkId::new(device.to_string(), LINKS), |b| {
            b.iter(|| {
                let mut y = x.clone();
                for _ in 0..LINKS {
                    y = y.mul_scalar(0.5).unwrap().add(&x).unwrap();
                }
                y.sum_all().unwrap().item().unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
