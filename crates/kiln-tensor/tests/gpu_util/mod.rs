//! Helpers shared by the GPU test files: a seeded generator, host/GPU transfers through the
//! kernel interface, and tolerance checks.

#![allow(dead_code)] // each test file uses a different subset

use kiln_tensor::cpu::CpuKernels;
use kiln_tensor::gpu::GpuKernels;
use kiln_tensor::{Kernels, Storage};

/// SplitMix64: a tiny seeded generator, so every case is reproducible from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let u = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * u
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    pub fn vec(&mut self, len: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..len).map(|_| self.uniform(lo, hi)).collect()
    }
}

/// Awkward sizes: 1, primes, and values around and beyond the workgroup size of 256.
pub const SIZES: [usize; 10] = [1, 2, 3, 7, 13, 31, 97, 255, 257, 1031];

/// `data` as GPU storage.
pub fn gpu(data: &[f32]) -> Storage {
    GpuKernels
        .upload(&Storage::F32(data.to_vec()))
        .expect("upload")
}

/// `data` as CPU `f64` storage, for references free of f32 rounding.
pub fn cpu(data: &[f32]) -> Storage {
    Storage::F64(data.iter().map(|&v| v.into()).collect())
}

/// GPU storage read back.
pub fn read_gpu(s: &Storage) -> Vec<f32> {
    GpuKernels
        .read_f64(s)
        .expect("read back")
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

/// CPU storage read as `f64`.
pub fn read_cpu(s: &Storage) -> Vec<f64> {
    CpuKernels.read_f64(s).expect("read")
}

/// Asserts `|got - want| <= atol + rtol * |want|` elementwise (NaN only against NaN).
pub fn assert_close(what: &str, got: &[f32], want: &[f64], atol: f64, rtol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let g = f64::from(g);
        let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= atol + rtol * w.abs();
        assert!(
            ok,
            "{what}: element {i} is {g}, expected {w} (atol {atol}, rtol {rtol})"
        );
    }
}

/// The f32 tolerance for a result summed over `len` terms of magnitude about `scale`.
pub fn sum_atol(len: usize, scale: f64) -> f64 {
    1e-4 * scale * (len as f64).sqrt().max(1.0)
}
