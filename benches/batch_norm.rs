//! Batch norm over the example model's layer shapes (batch 128): forward (statistics and
//! normalization) and backward, CPU and GPU side by side, in GB/s. The bytes counted are the
//! tensors a pass must touch once: `x` read and `y` written forward; `gy` and `x` read and `gx`
//! written backward.

mod common;

use common::{bench_op, configure, devices, random};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kiln_tensor::kernels::BnDims;
use kiln_tensor::{Kernels, Result, Storage};

/// `(channels, spatial)` at the input of each batch-norm layer of the model.
const LAYERS: [(usize, usize); 6] = [
    (3, 32 * 32),
    (30, 15 * 15),
    (50, 13 * 13),
    (7260, 1),
    (3500, 1),
    (700, 1),
];

type Pass = fn(&dyn Kernels, &[Storage], BnDims) -> Result<Storage>;

fn batch_norm(c: &mut Criterion) {
    let n = 128;
    let passes: [(&str, Pass, u64); 2] = [
        (
            "batch_norm_forward",
            |k, s, d| {
                let (mean, var) = k.bn_stats(&s[0], d)?;
                k.bn_normalize(&s[0], &mean, &var, Some(&s[1]), Some(&s[2]), 1e-3, d)
            },
            2,
        ),
        (
            "batch_norm_backward",
            |k, s, d| {
                let (gx, _, _) =
                    k.bn_backward(&s[3], &s[0], &s[4], &s[5], Some(&s[1]), 1e-3, d, true)?;
                Ok(gx)
            },
            3,
        ),
    ];
    for (pass_name, pass, tensors) in passes {
        let mut group = c.benchmark_group(pass_name);
        configure(&mut group);
        for (channels, spatial) in LAYERS {
            let d = BnDims {
                n,
                c: channels,
                spatial,
            };
            let len = n * channels * spatial;
            // x, gamma, beta, gy, mean, variance (kept positive).
            let var: Vec<f32> = random(channels, 6).iter().map(|v| v * v + 0.5).collect();
            let inputs = [
                random(len, 1),
                random(channels, 2),
                random(channels, 3),
                random(len, 4),
                random(channels, 5),
                var,
            ];
            let bytes = Throughput::Bytes(tensors * (len * 4) as u64);
            for (name, kernels) in devices() {
                let id = BenchmarkId::new(name, format!("{channels}x{spatial}"));
                bench_op(&mut group, id, kernels, &inputs, bytes.clone(), |k, s| {
                    pass(k, s, d)
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, batch_norm);
criterion_main!(benches);
