//! The example model's convolutions (3x3, no padding: 3->30 stride 2 on 32x32, 30->50 on 15x15,
//! 50->60 on 13x13), CPU and GPU side by side, in GFLOP/s (criterion's elements/s are flops:
//! `2 * c_out * c_in*kh*kw * n*oh*ow` per pass). Three cases per layer: the forward pass; the
//! forward pass and backward-data (the gradient flows to the input only); the forward pass and
//! backward-weight (to the weight only). A backward pass's time is its case's less the forward's.
//!
//! Batch 128 by default; `KILN_BENCH_BATCH` overrides it.

mod common;

use common::{bench_op, configure, devices, pull, Input};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kiln_tensor::Conv2dOptions;

/// `(c_in, c_out, input side, stride)` of the model's three convolutions.
const LAYERS: [(usize, usize, usize, usize); 3] =
    [(3, 30, 32, 2), (30, 50, 15, 1), (50, 60, 13, 1)];

fn conv2d(c: &mut Criterion) {
    let batch = std::env::var("KILN_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    // (name, passes counted, gradient to x, gradient to w)
    let cases = [
        ("conv2d_forward", 1, false, false),
        ("conv2d_forward_backward_data", 2, true, false),
        ("conv2d_forward_backward_weight", 2, false, true),
    ];
    for (case, passes, grad_x, grad_w) in cases {
        let mut group = c.benchmark_group(case);
        configure(&mut group);
        for (c_in, c_out, side, stride) in LAYERS {
            let out = (side - 3) / stride + 1;
            let opts = Conv2dOptions {
                stride: (stride, stride),
                ..Default::default()
            };
            let x = Input::random(&[batch, c_in, side, side], 1);
            let w = Input::random(&[c_out, c_in, 3, 3], 2);
            let inputs = [
                if grad_x { x.with_grad() } else { x },
                if grad_w { w.with_grad() } else { w },
                Input::random(&[batch, c_out, out, out], 3),
            ];
            let flops = passes * 2 * (c_out * c_in * 9 * batch * out * out) as u64;
            let layer = format!("{c_in}x{side}x{side}->{c_out} s{stride}");
            for device in devices() {
                bench_op(
                    &mut group,
                    BenchmarkId::new(device.to_string(), &layer),
                    device,
                    &inputs,
                    Throughput::Elements(flops),
                    |t| {
                        let y = t[0].conv2d(&t[1], None, opts)?;
                        if passes == 1 {
                            Ok(y)
                        } else {
                            pull(&y, &t[2])
                        }
                    },
                );
            }
        }
        group.finish();
    }
}

criterion_group!(benches, conv2d);
criterion_main!(benches);
