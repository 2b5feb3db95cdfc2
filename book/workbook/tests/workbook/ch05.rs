//! Chapter 5: the tiled product, on the CPU and in WGSL, against kiln's `matmul` on sizes
//! that break tiling.

use crate::support::{assert_close, cases, entry_point, random_f32, uniform, valid_module};
use kiln::tensor::Tensor;
use kiln_workbook::{ch04, ch05, Gpu};
use proptest::prelude::*;

/// `[m, k, n]` shapes: 1, primes, one past a tile, a long `k` with tiny `m` and `n`.
const SHAPES: [[usize; 3]; 8] = [
    [1, 1, 1],
    [3, 5, 7],
    [16, 16, 16],
    [17, 15, 13],
    [33, 1, 40],
    [2, 300, 2],
    [65, 33, 17],
    [40, 70, 1],
];

/// `A · Bᵀ` by kiln (`A` `[m, k]`, `B` `[n, k]`).
fn kiln_product(a: &[f32], b: &[f32], [m, k, n]: [usize; 3]) -> Vec<f32> {
    let a = Tensor::from_slice(a, &[m, k]).expect("a");
    let b = Tensor::from_slice(b, &[n, k]).expect("b");
    a.matmul(&b.t())
        .and_then(|c| c.to_vec())
        .expect("kiln's matmul")
}

/// Compares with kiln within `f32` rounding, which grows with the length `k` of the sums.
#[track_caller]
fn check(got: &[f32], a: &[f32], b: &[f32], shape: [usize; 3]) {
    let want = kiln_product(a, b, shape);
    let atol = 1e-5 + 2e-6 * shape[1] as f64;
    assert_close(got, &want, atol, 1e-4, &format!("[m, k, n] = {shape:?}"));
}

fn operands([m, k, n]: [usize; 3], seed: u64) -> (Vec<f32>, Vec<f32>) {
    (random_f32(m * k, seed), random_f32(n * k, seed + 1))
}

mod matmul_tiled_cpu {
    use super::*;

    #[test]
    fn matches_kiln() {
        for (i, shape) in SHAPES.into_iter().enumerate() {
            let (a, b) = operands(shape, i as u64);
            let [m, k, n] = shape;
            check(&ch05::matmul_tiled_cpu(&a, &b, m, k, n), &a, &b, shape);
        }
    }

    proptest! {
        #![proptest_config(cases(16))]
        #[test]
        fn matches_kiln_on_random_shapes(m in 1usize..40, k in 1usize..40, n in 1usize..40) {
            let (a, b) = operands([m, k, n], (m * 10_000 + k * 100 + n) as u64);
            check(&ch05::matmul_tiled_cpu(&a, &b, m, k, n), &a, &b, [m, k, n]);
        }
    }
}

mod matmul_tiled_wgsl {
    use super::*;

    #[test]
    fn validates_with_naga() {
        valid_module(ch05::MATMUL_TILED_WGSL);
    }

    /// Workgroups of 16 x 16, at least two 16 x 16 tiles of `f32` in workgroup memory, and
    /// barriers: a tiled kernel, not a naive one.
    #[test]
    fn is_tiled() {
        let module = valid_module(ch05::MATMUL_TILED_WGSL);
        assert_eq!(entry_point(&module, "main").workgroup_size, [16, 16, 1]);
        let tiles = module
            .global_variables
            .iter()
            .filter(|(_, var)| var.space == naga::AddressSpace::WorkGroup)
            .filter(|(_, var)| module.types[var.ty].inner.size(module.to_ctx()) >= 16 * 16 * 4)
            .count();
        assert!(
            tiles >= 2,
            "{tiles} workgroup arrays of 16 x 16 f32 or more, expected 2"
        );
        let code: String = ch05::MATMUL_TILED_WGSL
            .lines()
            .map(|line| line.split("//").next().unwrap_or(""))
            .collect();
        assert!(code.contains("workgroupBarrier()"), "no barrier");
    }

    #[test]
    fn matches_kiln_on_the_gpu() {
        let Some(gpu) = Gpu::for_test() else { return };
        for (i, shape) in SHAPES.into_iter().enumerate() {
            let (a, b) = operands(shape, 100 + i as u64);
            let [m, k, n] = shape;
            let params = uniform(&[m as u32, n as u32, k as u32]);
            let grid = [n.div_ceil(16) as u32, m.div_ceil(16) as u32, 1];
            let got = ch04::run_compute(
                &gpu,
                ch05::MATMUL_TILED_WGSL,
                "main",
                &[&a, &b],
                m * n,
                &params,
                grid,
            );
            check(&got, &a, &b, shape);
        }
    }
}
