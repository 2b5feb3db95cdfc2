//! Helpers shared by the kernel tests: host/GPU transfers through the kernel interface and the
//! tolerance of long sums.

use crate::cpu::CpuKernels;
use crate::gpu::GpuKernels;
pub(super) use crate::random::Rng;
pub(super) use crate::test_util::assert_close;
use crate::{Kernels, Storage};

/// Awkward sizes: 1, primes, and values around and beyond the workgroup size of 256.
pub(super) const SIZES: [usize; 10] = [1, 2, 3, 7, 13, 31, 97, 255, 257, 1031];

/// `data` as GPU storage.
pub(super) fn gpu(data: &[f32]) -> Storage {
    GpuKernels
        .upload(&Storage::F32(data.to_vec()))
        .expect("upload")
}

/// `data` as CPU `f64` storage, for references free of f32 rounding.
pub(super) fn cpu(data: &[f32]) -> Storage {
    Storage::F64(data.iter().map(|&v| v.into()).collect())
}

/// GPU storage read back.
pub(super) fn read_gpu(s: &Storage) -> Vec<f32> {
    GpuKernels
        .read_f64(s)
        .expect("read back")
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

/// CPU storage read as `f64`.
pub(super) fn read_cpu(s: &Storage) -> Vec<f64> {
    CpuKernels.read_f64(s).expect("read")
}

/// The f32 tolerance for a result summed over `len` terms of magnitude about `scale`.
pub(super) fn sum_atol(len: usize, scale: f64) -> f64 {
    1e-4 * scale * (len as f64).sqrt().max(1.0)
}
