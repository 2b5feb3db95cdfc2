//! Chapter 5: every matrix-product kernel validates with naga on any machine, and matches an f64
//! triple loop on a GPU adapter (lavapipe counts), on sizes chosen to break tiling: 1, primes,
//! one past a block (16, 32, 64, 128) or a k step (8, 16), k = 0, and a long k with a tiny C.

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
fn every_shader_validates() {
    for kernel in KERNELS {
        let source = kernel.source();
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{}:\n{}", kernel.name(), e.emit_to_string(&source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}:\n{}", kernel.name(), e.emit_to_string(&source)));
    }
}

#[test]
fn every_kernel_matches_the_reference() {
    let Some(gpu) = Gpu::for_test() else { return };
    let shapes = [
        (1, 1, 1),
        (3, 5, 7),
        (8, 8, 8),
        (16, 16, 16),
        (17, 15, 13),
        (17, 9, 13),
        (64, 8, 32),
        (64, 64, 64),
        (65, 33, 33),
        (65, 33, 130),
        (129, 17, 65),
        (131, 7, 97),
        (100, 1, 3),
        (2, 300, 2),
        (1, 0, 5),
    ];
    for kernel in KERNELS {
        for (case, &(m, k, n)) in shapes.iter().enumerate() {
            let (a, b) = (values(m * k, case), values(k * n, case + 100));
            let got = matmul(&gpu, kernel, &a, &b, (m, k, n));
            let want = reference(&a, &b, (m, k, n));
            assert_eq!(got.len(), want.len());
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
