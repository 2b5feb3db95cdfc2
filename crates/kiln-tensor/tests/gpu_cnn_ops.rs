//! The CNN ops on the GPU against the CPU reference, through the public tensor API: the same
//! seeded inputs on both devices, outputs compared, then the gradients of `Σ w · f(inputs)`
//! for seeded weights `w` (so a transposed or misrouted gradient cannot cancel out). Sizes are
//! awkward on purpose: 1, primes, odd spatial sizes, batch 1, every stride/padding mix.

use kiln_tensor::test_util::{assert_close, gpu_or_skip};
use kiln_tensor::{Device, Gelu, Pool2dOptions, Result, Tensor};

/// Asserts `|gpu - cpu| <= atol + rtol * |cpu|` elementwise, NaN only against NaN.
fn assert_matches(what: &str, gpu: &Tensor, cpu: &Tensor, (atol, rtol): (f64, f64)) {
    assert_eq!(gpu.dims(), cpu.dims(), "{what}: shapes differ");
    let (g, c) = (gpu.to_vec_f64().unwrap(), cpu.to_vec_f64().unwrap());
    assert_close(what, &g, &c, atol, rtol);
}

/// Evaluates `f` on `inputs` on the CPU and on the GPU and compares the outputs and every
/// input's gradient (an input that gets none must get none on both), within
/// `tol` = (atol, rtol).
fn compare(
    what: &str,
    inputs: &[Tensor],
    tol: (f64, f64),
    f: impl Fn(&[Tensor]) -> Result<Tensor>,
) {
    let Some(gpu) = gpu_or_skip() else { return };
    let run = |device: Device| {
        let leaves: Vec<Tensor> = inputs
            .iter()
            .map(|t| t.to_device(device).unwrap().requires_grad())
            .collect();
        let y = f(&leaves).unwrap_or_else(|e| panic!("{what} on {device}: {e}"));
        assert_eq!(y.device(), device, "{what}");
        let w = Tensor::rand_uniform(y.dims(), -1.0, 1.0, 99)
            .to_device(device)
            .unwrap();
        y.mul(&w).unwrap().sum_all().unwrap().backward().unwrap();
        let grads: Vec<Option<Tensor>> = leaves.iter().map(Tensor::grad).collect();
        (y, grads)
    };
    let (y_cpu, g_cpu) = run(Device::Cpu);
    let (y_gpu, g_gpu) = run(gpu);
    assert_matches(&format!("{what}: output"), &y_gpu, &y_cpu, tol);
    for (i, (g, c)) in g_gpu.iter().zip(&g_cpu).enumerate() {
        match (g, c) {
            (Some(g), Some(c)) => {
                assert_matches(&format!("{what}: gradient of input {i}"), g, c, tol)
            }
            (None, None) => {}
            _ => panic!("{what}: input {i} has a gradient on one device only"),
        }
    }
}

/// f32 tolerances of short sums.
const TOL: (f64, f64) = (1e-4, 1e-3);

/// Seeded values in `[-1, 1)`.
fn input(dims: &[usize], seed: u64) -> Tensor {
    Tensor::rand_uniform(dims, -1.0, 1.0, seed)
}

/// Pooling geometries: odd and prime sizes, batch 1, overlapping and strided windows, padding.
fn pool_cases() -> Vec<(Vec<usize>, Pool2dOptions)> {
    let opts = |k: (usize, usize), s: (usize, usize), p: (usize, usize)| Pool2dOptions {
        kernel: k,
        stride: s,
        padding: p,
    };
    vec![
        (vec![1, 1, 1, 1], opts((1, 1), (1, 1), (0, 0))),
        (vec![1, 3, 7, 5], Pool2dOptions::window(2)),
        (vec![2, 5, 13, 11], opts((3, 3), (2, 2), (1, 1))),
        (vec![3, 2, 9, 7], opts((3, 2), (1, 2), (1, 0))),
        (vec![1, 7, 17, 31], opts((5, 3), (3, 1), (2, 1))),
        (vec![2, 1, 5, 5], opts((5, 5), (1, 1), (0, 0))),
        (vec![1, 4, 8, 8], opts((2, 4), (2, 3), (1, 2))),
    ]
}

#[test]
fn max_pool2d_gpu_matches_cpu() {
    for (i, (dims, opts)) in pool_cases().into_iter().enumerate() {
        let x = input(&dims, i as u64);
        compare(&format!("max_pool2d {dims:?} {opts:?}"), &[x], TOL, |x| {
            x[0].max_pool2d(opts)
        });
    }
}

/// Inputs of few distinct values, so that windows hold ties: both devices must send the
/// gradient to the same (first) element.
#[test]
fn max_pool2d_ties_gpu_matches_cpu() {
    for (i, (dims, opts)) in pool_cases().into_iter().enumerate() {
        let x = input(&dims, 50 + i as u64).mul_scalar(1.5).unwrap();
        let x = x.to_vec().unwrap().iter().map(|v| v.round()).collect();
        let x = Tensor::from_vec(x, &dims).unwrap();
        compare(&format!("max_pool2d ties {dims:?}"), &[x], TOL, |x| {
            x[0].max_pool2d(opts)
        });
    }
}

#[test]
fn avg_pool2d_gpu_matches_cpu() {
    for (i, (dims, opts)) in pool_cases().into_iter().enumerate() {
        let x = input(&dims, 100 + i as u64);
        compare(&format!("avg_pool2d {dims:?} {opts:?}"), &[x], TOL, |x| {
            x[0].avg_pool2d(opts)
        });
    }
}

#[test]
fn global_pooling_gpu_matches_cpu() {
    for dims in [[1, 1, 1, 1], [1, 3, 7, 5], [3, 13, 4, 4], [2, 2, 31, 1]] {
        let x = [input(&dims, 7)];
        compare(&format!("global_avg_pool2d {dims:?}"), &x, TOL, |x| {
            x[0].global_avg_pool2d()
        });
        compare(&format!("global_max_pool2d {dims:?}"), &x, TOL, |x| {
            x[0].global_max_pool2d()
        });
    }
}

#[test]
fn cat_gpu_matches_cpu() {
    let cases: [(&[usize], &[usize]); 4] = [
        (&[1], &[1, 2, 7]),
        (&[3, 5], &[1, 2]),
        (&[2, 3, 7, 5], &[1, 3, 2]),
        (&[1, 13, 1, 257], &[2, 1, 4]),
    ];
    for (i, (dims, lens)) in cases.into_iter().enumerate() {
        for axis in 0..dims.len() {
            let inputs: Vec<Tensor> = lens
                .iter()
                .enumerate()
                .map(|(j, &len)| {
                    let mut d = dims.to_vec();
                    d[axis] = len;
                    input(&d, (10 * i + j) as u64)
                })
                .collect();
            compare(&format!("cat {dims:?} axis {axis}"), &inputs, TOL, |x| {
                Tensor::cat(x, axis)
            });
        }
    }
}

#[test]
fn narrow_gpu_matches_cpu() {
    for (i, dims) in [vec![1], vec![7, 3], vec![2, 5, 13], vec![3, 1, 31, 2]]
        .into_iter()
        .enumerate()
    {
        for axis in 0..dims.len() {
            let d = dims[axis];
            for (start, len) in [(0, d), (d / 2, d - d / 2), (d - 1, 1), (d / 3, 0)] {
                let x = input(&dims, i as u64);
                let what = format!("narrow {dims:?} axis {axis} {start}+{len}");
                compare(&what, &[x], TOL, |x| x[0].narrow(axis, start, len));
            }
        }
    }
}

#[test]
fn layer_norm_gpu_matches_cpu() {
    let cases: [(&[usize], usize); 7] = [
        (&[1, 1], 1),
        (&[3, 7], 1),
        (&[257, 3], 1),
        (&[2, 5, 13], 2),
        (&[2, 5, 13], 1),
        (&[1, 300], 1),
        (&[37, 3, 1031], 1),
    ];
    for (i, (dims, trailing)) in cases.into_iter().enumerate() {
        let norm = dims[dims.len() - trailing..].to_vec();
        let x = input(dims, i as u64)
            .mul_scalar(3.0)
            .unwrap()
            .add_scalar(1.0)
            .unwrap();
        let (gamma, beta) = (input(&norm, 40 + i as u64), input(&norm, 80 + i as u64));
        // Sums over a row or over the rows: tolerances scaled for the longest of them.
        let tol = (
            1e-4 * (dims.iter().product::<usize>() as f64).sqrt().max(1.0),
            1e-3,
        );
        let what = format!("layer_norm {dims:?} over {norm:?}");
        compare(&what, &[x.clone(), gamma, beta], tol, |x| {
            x[0].layer_norm(&norm, Some(&x[1]), Some(&x[2]), 1e-5)
        });
        compare(&format!("{what} without affine"), &[x], tol, |x| {
            x[0].layer_norm(&norm, None, None, 1e-5)
        });
    }
}

/// Element counts around the workgroup size, and odd shapes.
const ELEMENTWISE_SHAPES: [&[usize]; 5] = [&[1], &[7], &[3, 13], &[257], &[5, 1031]];

#[test]
fn activations_gpu_matches_cpu() {
    type Op = fn(&Tensor) -> Result<Tensor>;
    let ops: [(&str, Op); 8] = [
        ("gelu erf", |x| x.gelu(Gelu::Erf)),
        ("gelu tanh", |x| x.gelu(Gelu::Tanh)),
        ("silu", |x| x.silu()),
        ("leaky_relu", |x| x.leaky_relu(0.07)),
        ("leaky_relu, negative slope", |x| x.leaky_relu(-1.5)),
        ("abs", |x| x.abs()),
        ("clamp", |x| x.clamp(-1.25, 0.5)),
        ("clamp to a point", |x| x.clamp(0.25, 0.25)),
    ];
    for (i, dims) in ELEMENTWISE_SHAPES.into_iter().enumerate() {
        // Wide enough to reach every regime (GELU's tails, saturated sigmoids).
        let x = input(dims, i as u64).mul_scalar(6.0).unwrap();
        for (name, op) in ops {
            compare(
                &format!("{name} {dims:?}"),
                std::slice::from_ref(&x),
                TOL,
                |x| op(&x[0]),
            );
        }
    }
}

/// Operand shapes that broadcast: equal, a row against a matrix, a scalar, both ways.
const BROADCAST_PAIRS: [(&[usize], &[usize]); 5] = [
    (&[1], &[1]),
    (&[3, 13], &[3, 13]),
    (&[5, 1031], &[1031]),
    (&[2, 1, 7], &[3, 1]),
    (&[], &[257]),
];

#[test]
fn maximum_minimum_gpu_matches_cpu() {
    for (i, (da, db)) in BROADCAST_PAIRS.into_iter().enumerate() {
        // Values rounded to halves, so that many pairs tie and split their gradient.
        let round = |t: Tensor| {
            let v = t.mul_scalar(2.0).unwrap().to_vec().unwrap();
            Tensor::from_vec(v.iter().map(|v| v.round() / 2.0).collect(), t.dims()).unwrap()
        };
        let (a, b) = (round(input(da, i as u64)), round(input(db, 20 + i as u64)));
        let what = format!("{da:?} and {db:?}");
        compare(
            &format!("maximum {what}"),
            &[a.clone(), b.clone()],
            TOL,
            |x| x[0].maximum(&x[1]),
        );
        compare(&format!("minimum {what}"), &[b, a], TOL, |x| {
            x[0].minimum(&x[1])
        });
    }
}

#[test]
fn where_gpu_matches_cpu() {
    for (i, (da, db)) in BROADCAST_PAIRS.into_iter().enumerate() {
        let mask = input(db, 40 + i as u64).relu().unwrap();
        let (a, b) = (input(da, i as u64), input(db, 60 + i as u64));
        compare(&format!("where_ {da:?} {db:?}"), &[mask, a, b], TOL, |x| {
            Tensor::where_(&x[0], &x[1], &x[2])
        });
    }
}

#[test]
fn cross_entropy_label_smoothing_gpu_matches_cpu() {
    for (i, (rows, cols)) in [(1, 1), (1, 10), (7, 3), (33, 257), (5, 1031)]
        .into_iter()
        .enumerate()
    {
        let labels: Vec<u32> = (0..rows as u32)
            .map(|r| (r * 7 + i as u32) % cols as u32)
            .collect();
        let logits = input(&[rows, cols], i as u64).mul_scalar(4.0).unwrap();
        for smoothing in [0.0, 0.1, 0.2, 1.0] {
            let what = format!("softmax_cross_entropy_smoothed [{rows}, {cols}] s = {smoothing}");
            compare(&what, std::slice::from_ref(&logits), TOL, |x| {
                x[0].softmax_cross_entropy_smoothed(&labels, smoothing)
            });
        }
    }
}

#[test]
fn large_logits_keep_their_log_probabilities_on_the_gpu() {
    // Near 1e5 an f32 step is 0.008 and near 1e7 it is 1: adding ln Σ exp(x - max) to the max
    // before subtracting would round the differences away.
    for (scale, shift) in [(1.0, 1e5), (3.0, 1e7), (2.0, -1e6)] {
        let logits = input(&[6, 37], 5)
            .mul_scalar(scale)
            .unwrap()
            .add_scalar(shift)
            .unwrap();
        let labels: Vec<u32> = (0..6).map(|r| r * 5 % 37).collect();
        let what = format!("logits {shift} + [-{scale}, {scale})");
        compare(
            &format!("log_softmax, {what}"),
            std::slice::from_ref(&logits),
            TOL,
            |x| x[0].log_softmax(),
        );
        for smoothing in [0.0, 0.2] {
            let what = format!("softmax_cross_entropy_smoothed s = {smoothing}, {what}");
            compare(&what, std::slice::from_ref(&logits), TOL, |x| {
                x[0].softmax_cross_entropy_smoothed(&labels, smoothing)
            });
        }
    }
}
