//! Chapter 5: the three matrix-product kernels against a CPU reference in f64, on sizes chosen
//! to break tiling: 1, primes, and non-multiples of the 16 and 64 blocks and of the K step.

use kiln_book_listings::matmul::{matmul, KERNELS};
use kiln_book_listings::Gpu;

/// `C = A · B` in f64, the obvious triple loop.
fn reference(a: &[f32], b: &[f32], (m, k, n): (usize, usize, usize)) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k)
                .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                .sum();
        }
    }
    c
}

/// Deterministic values in [-1, 1].
fn values(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|i| (((i * 7919 + seed * 104_729) % 2001) as f32 - 1000.0) / 1000.0)
        .collect()
}

#[test]
fn every_kernel_matches_the_reference() {
    let Some(gpu) = Gpu::for_test() else { return };
    let shapes = [
        (1, 1, 1),
        (3, 5, 7),
        (16, 16, 16),
        (17, 15, 13),
        (64, 64, 64),
        (65, 33, 130),
        (100, 1, 3),
        (2, 300, 2),
    ];
    for kernel in KERNELS {
        for (case, &(m, k, n)) in shapes.iter().enumerate() {
            let (a, b) = (values(m * k, case), values(k * n, case + 100));
            let got = matmul(&gpu, kernel, &a, &b, (m, k, n));
            let want = reference(&a, &b, (m, k, n));
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                let tol = 1e-4 + 2e-6 * k as f64 + 1e-3 * w.abs();
                assert!(
                    (*g as f64 - w).abs() <= tol,
                    "{} [{m}, {k}] x [{k}, {n}]: element {i} is {g}, expected {w}",
                    kernel.name()
                );
            }
        }
    }
}
