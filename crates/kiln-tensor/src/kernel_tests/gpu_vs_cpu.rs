//! Every GPU kernel except the matrix product and convolutions against the CPU reference, on seeded random
//! inputs of awkward sizes (1, primes, non-multiples of the workgroup size). The reference runs
//! in f64, so the tolerances measure the GPU's f32 error alone. Each test skips (saying so on
//! stderr) where no GPU adapter exists, unless `KILN_REQUIRE_GPU=1`.

use super::support::*;
use crate::cpu::CpuKernels;
use crate::gpu::{GpuContext, GpuKernels};
use crate::kernels::*;
use crate::test_util::gpu_or_skip;
use crate::{with_subgroup_reductions, DType, Kernels, Shape, Storage};

const ATOL: f64 = 1e-4;
const RTOL: f64 = 1e-3;
const CASES: u64 = 20;

#[test]
fn unary_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    let ops = [
        UnaryOp::Neg,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Sqrt,
        UnaryOp::Relu,
        UnaryOp::Sigmoid,
        UnaryOp::Tanh,
        UnaryOp::Powf(2.0),
        UnaryOp::Powf(3.0),
        UnaryOp::Powf(0.0),
        UnaryOp::Powf(-1.0),
        UnaryOp::Powf(0.5),
        UnaryOp::AddScalar(1.5),
        UnaryOp::MulScalar(-0.25),
    ];
    let mut rng = Rng::new(1);
    for op in ops {
        for len in [1, 257, 1031] {
            // log, sqrt and fractional powers want positive inputs; the rest sees both signs
            // and values large enough to saturate sigmoid and tanh.
            let positive = matches!(op, UnaryOp::Log | UnaryOp::Sqrt | UnaryOp::Powf(0.5));
            let x = if positive {
                rng.uniform_vec(len, 0.01, 10.0)
            } else {
                rng.uniform_vec(len, -30.0, 30.0)
            };
            let mut x: Vec<f32> = if matches!(op, UnaryOp::Exp) {
                x.iter().map(|v| v / 3.0).collect()
            } else {
                x
            };
            // A NaN, which every function carries as the CPU does.
            x[len / 2] = f32::NAN;
            let got = read_gpu(&GpuKernels.unary(op, &gpu(&x)).unwrap());
            let want = read_cpu(&CpuKernels.unary(op, &cpu(&x)).unwrap());
            assert_close(&format!("{op:?} len {len}"), &got, &want, ATOL, RTOL);
        }
    }
}

#[test]
fn unary_gpu_matches_cpu_where_the_builtins_are_undefined() {
    let Some(_) = gpu_or_skip() else { return };
    // Zeros of both signs, negative bases, infinities: where SPIR-V leaves log, sqrt and pow
    // undefined, and where IEEE pow has its special cases.
    let inf = f32::INFINITY;
    let x = [0.0, -0.0, -1.0, -2.5, 2.0, 0.5, 1.0, inf, -inf, f32::NAN];
    let mut ops = vec![UnaryOp::Log, UnaryOp::Sqrt];
    for p in [2.0, 3.0, -1.0, -2.0, 0.5, -0.5, 7.0, -3.0, inf, -inf] {
        ops.push(UnaryOp::Powf(p));
    }
    for op in ops {
        let got = read_gpu(&GpuKernels.unary(op, &gpu(&x)).unwrap());
        let want = read_cpu(&CpuKernels.unary(op, &cpu(&x)).unwrap());
        assert_close(&format!("{op:?} of {x:?}"), &got, &want, ATOL, RTOL);
        let signs = |v: &[f64]| -> Vec<bool> {
            v.iter()
                .map(|v| v.is_sign_negative() && !v.is_nan())
                .collect()
        };
        let got: Vec<f64> = got.iter().map(|&v| v.into()).collect();
        assert_eq!(signs(&got), signs(&want), "{op:?} of {x:?}: signs");
    }
}

/// A random shape of rank 0 to 4 over awkward sizes.
fn random_shape(rng: &mut Rng) -> Vec<usize> {
    let rank = rng.below(5);
    (0..rank)
        .map(|_| rng.pick(&[1, 2, 3, 5, 7, 13, 33]))
        .collect()
}

/// `out` with some axes set to 1 and some leading axes dropped: a shape broadcastable to it.
fn broadcastable(rng: &mut Rng, out: &[usize]) -> Vec<usize> {
    let drop = rng.below(out.len() + 1);
    out[drop..]
        .iter()
        .map(|&d| if rng.below(3) == 0 { 1 } else { d })
        .collect()
}

#[test]
fn binary_broadcast_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    let ops = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Eq,
        BinaryOp::MaskPositive,
        BinaryOp::Matches,
    ];
    let mut rng = Rng::new(2);
    for case in 0..CASES * 2 {
        let op = ops[case as usize % ops.len()];
        let out = random_shape(&mut rng);
        let (sa, sb) = (broadcastable(&mut rng, &out), broadcastable(&mut rng, &out));
        let (sa, sb) = if case % 3 == 0 {
            (out.clone(), sb)
        } else {
            (sa, sb)
        };
        // One value in ten is NaN, which every op must carry (or compare) as the CPU does.
        let values = |rng: &mut Rng, shape: &[usize]| -> Vec<f32> {
            let n = shape.iter().product();
            let values: Vec<f32> = match op {
                // Few distinct values, so that equal pairs occur.
                BinaryOp::Eq | BinaryOp::Matches => (0..n).map(|_| rng.below(3) as f32).collect(),
                // Divisors away from zero.
                BinaryOp::Div => (0..n)
                    .map(|_| rng.range(0.5, 2.0) * if rng.below(2) == 0 { -1.0 } else { 1.0 })
                    .collect(),
                _ => rng.uniform_vec(n, -2.0, 2.0),
            };
            values
                .into_iter()
                .map(|v| if rng.below(10) == 0 { f32::NAN } else { v })
                .collect()
        };
        let (a, b) = (values(&mut rng, &sa), values(&mut rng, &sb));
        let (sa, sb) = (Shape::new(&sa), Shape::new(&sb));
        let out = Shape::new(&out);
        let got = GpuKernels
            .binary(op, (&gpu(&a), &sa), (&gpu(&b), &sb), &out)
            .unwrap();
        let want = CpuKernels
            .binary(op, (&cpu(&a), &sa), (&cpu(&b), &sb), &out)
            .unwrap();
        let what = format!("{op:?} {sa} with {sb} to {out}");
        assert_close(&what, &read_gpu(&got), &read_cpu(&want), ATOL, RTOL);
    }
}

#[test]
fn binary_same_buffer_twice_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    let mut rng = Rng::new(3);
    for len in SIZES {
        let x = rng.uniform_vec(len, -3.0, 3.0);
        let shape = Shape::new(&[len]);
        let g = gpu(&x);
        let got = GpuKernels
            .binary(BinaryOp::Mul, (&g, &shape), (&g, &shape), &shape)
            .unwrap();
        let c = cpu(&x);
        let want = CpuKernels
            .binary(BinaryOp::Mul, (&c, &shape), (&c, &shape), &shape)
            .unwrap();
        assert_close("x * x", &read_gpu(&got), &read_cpu(&want), ATOL, RTOL);
    }
}

#[test]
fn reduce_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    let mut rng = Rng::new(4);
    // Long rows with a single output take the split (two-pass) path.
    let mut cases = vec![(1, 70_001, 1), (2, 9_973, 3), (1, 1, 1), (3, 0, 2)];
    while cases.len() < 2 * CASES as usize {
        let pick = |rng: &mut Rng| rng.pick(&SIZES[..8]);
        cases.push((pick(&mut rng), pick(&mut rng), pick(&mut rng)));
    }
    for (case, &(outer, len, inner)) in cases.iter().enumerate() {
        let op = if case % 2 == 0 {
            ReduceOp::Sum
        } else {
            ReduceOp::Max
        };
        let dims = ReduceDims { outer, len, inner };
        let x = rng.uniform_vec(outer * len * inner, -1.0, 1.0);
        let got = read_gpu(&GpuKernels.reduce(op, &gpu(&x), dims).unwrap());
        let want = read_cpu(&CpuKernels.reduce(op, &cpu(&x), dims).unwrap());
        let what = format!("{op:?} over {dims:?}");
        assert_close(&what, &got, &want, sum_atol(len, 1.0), RTOL);
    }
}

#[test]
fn argmax_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    let mut rng = Rng::new(5);
    for case in 0..CASES {
        let rows = rng.pick(&SIZES[..7]);
        let cols = rng.pick(&SIZES);
        // Few distinct values in odd cases, so that ties (first wins) occur.
        let x: Vec<f32> = if case % 2 == 1 {
            (0..rows * cols).map(|_| rng.below(4) as f32).collect()
        } else {
            rng.uniform_vec(rows * cols, -5.0, 5.0)
        };
        let got = read_gpu(&GpuKernels.argmax(&gpu(&x), rows, cols).unwrap());
        let want = read_cpu(&CpuKernels.argmax(&cpu(&x), rows, cols).unwrap());
        assert_close(&format!("argmax [{rows}, {cols}]"), &got, &want, 0.0, 0.0);
    }
}

#[test]
fn permute_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    let mut rng = Rng::new(6);
    for _ in 0..CASES {
        let rank = 1 + rng.below(5);
        let dims: Vec<usize> = (0..rank).map(|_| rng.pick(&[1, 2, 3, 5, 7, 17])).collect();
        let mut perm: Vec<usize> = (0..rank).collect();
        for i in (1..rank).rev() {
            perm.swap(i, rng.below(i + 1));
        }
        let shape = Shape::new(&dims);
        let x = rng.uniform_vec(shape.numel(), -1.0, 1.0);
        let got = read_gpu(&GpuKernels.permute(&gpu(&x), &shape, &perm).unwrap());
        let want = read_cpu(&CpuKernels.permute(&cpu(&x), &shape, &perm).unwrap());
        assert_close(
            &format!("permute {shape} by {perm:?}"),
            &got,
            &want,
            0.0,
            0.0,
        );
    }
}

/// Batch-norm geometries: many channels, one channel over many values (the split path),
/// `[n, c]` inputs (`spatial = 1`), and random awkward ones.
fn bn_cases(rng: &mut Rng) -> Vec<BnDims> {
    let mut cases = vec![
        BnDims {
            n: 1,
            c: 1,
            spatial: 1,
        },
        BnDims {
            n: 7,
            c: 1,
            spatial: 9_973,
        },
        BnDims {
            n: 13,
            c: 3,
            spatial: 1,
        },
        BnDims {
            n: 2,
            c: 300,
            spatial: 5,
        },
    ];
    while cases.len() < CASES as usize {
        cases.push(BnDims {
            n: rng.pick(&[1, 2, 3, 7, 13]),
            c: rng.pick(&[1, 2, 3, 5, 16]),
            spatial: rng.pick(&[1, 3, 7, 31, 257]),
        });
    }
    cases
}

/// Runs `check` with the batch-norm reductions' default tree, then with the subgroup tree where
/// the adapter has subgroups (saying so where it has not).
fn with_each_reduction_tree(check: impl Fn()) {
    check();
    if GpuContext::get()
        .expect("gpu")
        .has(wgpu::Features::SUBGROUP)
    {
        with_subgroup_reductions(true, check);
    } else {
        eprintln!("subgroup reductions not checked: the adapter has no subgroups");
    }
}

#[test]
fn bn_stats_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    with_each_reduction_tree(bn_stats_check);
}

fn bn_stats_check() {
    let mut rng = Rng::new(7);
    for d in bn_cases(&mut rng) {
        let len = d.n * d.c * d.spatial;
        // Values far from zero relative to their spread: naive sums of squares would cancel.
        let far: Vec<f32> = rng
            .uniform_vec(len, -1.0, 1.0)
            .into_iter()
            .map(|v| 100.0 + v)
            .collect();
        // One value of 1e30 per channel: the variance (1e55 and more) is inf in `f32`, as the
        // CPU's in `f64` rounds to (0 for a channel of one value); never NaN.
        let mut huge = rng.uniform_vec(len, -1.0, 1.0);
        for ch in 0..d.c {
            huge[(ch + 1) * d.spatial - 1] = 1e30;
        }
        let var_atol = sum_atol(d.n * d.spatial, 1e-2);
        for (x, var_atol) in [(far, var_atol), (huge, 0.0)] {
            let (gm, gv) = GpuKernels.bn_stats(&gpu(&x), d).unwrap();
            let (cm, cv) = CpuKernels.bn_stats(&cpu(&x), d).unwrap();
            let mean = read_cpu(&cm);
            assert_close(&format!("mean {d:?}"), &read_gpu(&gm), &mean, 1e-4, RTOL);
            let var: Vec<f64> = read_cpu(&cv).iter().map(|&v| v as f32 as f64).collect();
            assert_close(&format!("var {d:?}"), &read_gpu(&gv), &var, var_atol, RTOL);
        }
    }
}

#[test]
fn bn_normalize_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    let mut rng = Rng::new(8);
    for (case, d) in bn_cases(&mut rng).into_iter().enumerate() {
        let x = rng.uniform_vec(d.n * d.c * d.spatial, -3.0, 3.0);
        let mean = rng.uniform_vec(d.c, -1.0, 1.0);
        let var = rng.uniform_vec(d.c, 0.1, 2.0);
        let gamma = rng.uniform_vec(d.c, 0.5, 1.5);
        let beta = rng.uniform_vec(d.c, -1.0, 1.0);
        let affine = case % 2 == 0;
        let (gg, gb) = (gpu(&gamma), gpu(&beta));
        let (cg, cb) = (cpu(&gamma), cpu(&beta));
        let got = GpuKernels
            .bn_normalize(
                &gpu(&x),
                &gpu(&mean),
                &gpu(&var),
                affine.then_some(&gg),
                affine.then_some(&gb),
                1e-5,
                d,
            )
            .unwrap();
        let want = CpuKernels
            .bn_normalize(
                &cpu(&x),
                &cpu(&mean),
                &cpu(&var),
                affine.then_some(&cg),
                affine.then_some(&cb),
                1e-5,
                d,
            )
            .unwrap();
        let what = format!("normalize {d:?} affine {affine}");
        assert_close(&what, &read_gpu(&got), &read_cpu(&want), ATOL, RTOL);
    }
}

#[test]
fn bn_backward_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    with_each_reduction_tree(bn_backward_check);
}

fn bn_backward_check() {
    let mut rng = Rng::new(9);
    for (case, d) in bn_cases(&mut rng).into_iter().enumerate() {
        let len = d.n * d.c * d.spatial;
        let x = rng.uniform_vec(len, -3.0, 3.0);
        let gy = rng.uniform_vec(len, -1.0, 1.0);
        let (mean, var) = CpuKernels.bn_stats(&Storage::F32(x.clone()), d).unwrap();
        let to_f32 =
            |s: &Storage| -> Vec<f32> { read_cpu(s).into_iter().map(|v| v as f32).collect() };
        let (mean, var) = (to_f32(&mean), to_f32(&var));
        let gamma = rng.uniform_vec(d.c, 0.5, 1.5);
        let (batch_stats, affine) = (case % 2 == 0, case % 3 != 0);
        let (gg, cg) = (gpu(&gamma), cpu(&gamma));
        let (gx, gdg, gdb) = GpuKernels
            .bn_backward(
                &gpu(&gy),
                &gpu(&x),
                &gpu(&mean),
                &gpu(&var),
                affine.then_some(&gg),
                1e-5,
                d,
                batch_stats,
            )
            .unwrap();
        let (cx, cdg, cdb) = CpuKernels
            .bn_backward(
                &cpu(&gy),
                &cpu(&x),
                &cpu(&mean),
                &cpu(&var),
                affine.then_some(&cg),
                1e-5,
                d,
                batch_stats,
            )
            .unwrap();
        let what = format!("{d:?} batch_stats {batch_stats} affine {affine}");
        let atol = sum_atol(d.n * d.spatial, 1.0);
        assert_close(
            &format!("dgamma {what}"),
            &read_gpu(&gdg),
            &read_cpu(&cdg),
            atol,
            RTOL,
        );
        assert_close(
            &format!("dbeta {what}"),
            &read_gpu(&gdb),
            &read_cpu(&cdb),
            atol,
            RTOL,
        );
        assert_close(
            &format!("gx {what}"),
            &read_gpu(&gx),
            &read_cpu(&cx),
            ATOL,
            RTOL,
        );
    }
}

/// Softmax geometries: a single column, prime widths, a row longer than a workgroup.
fn softmax_cases(rng: &mut Rng) -> Vec<(usize, usize)> {
    let mut cases = vec![(1, 1), (3, 1), (2, 1031), (97, 10)];
    while cases.len() < CASES as usize {
        cases.push((rng.pick(&SIZES[..7]), rng.pick(&SIZES)));
    }
    cases
}

#[test]
fn log_softmax_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    let mut rng = Rng::new(10);
    for (rows, cols) in softmax_cases(&mut rng) {
        // Logits large enough that an unshifted exp would overflow.
        let x = rng.uniform_vec(rows * cols, -100.0, 100.0);
        let got = read_gpu(&GpuKernels.log_softmax(&gpu(&x), rows, cols).unwrap());
        let want = read_cpu(&CpuKernels.log_softmax(&cpu(&x), rows, cols).unwrap());
        let what = format!("log_softmax [{rows}, {cols}]");
        assert_close(&what, &got, &want, sum_atol(cols, 1.0), RTOL);
    }
}

#[test]
fn softmax_cross_entropy_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    let mut rng = Rng::new(11);
    for (rows, cols) in softmax_cases(&mut rng) {
        let x = rng.uniform_vec(rows * cols, -20.0, 20.0);
        let labels: Vec<u32> = (0..rows).map(|_| rng.below(cols) as u32).collect();
        let smoothing = rng.pick(&[0.0, 0.2, 1.0]);
        let (gl, gg) = GpuKernels
            .softmax_cross_entropy_smoothed(&gpu(&x), &labels, rows, cols, smoothing)
            .unwrap();
        let (cl, cg) = CpuKernels
            .softmax_cross_entropy_smoothed(&cpu(&x), &labels, rows, cols, smoothing)
            .unwrap();
        let what = format!("cross-entropy [{rows}, {cols}], smoothing {smoothing}");
        let loss_atol = sum_atol(rows.max(cols), 1.0);
        assert_close(
            &format!("loss {what}"),
            &read_gpu(&gl),
            &read_cpu(&cl),
            loss_atol,
            RTOL,
        );
        assert_close(
            &format!("grad {what}"),
            &read_gpu(&gg),
            &read_cpu(&cg),
            ATOL,
            RTOL,
        );
    }
}

#[test]
fn dropout_mask_gpu_matches_cpu_bit_for_bit() {
    let Some(_) = gpu_or_skip() else { return };
    let mut rng = Rng::new(12);
    for case in 0..CASES {
        let len = rng.pick(&SIZES) * (1 + case as usize % 3);
        let p = rng.pick(&[0.0, 0.1, 0.5, 0.9]);
        let seed = rng.next_u64();
        let got = read_gpu(&GpuKernels.dropout_mask(DType::F32, len, p, seed).unwrap());
        let want = CpuKernels.dropout_mask(DType::F32, len, p, seed).unwrap();
        let Storage::F32(want) = &want else {
            panic!("f32 mask expected")
        };
        let (got_bits, want_bits): (Vec<u32>, Vec<u32>) = (
            got.iter().map(|v| v.to_bits()).collect(),
            want.iter().map(|v| v.to_bits()).collect(),
        );
        assert_eq!(got_bits, want_bits, "len {len} p {p} seed {seed}");
    }
}

#[test]
fn adam_step_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    let mut rng = Rng::new(13);
    for case in 0..CASES {
        let len = rng.pick(&SIZES);
        let hp = AdamStep {
            lr: rng.range(1e-4, 1e-1),
            beta1: rng.pick(&[0.0, 0.9]),
            beta2: rng.pick(&[0.99, 0.999]),
            eps: 1e-8,
            weight_decay: rng.pick(&[0.0, 0.01]),
            decoupled: case % 2 == 0,
            step: 1 + rng.below(10) as u32,
        };
        let (p, g) = (
            rng.uniform_vec(len, -1.0, 1.0),
            rng.uniform_vec(len, -1.0, 1.0),
        );
        let (m, v) = (
            rng.uniform_vec(len, -0.1, 0.1),
            rng.uniform_vec(len, 0.0, 0.01),
        );
        let [mut gp, gg, mut gm, mut gv] = [&p, &g, &m, &v].map(|d| gpu(d));
        GpuKernels
            .adam_step(&mut gp, &gg, &mut gm, &mut gv, hp)
            .unwrap();
        let [mut cp, cg, mut cm, mut cv] = [&p, &g, &m, &v].map(|d| cpu(d));
        CpuKernels
            .adam_step(&mut cp, &cg, &mut cm, &mut cv, hp)
            .unwrap();
        for (name, got, want) in [("param", &gp, &cp), ("m", &gm, &cm), ("v", &gv, &cv)] {
            let what = format!("adam {name} len {len} {hp:?}");
            assert_close(&what, &read_gpu(got), &read_cpu(want), ATOL, RTOL);
        }
    }
}

#[test]
fn sgd_step_gpu_matches_cpu() {
    let Some(_) = gpu_or_skip() else { return };
    let mut rng = Rng::new(14);
    for case in 0..CASES {
        let len = rng.pick(&SIZES);
        let with_velocity = case % 3 != 0;
        let hp = SgdStep {
            lr: rng.range(1e-3, 1e-1),
            momentum: if with_velocity { 0.9 } else { 0.0 },
            nesterov: case % 2 == 0,
            weight_decay: rng.pick(&[0.0, 5e-4]),
        };
        let (p, g, vel) = (
            rng.uniform_vec(len, -1.0, 1.0),
            rng.uniform_vec(len, -1.0, 1.0),
            rng.uniform_vec(len, -0.1, 0.1),
        );
        let (mut gp, gg, mut gv) = (gpu(&p), gpu(&g), gpu(&vel));
        let (mut cp, cg, mut cv) = (cpu(&p), cpu(&g), cpu(&vel));
        GpuKernels
            .sgd_step(&mut gp, &gg, with_velocity.then_some(&mut gv), hp)
            .unwrap();
        CpuKernels
            .sgd_step(&mut cp, &cg, with_velocity.then_some(&mut cv), hp)
            .unwrap();
        let what = format!("sgd len {len} {hp:?}");
        assert_close(&what, &read_gpu(&gp), &read_cpu(&cp), ATOL, RTOL);
        assert_close(&what, &read_gpu(&gv), &read_cpu(&cv), ATOL, RTOL);
    }
}
