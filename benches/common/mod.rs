//! Shared by the op benches: seeded inputs, the devices to compare, and a timed call that
//! waits for the GPU.

// Each bench uses a different subset of these helpers.
#![allow(dead_code)]

use criterion::{BenchmarkGroup, BenchmarkId, Throughput};
use kiln_tensor::random::Rng;
use kiln_tensor::test_util::gpu_or_skip;
use kiln_tensor::{Device, Result, Tensor};
use std::time::Duration;

/// Seeded values in `[-1, 1)`.
pub fn random(len: usize, seed: u64) -> Vec<f32> {
    Rng::new(seed).uniform_vec(len, -1.0, 1.0)
}

/// The devices to compare: the CPU, and the GPU when an adapter opens (lavapipe included;
/// without one the GPU rows are skipped with a note on stderr).
pub fn devices() -> Vec<Device> {
    std::iter::once(Device::Cpu).chain(gpu_or_skip()).collect()
}

/// Few samples of a few seconds: a slow device (lavapipe) must still finish.
pub fn configure(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_millis(500));
}

/// One input of an op: its values, its shape, and whether gradients flow to it.
pub struct Input {
    pub values: Vec<f32>,
    pub dims: Vec<usize>,
    pub grad: bool,
}

impl Input {
    /// Seeded values in `[-1, 1)` of shape `dims`, without gradient.
    pub fn random(dims: &[usize], seed: u64) -> Input {
        Input {
            values: random(dims.iter().product(), seed),
            dims: dims.to_vec(),
            grad: false,
        }
    }

    /// The same input, with gradients flowing to it.
    pub fn with_grad(self) -> Input {
        Input { grad: true, ..self }
    }
}

/// Benchmarks `op` on `device` with `inputs` copied there, reporting `throughput` per call
/// (flops as elements, so criterion's elements/s read as FLOP/s; or bytes). `op` runs the
/// forward pass, and its own backward when it returns a scalar that tracks gradients; gradients
/// are cleared between iterations. Each iteration waits for the device: the GPU records work
/// and runs it at the next read-back, so a one-element read-back ends every iteration.
pub fn bench_op(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    device: Device,
    inputs: &[Input],
    throughput: Throughput,
    op: impl Fn(&[Tensor]) -> Result<Tensor>,
) {
    let inputs: Vec<Tensor> = inputs
        .iter()
        .map(|i| {
            let t = Tensor::from_slice(&i.values, &i.dims)
                .and_then(|t| t.to_device(device))
                .expect("input on the device");
            if i.grad {
                t.requires_grad()
            } else {
                t
            }
        })
        .collect();
    let sync = Tensor::zeros(&[1]).to_device(device).expect("sync tensor");
    group.throughput(throughput);
    group.bench_function(id, |b| {
        b.iter(|| {
            let out = op(&inputs).expect("op");
            if out.tracks_grad() {
                out.backward().expect("backward");
                inputs.iter().for_each(Tensor::zero_grad);
            }
            sync.to_vec().expect("sync");
            out
        })
    });
}

/// `Σ y ⊙ gy`: backward from it sends the upstream gradient `gy` into `y`'s graph.
pub fn pull(y: &Tensor, gy: &Tensor) -> Result<Tensor> {
    y.mul(gy)?.sum_all()
}
