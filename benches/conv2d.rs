//! The example model's convolutions (3x3, no padding: 3->30 stride 2 on 32x32, 30->50 on 15x15,
//! 50->60 on 13x13) forward, backward-data and backward-weight, CPU and GPU side by side, in
//! GFLOP/s (criterion's elements/s are flops: `2 * c_out * c_in*kh*kw * n*oh*ow` per pass).
//!
//! Batch 128 by default; `KILN_BENCH_BATCH` overrides it.

mod common;

use common::{bench_op, configure, devices, random};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kiln_tensor::kernels::Conv2dDims;
use kiln_tensor::{Kernels, Result, Storage};

/// `(c_in, c_out, input side, stride)` of the model's three convolutions.
const LAYERS: [(usize, usize, usize, usize); 3] =
    [(3, 30, 32, 2), (30, 50, 15, 1), (50, 60, 13, 1)];

type Pass = fn(&dyn Kernels, &[Storage], Conv2dDims) -> Result<Storage>;

fn conv2d(c: &mut Criterion) {
    let batch = std::env::var("KILN_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    let passes: [(&str, Pass); 3] = [
        ("conv2d_forward", |k, s, d| k.conv2d(&s[0], &s[1], d)),
        ("conv2d_backward_data", |k, s, d| {
            k.conv2d_backward_data(&s[2], &s[1], d)
        }),
        ("conv2d_backward_weight", |k, s, d| {
            k.conv2d_backward_weight(&s[0], &s[2], d)
        }),
    ];
    for (pass_name, pass) in passes {
        let mut group = c.benchmark_group(pass_name);
        configure(&mut group);
        for (c_in, c_out, side, stride) in LAYERS {
            let out = (side - 3) / stride + 1;
            let d = Conv2dDims {
                n: batch,
                c_in,
                h: side,
                w: side,
                c_out,
                kh: 3,
                kw: 3,
                stride: (stride, stride),
                pad: (0, 0),
                oh: out,
                ow: out,
            };
            // x, w and an output gradient gy.
            let inputs = [
                random(batch * c_in * side * side, 1),
                random(c_out * c_in * 9, 2),
                random(batch * c_out * out * out, 3),
            ];
            let flops = 2 * (c_out * c_in * 9 * batch * out * out) as u64;
            let layer = format!("{c_in}x{side}x{side}->{c_out} s{stride}");
            for (name, kernels) in devices() {
                bench_op(
                    &mut group,
                    BenchmarkId::new(name, &layer),
                    kernels,
                    &inputs,
                    Throughput::Elements(flops),
                    |k, s| pass(k, s, d),
                );
            }
        }
        group.finish();
    }
}

criterion_group!(benches, conv2d);
criterion_main!(benches);
