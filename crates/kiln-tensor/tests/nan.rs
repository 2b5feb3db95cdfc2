//! NaN propagates through every op family on every device, with IEEE semantics as in PyTorch:
//! a NaN input gives NaN exactly where the maths says it reaches, and nowhere else. Guards
//! against kernels that turn NaN into a number (a `max` that skips it, a ReLU that maps it to 0,
//! an argmax that ignores it), which would let a network with NaN weights train on with finite
//! losses.
//!
//! Each family is one function of the device, run as a CPU test and a GPU test (`<family>::cpu`,
//! `<family>::gpu`); the GPU test skips where no adapter exists, unless `KILN_REQUIRE_GPU=1`.
//! Both check the same expected values, so the GPU kernels are held to the CPU's semantics.

use kiln_tensor::random::Rng;
use kiln_tensor::test_util::assert_close;
use kiln_tensor::{AdamStep, Conv2dOptions, DType, Device, Padding, Result, SgdStep, Tensor};

/// Runs each named `fn(Device) -> Result<()>` as `name::cpu` and `name::gpu` tests.
macro_rules! on_every_device {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn cpu() {
                super::$name(kiln_tensor::Device::Cpu).unwrap();
            }

            #[test]
            fn gpu() {
                if let Some(device) = kiln_tensor::test_util::gpu_or_skip() {
                    super::$name(device).unwrap();
                }
            }
        }
    )+};
}

on_every_device!(
    fill_and_layout,
    unary_functions,
    relu_forward_and_backward,
    binary_arithmetic_and_broadcast,
    comparisons,
    reductions,
    long_reductions,
    max_gradient_flows_to_nan,
    argmax_points_at_the_first_nan,
    softmax_and_cross_entropy,
    matmul,
    conv2d_forward_and_backward,
    batch_norm_forward_backward_and_statistics,
    dropout,
    optimizer_updates,
);

const NAN: f32 = f32::NAN;

/// A tensor of `data` with shape `dims` on `device`.
fn tensor(data: &[f32], dims: &[usize], device: Device) -> Result<Tensor> {
    Tensor::from_slice(data, dims)?.to_device(device)
}

/// Asserts that `got` matches `want` elementwise: NaN exactly where `want` is NaN, other values
/// within f32 tolerance (infinities exactly).
fn assert_values(what: &str, got: &[f32], want: &[f32]) {
    let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
    assert_close(what, &wide(got), &wide(want), 1e-4, 1e-4);
}

/// Asserts that `got` is NaN exactly at the indices for which `nan(i)` holds, finite elsewhere.
fn assert_nan_where(what: &str, got: &[f32], nan: impl Fn(usize) -> bool) {
    for (i, &g) in got.iter().enumerate() {
        if nan(i) {
            assert!(g.is_nan(), "{what}: element {i} is {g}, expected NaN");
        } else {
            assert!(
                g.is_finite(),
                "{what}: element {i} is {g}, expected a number"
            );
        }
    }
}

/// `len` values in `[-1, 1)` drawn from `seed`.
fn values(len: usize, seed: u64) -> Vec<f32> {
    Rng::new(seed).uniform_vec(len, -1.0, 1.0)
}

/// `values(len, seed)` with NaN at the given indices.
fn values_with_nan(len: usize, seed: u64, nan_at: &[usize]) -> Vec<f32> {
    let mut v = values(len, seed);
    for &i in nan_at {
        v[i] = NAN;
    }
    v
}

fn fill_and_layout(device: Device) -> Result<()> {
    let full = Tensor::full_on(&[5], f64::NAN, DType::F32, device)?;
    assert_nan_where("full", &full.to_vec()?, |_| true);
    // [2, 3, 4] with NaN at (1, 2, 3) and (0, 1, 0).
    let x = tensor(&values_with_nan(24, 1, &[23, 4]), &[2, 3, 4], device)?;
    let p = x.permute(&[2, 0, 1])?.to_vec()?; // [4, 2, 3]
    assert_nan_where("permute", &p, |i| i == 3 * 6 + 5 || i == 1);
    let t = x.transpose(1, 2)?.to_vec()?; // [2, 4, 3]
    assert_nan_where("transpose", &t, |i| i == 12 + 3 * 3 + 2 || i == 1);
    let row = tensor(&[NAN, 1.0], &[2], device)?;
    let b = row.broadcast_to(&[3, 2])?.to_vec()?;
    assert_nan_where("broadcast_to", &b, |i| i % 2 == 0);
    let r = x.reshape(&[6, 4])?.flatten()?.to_vec()?;
    assert_nan_where("reshape", &r, |i| i == 23 || i == 4);
    Ok(())
}

fn unary_functions(device: Device) -> Result<()> {
    let x = tensor(&[NAN, 0.5, 2.0], &[3], device)?;
    type Op = fn(&Tensor) -> Result<Tensor>;
    let ops: [(&str, Op); 11] = [
        ("neg", |x| x.neg()),
        ("exp", |x| x.exp()),
        ("log", |x| x.log()),
        ("sqrt", |x| x.sqrt()),
        ("sigmoid", |x| x.sigmoid()),
        ("tanh", |x| x.tanh()),
        ("powf 2", |x| x.powf(2.0)),
        ("powf 0.5", |x| x.powf(0.5)),
        ("powf -1", |x| x.powf(-1.0)),
        ("add_scalar", |x| x.add_scalar(1.0)),
        ("mul_scalar 0", |x| x.mul_scalar(0.0)),
    ];
    for (name, op) in ops {
        assert_nan_where(name, &op(&x)?.to_vec()?, |i| i == 0);
    }
    // IEEE pow: x^0 is 1 even for NaN, and 1^p is 1.
    assert_values("powf 0", &x.powf(0.0)?.to_vec()?, &[1.0, 1.0, 1.0]);
    let ones = tensor(&[1.0, 1.0], &[2], device)?;
    assert_values("1^NaN", &ones.powf(NAN)?.to_vec()?, &[1.0, 1.0]);
    // A NaN scalar operand.
    assert_nan_where("add NaN", &x.add_scalar(NAN)?.to_vec()?, |_| true);
    assert_nan_where("mul NaN", &x.mul_scalar(NAN)?.to_vec()?, |_| true);
    Ok(())
}

fn relu_forward_and_backward(device: Device) -> Result<()> {
    let x = tensor(&[NAN, -1.0, 0.0, 2.0], &[4], device)?.requires_grad();
    let y = x.relu()?;
    assert_values("relu", &y.to_vec()?, &[NAN, 0.0, 0.0, 2.0]);
    // PyTorch's rule, threshold_backward(g, y, 0): 0 where y <= 0, g elsewhere, a NaN input
    // included (its gradient is the incoming one).
    let g = tensor(&[3.0, 3.0, 3.0, 3.0], &[4], device)?;
    y.mul(&g)?.sum_all()?.backward()?;
    let grad = x.grad().expect("x requires grad").to_vec()?;
    assert_values("relu grad", &grad, &[3.0, 0.0, 0.0, 3.0]);
    // A NaN gradient passes where the unit is active and is masked where it is not.
    let x = tensor(&[2.0, -1.0, 5.0], &[3], device)?.requires_grad();
    let g = tensor(&[1.0, NAN, NAN], &[3], device)?;
    x.relu()?.mul(&g)?.sum_all()?.backward()?;
    let grad = x.grad().expect("x requires grad").to_vec()?;
    assert_values("relu of a NaN grad", &grad, &[1.0, 0.0, NAN]);
    Ok(())
}

fn binary_arithmetic_and_broadcast(device: Device) -> Result<()> {
    let a = tensor(&[NAN, 1.0, 2.0, 3.0, 4.0, 5.0], &[2, 3], device)?;
    let b = tensor(&[1.0, NAN], &[2, 1], device)?;
    type Op = fn(&Tensor, &Tensor) -> Result<Tensor>;
    let ops: [(&str, Op); 4] = [
        ("add", |a, b| a.add(b)),
        ("sub", |a, b| a.sub(b)),
        ("mul", |a, b| a.mul(b)),
        ("div", |a, b| a.div(b)),
    ];
    for (name, op) in ops {
        // Row 0: the NaN of a; row 1: b's NaN broadcast over the row.
        assert_nan_where(name, &op(&a, &b)?.to_vec()?, |i| i == 0 || i >= 3);
        assert_nan_where(name, &op(&b, &a)?.to_vec()?, |i| i == 0 || i >= 3);
    }
    // NaN times zero is NaN.
    let zeros = Tensor::full_on(&[2, 3], 0.0, DType::F32, device)?;
    assert_nan_where("NaN * 0", &a.mul(&zeros)?.to_vec()?, |i| i == 0);
    Ok(())
}

fn comparisons(device: Device) -> Result<()> {
    // `eq` is an IEEE comparison: NaN equals nothing, itself included.
    let a = tensor(&[NAN, NAN, 1.0, 2.0], &[4], device)?;
    let b = tensor(&[NAN, 1.0, NAN, 2.0], &[4], device)?;
    assert_values("eq", &a.eq(&b)?.to_vec()?, &[0.0, 0.0, 0.0, 1.0]);
    // The ReLU mask: 0 where the output is <= 0, the gradient where it is NaN or positive.
    let g = tensor(&[1.0, 2.0, 3.0, NAN], &[4], device)?;
    let y = tensor(&[NAN, -1.0, 4.0, 5.0], &[4], device)?;
    assert_values(
        "mask_positive",
        &g.mask_positive(&y)?.to_vec()?,
        &[1.0, 0.0, 3.0, NAN],
    );
    Ok(())
}

fn reductions(device: Device) -> Result<()> {
    // Row 1 holds a NaN, row 2 an infinity.
    let data = [
        1.0,
        -2.0,
        3.0,
        0.5,
        4.0,
        5.0,
        NAN,
        -1.0,
        f32::INFINITY,
        1.0,
        2.0,
        3.0,
    ];
    let x = tensor(&data, &[3, 4], device)?;
    assert_values(
        "sum",
        &x.sum(&[1], false)?.to_vec()?,
        &[2.5, NAN, f32::INFINITY],
    );
    assert_values(
        "mean",
        &x.mean(&[1], false)?.to_vec()?,
        &[0.625, NAN, f32::INFINITY],
    );
    assert_values(
        "max",
        &x.max(&[1], false)?.to_vec()?,
        &[3.0, NAN, f32::INFINITY],
    );
    assert_values(
        "max axis 0",
        &x.max(&[0], false)?.to_vec()?,
        &[f32::INFINITY, 5.0, NAN, 3.0],
    );
    assert_nan_where("max_all", &x.max_all()?.to_vec()?, |_| true);
    assert_nan_where("sum_all", &x.sum_all()?.to_vec()?, |_| true);
    assert_nan_where("mean_all", &x.mean_all()?.to_vec()?, |_| true);
    // NaN beats +inf wherever it stands.
    let y = tensor(&[NAN, f32::INFINITY, f32::INFINITY, NAN], &[2, 2], device)?;
    assert_nan_where("max with inf", &y.max(&[1], false)?.to_vec()?, |_| true);
    // An empty axis has no maximum.
    let empty = Tensor::full_on(&[3, 0], 0.0, DType::F32, device)?;
    let err = empty.max(&[1], false).unwrap_err().to_string();
    assert!(err.contains("max") && err.contains("[3, 0]"), "{err}");
    Ok(())
}

fn long_reductions(device: Device) -> Result<()> {
    // Rows long enough that the GPU splits them over several workgroups, with the NaN early,
    // late, or in one of several outputs.
    for (outer, len, inner, nan_at) in [
        (1, 70_001, 1, 3),
        (1, 70_001, 1, 69_999),
        (2, 9_973, 3, 9_973 * 3 + 5_000 * 3 + 1),
    ] {
        let x = tensor(
            &values_with_nan(outer * len * inner, 2, &[nan_at]),
            &[outer, len, inner],
            device,
        )?;
        let nan_out = (nan_at / (len * inner)) * inner + nan_at % inner;
        for (name, r) in [("sum", x.sum(&[1], false)?), ("max", x.max(&[1], false)?)] {
            let what = format!("{name} of [{outer}, {len}, {inner}] with NaN at {nan_at}");
            assert_nan_where(&what, &r.to_vec()?, |i| i == nan_out);
        }
    }
    Ok(())
}

fn max_gradient_flows_to_nan(device: Device) -> Result<()> {
    // The maximum is NaN, so the gradient goes where the NaNs are, split between them.
    let x = tensor(&[1.0, NAN, 3.0, NAN], &[4], device)?.requires_grad();
    x.max_all()?.backward()?;
    let grad = x.grad().expect("x requires grad").to_vec()?;
    assert_values("max grad", &grad, &[0.0, 0.5, 0.0, 0.5]);
    // Per row: NaN in row 0 only; row 1 has no tie, row 2 a tie of three.
    let x = tensor(
        &[NAN, 2.0, 1.0, 2.0, 5.0, 1.0, 4.0, 4.0, 4.0],
        &[3, 3],
        device,
    )?;
    let x = x.requires_grad();
    x.max(&[1], false)?.sum_all()?.backward()?;
    let grad = x.grad().expect("x requires grad").to_vec()?;
    let third = 1.0 / 3.0;
    let want = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, third, third, third];
    assert_values("row max grad", &grad, &want);
    Ok(())
}

fn argmax_points_at_the_first_nan(device: Device) -> Result<()> {
    let inf = f32::INFINITY;
    let data = [
        1.0, NAN, 5.0, NAN, // first NaN
        NAN, 2.0, 3.0, 4.0, // NaN first
        1.0, 9.0, 3.0, 9.0, // no NaN: first maximum
        -inf, -inf, NAN, inf, // NaN above +inf
    ];
    let x = tensor(&data, &[4, 4], device)?;
    assert_values("argmax", &x.argmax()?.to_vec()?, &[1.0, 0.0, 1.0, 2.0]);
    // Rows longer than a workgroup: the lanes must agree on the first NaN.
    let cols = 1031;
    let mut long = values(3 * cols, 3);
    long[700] = NAN;
    long[900] = NAN;
    long[cols + 500] = 2.0;
    long[2 * cols + 1030] = NAN;
    long[2 * cols + 3] = 2.0;
    let x = tensor(&long, &[3, cols], device)?;
    assert_values(
        "long argmax",
        &x.argmax()?.to_vec()?,
        &[700.0, 500.0, 1030.0],
    );
    let empty = Tensor::full_on(&[3, 0], 0.0, DType::F32, device)?;
    let err = empty.argmax().unwrap_err().to_string();
    assert!(err.contains("argmax") && err.contains("[3, 0]"), "{err}");
    Ok(())
}

fn softmax_and_cross_entropy(device: Device) -> Result<()> {
    for cols in [4, 1031] {
        // Row 1 holds a NaN (at its end); rows 0 and 2 do not.
        let x = tensor(
            &values_with_nan(3 * cols, 4, &[2 * cols - 1]),
            &[3, cols],
            device,
        )?;
        let what = format!("log_softmax [3, {cols}]");
        assert_nan_where(&what, &x.log_softmax()?.to_vec()?, |i| i / cols == 1);
        let x = x.requires_grad();
        let loss = x.softmax_cross_entropy(&[0, 1, 2])?;
        assert_nan_where(
            &format!("cross-entropy [3, {cols}]"),
            &loss.to_vec()?,
            |_| true,
        );
        // The gradient is the fused one, `(softmax - onehot) / n`: NaN in the NaN row only.
        loss.backward()?;
        let grad = x.grad().expect("x requires grad").to_vec()?;
        let what = format!("cross-entropy grad [3, {cols}]");
        assert_nan_where(&what, &grad, |i| i / cols == 1);
    }
    Ok(())
}

fn matmul(device: Device) -> Result<()> {
    // Shapes for the CPU's threaded paths and the GPU's split-K (few output blocks, long K).
    for (m, k, n) in [(4, 300, 5), (70, 61, 67), (2, 5000, 3)] {
        let (ai, bj) = (m / 2, n - 1);
        let a = values_with_nan(m * k, 5, &[ai * k + k / 3]);
        let b = values_with_nan(k * n, 6, &[(k / 2) * n + bj]);
        let expect = |i: usize| i / n == ai || i % n == bj;
        let what = format!("matmul {m}x{k}x{n}");
        let (ta, tb) = (tensor(&a, &[m, k], device)?, tensor(&b, &[k, n], device)?);
        assert_nan_where(&what, &ta.matmul(&tb)?.to_vec()?, expect);
        // The same product through the transpose flags.
        let (at, bt) = (ta.transpose(0, 1)?, tb.transpose(0, 1)?);
        assert_nan_where(&what, &at.t().matmul(&bt.t())?.to_vec()?, expect);
    }
    // Batched, with a shared right operand: the NaN stays in its batch entry.
    let a = tensor(&values_with_nan(2 * 3 * 4, 7, &[12]), &[2, 3, 4], device)?;
    let b = tensor(&values(4 * 5, 8), &[4, 5], device)?;
    let c = a.matmul(&b)?.to_vec()?;
    assert_nan_where("batched matmul", &c, |i| (15..20).contains(&i));
    Ok(())
}

fn conv2d_forward_and_backward(device: Device) -> Result<()> {
    let (n, c_in, h, w, c_out) = (2, 2, 6, 6, 3);
    let opts = Conv2dOptions {
        stride: (1, 1),
        padding: Padding::uniform(1),
    };
    // (image, channel, y, x) of an output or input index.
    let coords = |i: usize, c: usize| (i / (c * h * w), (i / (h * w)) % c, (i / w) % h, i % w);
    let gy = tensor(&values(n * c_out * h * w, 11), &[n, c_out, h, w], device)?;

    // A NaN pixel x[1, 0, 2, 3]: the outputs whose 3 x 3 window covers it are NaN. The weight's
    // gradient is NaN for every tap over input channel 0 (each reaches the pixel from some
    // output); the input's gradient does not read x and stays finite.
    let nan_pixel = (c_in * h + 2) * w + 3;
    let x = values_with_nan(n * c_in * h * w, 9, &[nan_pixel]);
    let x = tensor(&x, &[n, c_in, h, w], device)?.requires_grad();
    let weight = tensor(&values(c_out * c_in * 9, 10), &[c_out, c_in, 3, 3], device)?;
    let weight = weight.requires_grad();
    let y = x.conv2d(&weight, None, opts)?;
    assert_nan_where("conv2d NaN pixel", &y.to_vec()?, |i| {
        let (b, _, oy, ox) = coords(i, c_out);
        b == 1 && oy.abs_diff(2) <= 1 && ox.abs_diff(3) <= 1
    });
    y.mul(&gy)?.sum_all()?.backward()?;
    let gx = x.grad().expect("x requires grad").to_vec()?;
    assert_nan_where("conv2d backward-data, NaN pixel", &gx, |_| false);
    let gw = weight.grad().expect("weight requires grad").to_vec()?;
    assert_nan_where("conv2d backward-weight, NaN pixel", &gw, |i| {
        (i / 9) % c_in == 0
    });

    // A NaN weight at the centre tap of (out 0, in 1): every output of channel 0 is NaN, and so
    // is the input gradient over all of input channel 1 (the centre tap reaches every pixel);
    // the weight's gradient does not read the weight and stays finite.
    let mut wv = values(c_out * c_in * 9, 12);
    wv[9 + 4] = NAN;
    let weight = tensor(&wv, &[c_out, c_in, 3, 3], device)?.requires_grad();
    let x = tensor(&values(n * c_in * h * w, 13), &[n, c_in, h, w], device)?.requires_grad();
    let y = x.conv2d(&weight, None, opts)?;
    assert_nan_where("conv2d NaN weight", &y.to_vec()?, |i| {
        coords(i, c_out).1 == 0
    });
    y.mul(&gy)?.sum_all()?.backward()?;
    let gx = x.grad().expect("x requires grad").to_vec()?;
    assert_nan_where("conv2d backward-data, NaN weight", &gx, |i| {
        coords(i, c_in).1 == 1
    });
    let gw = weight.grad().expect("weight requires grad").to_vec()?;
    assert_nan_where("conv2d backward-weight, NaN weight", &gw, |_| false);
    Ok(())
}

fn batch_norm_forward_backward_and_statistics(device: Device) -> Result<()> {
    // [n, c, spatial] geometries: images, [n, c] features, and one long channel (the GPU's
    // split statistics); NaN in channel 1.
    for dims in [vec![4, 3, 2, 2], vec![5, 3], vec![7, 2, 9_973]] {
        let (n, c) = (dims[0], dims[1]);
        let spatial: usize = dims[2..].iter().product();
        let len = n * c * spatial;
        let nan_at = (n / 2 * c + 1) * spatial + spatial / 2;
        let channel = |i: usize| (i / spatial) % c;
        let x = tensor(&values_with_nan(len, 15, &[nan_at]), &dims, device)?.requires_grad();
        let gamma = tensor(&values(c, 16), &[c], device)?.requires_grad();
        let beta = tensor(&values(c, 17), &[c], device)?.requires_grad();
        let (output, stats) = x.batch_norm_train(Some(&gamma), Some(&beta), 1e-5)?;
        let what = format!("batch norm {dims:?}");
        assert_nan_where(&what, &output.to_vec()?, |i| channel(i) == 1);
        let (mean, var) = (stats.mean, stats.var);
        assert_nan_where(&format!("{what} mean"), &mean.to_vec()?, |ch| ch == 1);
        assert_nan_where(&format!("{what} var"), &var.to_vec()?, |ch| ch == 1);
        // Backward: the input's and gamma's gradients read the statistics (NaN in channel 1);
        // beta's is the sum of the output gradient and stays finite.
        let gy = tensor(&values(len, 18), &dims, device)?;
        output.mul(&gy)?.sum_all()?.backward()?;
        let gx = x.grad().expect("x requires grad").to_vec()?;
        assert_nan_where(&format!("{what} gx"), &gx, |i| channel(i) == 1);
        let dgamma = gamma.grad().expect("gamma requires grad").to_vec()?;
        assert_nan_where(&format!("{what} dgamma"), &dgamma, |ch| ch == 1);
        let dbeta = beta.grad().expect("beta requires grad").to_vec()?;
        assert_nan_where(&format!("{what} dbeta"), &dbeta, |_| false);
        // Eval mode: a NaN running variance poisons its channel only.
        let running_mean = tensor(&values(c, 19), &[c], device)?;
        let mut rv: Vec<f32> = values(c, 20).iter().map(|v| v.abs() + 0.5).collect();
        rv[0] = NAN;
        let running_var = tensor(&rv, &[c], device)?;
        let clean = tensor(&values(len, 21), &dims, device)?;
        let eval = clean.batch_norm_eval(None, None, &running_mean, &running_var, 1e-5)?;
        assert_nan_where(&format!("{what} eval"), &eval.to_vec()?, |i| {
            channel(i) == 0
        });
    }
    Ok(())
}

fn dropout(device: Device) -> Result<()> {
    // A dropped NaN stays NaN (NaN * 0), as in PyTorch.
    let x = Tensor::full_on(&[64], f64::NAN, DType::F32, device)?;
    assert_nan_where("dropout", &x.dropout(0.5, 7)?.to_vec()?, |_| true);
    let ones = Tensor::full_on(&[64], 1.0, DType::F32, device)?;
    let kept = ones.dropout(0.5, 7)?.to_vec()?;
    assert!(
        kept.contains(&0.0),
        "the mask drops some elements: {kept:?}"
    );
    Ok(())
}

fn optimizer_updates(device: Device) -> Result<()> {
    let len = 5;
    // NaN in the gradient at 1 and in the parameter at 3. As in PyTorch, a zero weight decay
    // adds no decay term, so the parameter's NaN reaches the moments only through a nonzero L2
    // term (Adam) or decay (SGD).
    let param = || tensor(&values_with_nan(len, 22, &[3]), &[len], device);
    let grad = tensor(&values_with_nan(len, 23, &[1]), &[len], device)?;
    let poisoned = |i: usize| i == 1 || i == 3;
    for (decoupled, weight_decay) in [(false, 0.0), (false, 0.01), (true, 0.01)] {
        let (p, m, v) = (param()?, grad.zeros_like()?, grad.zeros_like()?);
        let hp = AdamStep {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            decoupled,
            step: 1,
        };
        p.adam_update_(&grad, &m, &v, &hp)?;
        let what = format!("adam decoupled {decoupled} decay {weight_decay}");
        assert_nan_where(&what, &p.to_vec()?, poisoned);
        let l2 = !decoupled && weight_decay != 0.0;
        let moments = |i: usize| i == 1 || (i == 3 && l2);
        assert_nan_where(&format!("{what} m"), &m.to_vec()?, moments);
        assert_nan_where(&format!("{what} v"), &v.to_vec()?, moments);
    }
    for (momentum, nesterov, weight_decay) in [
        (0.0, false, 5e-4),
        (0.9, false, 0.0),
        (0.9, false, 5e-4),
        (0.9, true, 5e-4),
    ] {
        let p = param()?;
        let velocity = grad.zeros_like()?;
        let hp = SgdStep {
            lr: 0.1,
            momentum,
            nesterov,
            weight_decay,
        };
        let v = (momentum > 0.0).then_some(&velocity);
        p.sgd_update_(&grad, v, &hp)?;
        let what = format!("sgd momentum {momentum} nesterov {nesterov} decay {weight_decay}");
        assert_nan_where(&what, &p.to_vec()?, poisoned);
        if momentum > 0.0 {
            let velocity_nan = |i: usize| i == 1 || (i == 3 && weight_decay != 0.0);
            assert_nan_where(
                &format!("{what} velocity"),
                &velocity.to_vec()?,
                velocity_nan,
            );
        }
    }
    Ok(())
}
