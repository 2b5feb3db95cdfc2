//! Square matrix products, CPU (the `gemm` crate) and GPU (the tiled WGSL kernel) side by side,
//! in GFLOP/s (criterion's elements/s are flops: `2 n³` per product).
//!
//! Sizes 256, 512 and 1024 by default; `KILN_BENCH_LARGE=1` adds 2048 and 4096 (minutes on a
//! software GPU such as lavapipe).

mod common;

use common::{bench_op, configure, devices, Input};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn matmul(c: &mut Criterion) {
    let mut sizes = vec![256, 512, 1024];
    if std::env::var("KILN_BENCH_LARGE").is_ok_and(|v| v == "1") {
        sizes.extend([2048, 4096]);
    }
    let mut group = c.benchmark_group("matmul");
    configure(&mut group);
    for n in sizes {
        let inputs = [Input::random(&[n, n], 1), Input::random(&[n, n], 2)];
        for device in devices() {
            bench_op(
                &mut group,
                BenchmarkId::new(device.to_string(), n),
                device,
                &inputs,
                Throughput::Elements(2 * (n as u64).pow(3)),
                |t| t[0].matmul(&t[1]),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, matmul);
criterion_main!(benches);
