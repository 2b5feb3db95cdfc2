//! Shared by the kernel benches: seeded inputs, the devices to compare, and a timed call that
//! waits for the GPU.

use criterion::{BenchmarkGroup, BenchmarkId, Throughput};
use kiln_tensor::cpu::CpuKernels;
use kiln_tensor::gpu::GpuKernels;
use kiln_tensor::test_util::gpu_or_skip;
use kiln_tensor::{Kernels, Result, Storage};
use rand::{RngExt, SeedableRng};
use std::time::Duration;

/// Seeded values in `[-1, 1)`.
pub fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..len).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect()
}

/// The devices to compare: the CPU, and the GPU when an adapter opens (lavapipe included;
/// without one the GPU rows are skipped with a note on stderr).
pub fn devices() -> Vec<(&'static str, &'static dyn Kernels)> {
    let mut out: Vec<(&'static str, &'static dyn Kernels)> = vec![("cpu", &CpuKernels)];
    if gpu_or_skip().is_some() {
        out.push(("gpu", &GpuKernels));
    }
    out
}

/// Few samples of a few seconds: a slow device (lavapipe) must still finish.
pub fn configure(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_millis(500));
}

/// Benchmarks `op` on `kernels` with `inputs` copied to its device, reporting `throughput`
/// per call (flops as elements, so criterion's elements/s read as FLOP/s; or bytes). Each iteration waits for the device: the GPU records work and runs
/// it at the next read-back, so a one-element read-back ends every iteration.
pub fn bench_op(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    kernels: &dyn Kernels,
    inputs: &[Vec<f32>],
    throughput: Throughput,
    op: impl Fn(&dyn Kernels, &[Storage]) -> Result<Storage>,
) {
    let upload = |v: &[f32]| kernels.upload(&Storage::F32(v.to_vec())).expect("upload");
    let inputs: Vec<Storage> = inputs.iter().map(|v| upload(v)).collect();
    let sync = upload(&[0.0]);
    group.throughput(throughput);
    group.bench_function(id, |b| {
        b.iter(|| {
            let out = op(kernels, &inputs).expect("kernel");
            kernels.read_f64(&sync).expect("sync");
            out
        })
    });
}
