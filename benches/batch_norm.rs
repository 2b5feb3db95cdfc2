//! Batch norm in train mode over the example model's layer shapes (batch 128): the forward pass
//! (statistics and normalization), and the forward and backward passes, CPU and GPU side by
//! side, in GB/s. The bytes counted are the tensors a pass must touch once: `x` read and `y`
//! written forward; `gy` and `x` read and `gx` written backward.

mod common;

use common::{bench_op, configure, devices, pull, Input};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// `(channels, spatial)` at the input of each batch-norm layer of the model.
const LAYERS: [(usize, usize); 6] = [
    (3, 32 * 32),
    (30, 15 * 15),
    (50, 13 * 13),
    (7260, 1),
    (3500, 1),
    (700, 1),
];

fn batch_norm(c: &mut Criterion) {
    let n = 128;
    // (name, full-size tensors touched, gradients flow)
    let cases = [
        ("batch_norm_forward", 2, false),
        ("batch_norm_forward_backward", 5, true),
    ];
    for (case, tensors, grad) in cases {
        let mut group = c.benchmark_group(case);
        configure(&mut group);
        for (channels, spatial) in LAYERS {
            let dims = [n, channels, spatial];
            let x = Input::random(&dims, 1);
            let inputs = [
                if grad { x.with_grad() } else { x },
                Input::random(&[channels], 2),
                Input::random(&[channels], 3),
                Input::random(&dims, 4),
            ];
            let bytes = Throughput::Bytes(tensors * (n * channels * spatial * 4) as u64);
            for device in devices() {
                let id = BenchmarkId::new(device.to_string(), format!("{channels}x{spatial}"));
                bench_op(&mut group, id, device, &inputs, bytes.clone(), |t| {
                    let (y, _) = t[0].batch_norm_train(Some(&t[1]), Some(&t[2]), 1e-3)?;
                    if grad {
                        pull(&y, &t[3])
                    } else {
                        Ok(y)
                    }
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, batch_norm);
criterion_main!(benches);
