//! The GPU matmul and conv2d kernels against the CPU reference, on seeded random inputs.
//!
//! Sizes are chosen to break tiling bugs: 1, primes, and non-multiples of the blocks (128 x 64
//! for the matrix product, 64 x 64 for the convolutions) and of the 8-deep K step; every
//! transpose combination, batched and shared operands; strides 1 and 2, no, symmetric and
//! asymmetric padding, 1x1, 3x3 and 5x3 kernels, batches 1 and primes, and reductions long
//! enough for backward-weight to split K. A value passes when
//! `|gpu - cpu| <= atol + rtol * |cpu|` with `rtol = 1e-3` and `atol = 1e-4 + 2e-6 * len`, `len`
//! being the length of the sum behind it (f32 rounding grows with it).

use crate::cpu::CpuKernels;
use crate::gpu::{GpuContext, GpuKernels};
use crate::kernels::{Conv2dDims, MatmulDims};
use crate::random::Rng;
use crate::test_util::gpu_or_skip;
use crate::{with_matmul_precision, Kernels, MatmulPrecision, Result, Storage};

/// Seeded values in `[-1, 1)`.
fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.range(-1.0, 1.0)).collect()
}

// ANCHOR: check
/// Runs `op` on the CPU reference and on the GPU with the same `inputs`, and compares.
fn check(
    case: &str,
    inputs: &[Vec<f32>],
    len: usize,
    op: impl Fn(&dyn Kernels, &[Storage]) -> Result<Storage>,
) {
    let cpu_inputs: Vec<Storage> = inputs.iter().map(|v| Storage::F32(v.clone())).collect();
    let gpu_inputs: Vec<Storage> = cpu_inputs
        .iter()
        .map(|s| GpuKernels.upload(s).expect("upload"))
        .collect();
    let want = CpuKernels
        .read_f64(&op(&CpuKernels, &cpu_inputs).expect("cpu"))
        .expect("cpu read");
    let got = GpuKernels
        .read_f64(&op(&GpuKernels, &gpu_inputs).unwrap_or_else(|e| panic!("{case}: {e}")))
        .expect("gpu read");
    assert_eq!(got.len(), want.len(), "{case}: output length");
    let atol = 1e-4 + 2e-6 * len as f64;
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() <= atol + 1e-3 * w.abs(),
            "{case}: element {i} is {g}, the CPU says {w}"
        );
    }
}
// ANCHOR_END: check

// ANCHOR: matmul_cases
/// `(batch, m, k, n, a_batched, b_batched)`.
/// The single products with few output blocks and a long K are split along K.
const MATMUL_CASES: [(usize, usize, usize, usize, bool, bool); 19] = [
    (1, 1, 1, 1, true, true),
    (1, 1, 7, 1, true, true),
    (1, 5, 1, 3, true, true),
    (1, 13, 17, 11, true, true),
    (1, 32, 300, 130, true, true),
    (2, 32, 9, 260, true, false),
    (1, 64, 64, 64, true, true),
    (1, 65, 31, 67, true, true),
    (1, 127, 16, 3, true, true),
    (1, 3, 211, 5, true, true),
    (1, 130, 97, 131, true, true),
    (1, 5, 1000, 7, true, true),
    (1, 70, 2053, 3, true, true),
    (1, 1, 4099, 130, true, true),
    (3, 17, 23, 19, true, true),
    (4, 33, 9, 70, false, true),
    (2, 70, 12, 5, true, false),
    (5, 1, 37, 2, false, false),
    (2, 0, 3, 4, true, true),
];
// ANCHOR_END: matmul_cases

#[test]
fn matmul_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    for (case, &(batch, m, k, n, a_batched, b_batched)) in MATMUL_CASES.iter().enumerate() {
        for (trans_a, trans_b) in [(false, false), (true, false), (false, true), (true, true)] {
            let d = MatmulDims {
                batch,
                m,
                k,
                n,
                trans_a,
                trans_b,
                a_batched,
                b_batched,
            };
            let a_len = if a_batched { batch } else { 1 } * m * k;
            let b_len = if b_batched { batch } else { 1 } * k * n;
            let seed = case as u64 * 8;
            let inputs = [random(a_len, seed), random(b_len, seed + 1)];
            check(&format!("{d:?}"), &inputs, k, |kern, s| {
                kern.matmul(&s[0], &s[1], d)
            });
        }
    }
}

/// A convolution of `x [n, c_in, h, w]` by `[c_out, c_in, kh, kw]` with the given stride and
/// padding `(top, bottom, left, right)`.
fn conv(
    n: usize,
    (c_in, c_out): (usize, usize),
    (h, w): (usize, usize),
    (kh, kw): (usize, usize),
    stride: (usize, usize),
    (top, bottom, left, right): (usize, usize, usize, usize),
) -> Conv2dDims {
    Conv2dDims {
        n,
        c_in,
        h,
        w,
        c_out,
        kh,
        kw,
        stride,
        pad: (top, left),
        oh: (h + top + bottom - kh) / stride.0 + 1,
        ow: (w + left + right - kw) / stride.1 + 1,
    }
}

/// Geometries shared by the three convolution tests.
fn conv_cases() -> Vec<Conv2dDims> {
    vec![
        conv(1, (1, 1), (1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),
        conv(1, (3, 4), (5, 5), (1, 1), (1, 1), (0, 0, 0, 0)),
        conv(2, (5, 3), (6, 7), (1, 1), (2, 2), (0, 0, 0, 0)),
        conv(3, (2, 7), (4, 4), (1, 1), (1, 1), (1, 1, 1, 1)),
        conv(1, (3, 5), (7, 7), (3, 3), (1, 1), (0, 0, 0, 0)),
        conv(2, (4, 6), (8, 9), (3, 3), (1, 1), (1, 1, 1, 1)),
        conv(3, (3, 4), (9, 8), (3, 3), (2, 2), (1, 1, 1, 1)),
        conv(5, (2, 3), (7, 6), (3, 3), (2, 2), (0, 0, 0, 0)),
        conv(1, (3, 2), (6, 6), (3, 3), (1, 1), (0, 1, 1, 0)),
        conv(2, (2, 3), (7, 5), (3, 3), (2, 1), (1, 0, 0, 1)),
        conv(1, (3, 4), (9, 7), (5, 3), (1, 1), (0, 0, 0, 0)),
        conv(2, (2, 5), (8, 6), (5, 3), (1, 1), (2, 2, 1, 1)),
        conv(3, (3, 3), (11, 7), (5, 3), (2, 2), (1, 2, 0, 1)),
        conv(1, (1, 2), (5, 4), (5, 3), (1, 2), (0, 1, 1, 1)),
        conv(7, (3, 2), (5, 5), (3, 3), (1, 1), (1, 1, 1, 1)),
        conv(2, (16, 5), (6, 7), (3, 3), (1, 1), (1, 1, 1, 1)),
        conv(2, (17, 65), (5, 5), (3, 3), (1, 1), (1, 1, 1, 1)),
        conv(1, (67, 3), (4, 5), (3, 3), (1, 1), (0, 0, 0, 0)),
        conv(2, (3, 30), (17, 17), (3, 3), (2, 2), (0, 0, 0, 0)),
        conv(2, (30, 50), (9, 9), (3, 3), (1, 1), (0, 0, 0, 0)),
        conv(5, (4, 6), (13, 13), (3, 3), (1, 1), (1, 1, 1, 1)),
        conv(7, (2, 3), (20, 20), (3, 3), (1, 1), (1, 1, 1, 1)),
        conv(11, (1, 2), (31, 29), (1, 1), (1, 1), (0, 0, 0, 0)),
        conv(2, (3, 2), (6, 5), (3, 3), (2, 2), (2, 2, 2, 2)),
    ]
}

#[test]
fn conv2d_forward_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    for (case, d) in conv_cases().into_iter().enumerate() {
        let seed = 1000 + case as u64 * 8;
        let inputs = [
            random(d.n * d.c_in * d.h * d.w, seed),
            random(d.c_out * d.c_in * d.kh * d.kw, seed + 1),
        ];
        check(&format!("{d:?}"), &inputs, d.c_in * d.kh * d.kw, |k, s| {
            k.conv2d(&s[0], &s[1], d)
        });
    }
}

#[test]
fn conv2d_backward_data_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    for (case, d) in conv_cases().into_iter().enumerate() {
        let seed = 2000 + case as u64 * 8;
        let inputs = [
            random(d.n * d.c_out * d.oh * d.ow, seed),
            random(d.c_out * d.c_in * d.kh * d.kw, seed + 1),
        ];
        check(&format!("{d:?}"), &inputs, d.c_out * d.kh * d.kw, |k, s| {
            k.conv2d_backward_data(&s[0], &s[1], d)
        });
    }
}

#[test]
fn conv2d_backward_weight_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    for (case, d) in conv_cases().into_iter().enumerate() {
        let seed = 3000 + case as u64 * 8;
        let inputs = [
            random(d.n * d.c_in * d.h * d.w, seed),
            random(d.n * d.c_out * d.oh * d.ow, seed + 1),
        ];
        check(&format!("{d:?}"), &inputs, d.n * d.oh * d.ow, |k, s| {
            k.conv2d_backward_weight(&s[0], &s[1], d)
        });
    }
}

/// Blocks of C past 65535, the most workgroups per dimension that Vulkan guarantees (and wgpu's
/// default limit): the first convolution's backward-data at the article's batch of 5000 has
/// 40000 of them (blocks of 128 columns). The GEMM core folds its blocks, and the batch entries,
/// over two dimensions. The tiles' blocks are at most 128 long; the last case is a batch of more
/// small products than a dimension holds.
#[test]
fn gemms_with_more_blocks_than_a_dispatch_dimension_holds_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    let long = 128 * 65535 + 67;
    for (batch, m, k, n) in [(1, 1, 3, long), (1, long, 3, 2), (65535 + 3, 2, 3, 2)] {
        let d = MatmulDims {
            batch,
            m,
            k,
            n,
            trans_a: false,
            trans_b: false,
            a_batched: true,
            b_batched: true,
        };
        let inputs = [random(batch * m * k, 11), random(batch * k * n, 12)];
        check(&format!("{d:?}"), &inputs, k, |kern, s| {
            kern.matmul(&s[0], &s[1], d)
        });
    }
    let d = conv(1, (1, 2), (3, long / 3), (3, 3), (1, 1), (1, 1, 1, 1));
    let inputs = [
        random(d.n * d.c_out * d.oh * d.ow, 13),
        random(d.c_out * d.c_in * d.kh * d.kw, 14),
    ];
    check(&format!("{d:?}"), &inputs, d.c_out * d.kh * d.kw, |k, s| {
        k.conv2d_backward_data(&s[0], &s[1], d)
    });
}

/// The product of two 1 x 1 matrices.
const SCALAR_PRODUCT: MatmulDims = MatmulDims {
    batch: 1,
    m: 1,
    k: 1,
    n: 1,
    trans_a: false,
    trans_b: false,
    a_batched: true,
    b_batched: true,
};

/// Seeded values in `[-1, 1]` that `f16` holds exactly: multiples of 2^-11.
fn random_f16(len: usize, seed: u64) -> Vec<f32> {
    random(len, seed)
        .into_iter()
        .map(|v| (v * 2048.0).round() / 2048.0)
        .collect()
}

/// With f16 operands, every GEMM kernel (the product on both tiles, the three convolution
/// passes) matches the CPU on operands that `f16` holds exactly, where staging loses nothing;
/// on an adapter without `shader-f16` a product is an error that says so.
#[test]
fn f16_operands_gpu_matches_cpu_on_values_f16_holds() {
    let Some(_) = gpu_or_skip() else { return };
    with_matmul_precision(MatmulPrecision::F16Operands, || {
        if !GpuContext::get()
            .expect("gpu")
            .has(wgpu::Features::SHADER_F16)
        {
            let x = GpuKernels.upload(&Storage::F32(vec![1.0])).expect("upload");
            let e = GpuKernels
                .matmul(&x, &x, SCALAR_PRODUCT)
                .expect_err("f16 without shader-f16");
            assert!(e.to_string().contains("shader-f16"), "{e}");
            return;
        }
        for (case, &(batch, m, k, n, a_batched, b_batched)) in MATMUL_CASES.iter().enumerate() {
            let d = MatmulDims {
                batch,
                m,
                k,
                n,
                trans_a: case % 2 == 1,
                trans_b: case % 3 == 1,
                a_batched,
                b_batched,
            };
            let a_len = if a_batched { batch } else { 1 } * m * k;
            let b_len = if b_batched { batch } else { 1 } * k * n;
            let seed = 4000 + case as u64 * 8;
            let inputs = [random_f16(a_len, seed), random_f16(b_len, seed + 1)];
            check(&format!("f16 {d:?}"), &inputs, k, |kern, s| {
                kern.matmul(&s[0], &s[1], d)
            });
        }
        for (case, d) in conv_cases().into_iter().enumerate() {
            let seed = 5000 + case as u64 * 8;
            let x = random_f16(d.n * d.c_in * d.h * d.w, seed);
            let w = random_f16(d.c_out * d.c_in * d.kh * d.kw, seed + 1);
            let gy = random_f16(d.n * d.c_out * d.oh * d.ow, seed + 2);
            let what = format!("f16 {d:?}");
            let patch = d.c_in * d.kh * d.kw;
            check(&what, &[x.clone(), w.clone()], patch, |k, s| {
                k.conv2d(&s[0], &s[1], d)
            });
            check(&what, &[gy.clone(), w], d.c_out * d.kh * d.kw, |k, s| {
                k.conv2d_backward_data(&s[0], &s[1], d)
            });
            check(&what, &[x, gy], d.n * d.oh * d.ow, |k, s| {
                k.conv2d_backward_weight(&s[0], &s[1], d)
            });
        }
    });
}

/// With f16 operands a value `f16` does not hold is rounded to a neighbour (WGSL lets the
/// conversion take either), one beyond its range becomes infinite, and NaN stays NaN; with the
/// default precision the same product is exact.
#[test]
fn f16_operands_are_rounded_to_f16() {
    let Some(_) = gpu_or_skip() else { return };
    if !GpuContext::get()
        .expect("gpu")
        .has(wgpu::Features::SHADER_F16)
    {
        eprintln!("skipped: the adapter has no shader-f16");
        return;
    }
    let one = GpuKernels.upload(&Storage::F32(vec![1.0])).expect("upload");
    let product = |value: f32| {
        let x = GpuKernels
            .upload(&Storage::F32(vec![value]))
            .expect("upload");
        let out = GpuKernels.matmul(&x, &one, SCALAR_PRODUCT).expect("matmul");
        GpuKernels.read_f64(&out).expect("read")[0]
    };
    let fine = 1.0 + 2f32.powi(-12);
    assert_eq!(product(fine), f64::from(fine));
    with_matmul_precision(MatmulPrecision::F16Operands, || {
        let rounded = product(fine);
        assert!(
            rounded == 1.0 || rounded == 1.0 + 2f64.powi(-10),
            "1 + 2^-12 staged as f16 gave {rounded}"
        );
        assert_eq!(product(1e5), f64::INFINITY);
        assert_eq!(product(-1e5), f64::NEG_INFINITY);
        assert!(product(f32::NAN).is_nan());
    });
}
