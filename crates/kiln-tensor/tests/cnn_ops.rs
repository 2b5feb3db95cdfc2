//! Semantics of the CNN ops on every device, against values worked out by hand: tie-breaking
//! of max pooling, NaN propagation (IEEE, as in PyTorch: a NaN reaches exactly the outputs the
//! maths says, and wins a maximum), and shape errors that name the op and the shapes. Each test
//! body runs as `<name>_cpu` and `<name>_gpu` (skipped without an adapter unless
//! `KILN_REQUIRE_GPU=1`).

use kiln_tensor::test_util::assert_close;
use kiln_tensor::{device_test, Device, Gelu, Pool2dOptions, Result, Tensor};

const NAN: f32 = f32::NAN;

/// A tensor of `data` with shape `dims` on `device`, tracking gradients.
fn leaf(data: &[f32], dims: &[usize], device: Device) -> Tensor {
    Tensor::from_slice(data, dims)
        .and_then(|t| t.to_device(device))
        .unwrap()
        .requires_grad()
}

/// Asserts `got == want` elementwise within f32 rounding, NaN exactly where `want` is NaN.
fn assert_values(what: &str, got: &Tensor, want: &[f32]) {
    let want: Vec<f64> = want.iter().map(|&w| w.into()).collect();
    assert_close(what, &got.to_vec_f64().unwrap(), &want, 1e-5, 1e-5);
}

/// The gradient of `Σ y` with respect to `x`.
fn grad_of_sum(x: &Tensor, y: Result<Tensor>) -> Tensor {
    y.unwrap().sum_all().unwrap().backward().unwrap();
    x.grad().expect("x tracks gradients")
}

/// The error message of `r`, asserted to name every one of `parts`.
fn assert_error(r: Result<Tensor>, parts: &[&str]) {
    let msg = r.expect_err("an error").to_string();
    for part in parts {
        assert!(msg.contains(part), "{msg:?} does not name {part:?}");
    }
}

device_test!(max_pool2d_ties_go_to_the_first_element, |device| {
    // One 2x2 window of equal values, one with a tie between its last two, one with -inf only.
    let ninf = f32::NEG_INFINITY;
    let x = leaf(
        &[
            1.0, 1.0, 0.0, 2.0, ninf, ninf, 1.0, 1.0, 0.0, 2.0, ninf, ninf,
        ],
        &[1, 1, 2, 6],
        device,
    );
    let y = x.max_pool2d(Pool2dOptions::window(2));
    let g = grad_of_sum(&x, y);
    assert_values(
        "gradient",
        &g,
        &[1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    );
});

device_test!(
    max_pool2d_overlapping_windows_add_their_gradients,
    |device| {
        let x = leaf(&[0.0, 3.0, 1.0, 2.0, 0.5], &[1, 1, 1, 5], device);
        let opts = Pool2dOptions {
            kernel: (1, 3),
            stride: (1, 1),
            padding: (0, 1),
        };
        let y = x.max_pool2d(opts).unwrap();
        assert_values("output", &y, &[3.0, 3.0, 3.0, 2.0, 2.0]);
        assert_values(
            "gradient",
            &grad_of_sum(&x, Ok(y)),
            &[0.0, 3.0, 0.0, 2.0, 0.0],
        );
    }
);

device_test!(avg_pool2d_counts_padding_as_zeros, |device| {
    let x = leaf(&[1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2], device);
    let opts = Pool2dOptions {
        kernel: (2, 2),
        stride: (1, 1),
        padding: (1, 1),
    };
    let y = x.avg_pool2d(opts).unwrap();
    assert_values(
        "output",
        &y,
        &[0.25, 0.75, 0.5, 1.0, 2.5, 1.5, 0.75, 1.75, 1.0],
    );
    assert_values("gradient", &grad_of_sum(&x, Ok(y)), &[1.0, 1.0, 1.0, 1.0]);
});

device_test!(pooling_propagates_nan, |device| {
    // A NaN at (0, 1) of a 3x3 plane: it wins the max of every window holding it, and the
    // gradient of each such window flows to it.
    let x = leaf(
        &[0.0, NAN, 5.0, 1.0, 2.0, 3.0, 9.0, 4.0, 0.0],
        &[1, 1, 3, 3],
        device,
    );
    let opts = Pool2dOptions {
        kernel: (2, 2),
        stride: (1, 1),
        padding: (0, 0),
    };
    let y = x.max_pool2d(opts).unwrap();
    assert_values("max_pool2d", &y, &[NAN, NAN, 9.0, 4.0]);
    assert_values(
        "max_pool2d gradient",
        &grad_of_sum(&x, Ok(y)),
        &[0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0],
    );
    let avg = x.detach().avg_pool2d(opts).unwrap();
    assert_values("avg_pool2d", &avg, &[NAN, NAN, 4.0, 2.25]);
    let global = x.detach().global_max_pool2d().unwrap();
    assert_values("global_max_pool2d", &global, &[NAN]);
    assert_values(
        "global_avg_pool2d",
        &x.detach().global_avg_pool2d().unwrap(),
        &[NAN],
    );
});

#[test]
fn pooling_shape_errors_name_the_op_and_shape() {
    let x = Tensor::zeros(&[2, 3, 4]);
    assert_error(
        x.max_pool2d(Pool2dOptions::window(2)),
        &["max_pool2d", "[2, 3, 4]"],
    );
    assert_error(x.global_avg_pool2d(), &["global_avg_pool2d", "[2, 3, 4]"]);
    let x = Tensor::zeros(&[1, 1, 3, 3]);
    assert_error(
        x.avg_pool2d(Pool2dOptions::window(4)),
        &["avg_pool2d", "[1, 1, 3, 3]", "fit"],
    );
    let opts = Pool2dOptions {
        kernel: (2, 2),
        stride: (1, 1),
        padding: (2, 0),
    };
    assert_error(x.max_pool2d(opts), &["max_pool2d", "half the window"]);
    let opts = Pool2dOptions {
        kernel: (2, 2),
        stride: (0, 1),
        padding: (0, 0),
    };
    assert_error(x.max_pool2d(opts), &["max_pool2d", "stride"]);
}

device_test!(cat_and_narrow_move_values_and_gradients, |device| {
    let a = leaf(&[1.0, 2.0, 3.0, NAN], &[2, 2], device);
    let b = leaf(&[5.0, 6.0], &[2, 1], device);
    let y = Tensor::cat(&[a.clone(), b.clone()], 1).unwrap();
    assert_values("cat", &y, &[1.0, 2.0, 5.0, 3.0, NAN, 6.0]);
    let z = y.narrow(1, 1, 2).unwrap();
    assert_values("narrow", &z, &[2.0, 5.0, NAN, 6.0]);
    let w = Tensor::from_slice(&[1.0, 2.0, 3.0, 4.0], &[2, 2])
        .and_then(|w| w.to_device(device))
        .unwrap();
    z.mul(&w).unwrap().sum_all().unwrap().backward().unwrap();
    assert_values("gradient of a", &a.grad().unwrap(), &[0.0, 1.0, 0.0, 3.0]);
    assert_values("gradient of b", &b.grad().unwrap(), &[2.0, 4.0]);
});

#[test]
fn cat_and_narrow_errors_name_the_op_and_shapes() {
    let (a, b) = (Tensor::zeros(&[2, 3]), Tensor::zeros(&[3, 2]));
    assert_error(
        Tensor::cat(&[a.clone(), b], 1),
        &["cat", "[2, 3]", "[3, 2]"],
    );
    assert_error(
        Tensor::cat(&[a.clone(), Tensor::zeros(&[2])], 0),
        &["cat", "[2]"],
    );
    assert_error(Tensor::cat(&[], 0), &["cat", "no tensors"]);
    assert_error(Tensor::cat(std::slice::from_ref(&a), 2), &["cat", "axis 2"]);
    assert_error(a.narrow(1, 2, 2), &["narrow", "[2, 3]", "out of range"]);
    assert_error(a.narrow(2, 0, 1), &["narrow", "[2, 3]"]);
}

device_test!(
    layer_norm_normalizes_each_sample_and_propagates_nan,
    |device| {
        // Row 0: mean 2, biased variance 2/3; row 1 holds NaN and comes out all NaN.
        let x = leaf(&[1.0, 2.0, 3.0, 0.0, NAN, 1.0], &[2, 3], device);
        let gamma = leaf(&[1.0, 2.0, -1.0], &[3], device);
        let beta = leaf(&[0.0, 0.5, 1.0], &[3], device);
        let y = x.layer_norm(&[3], Some(&gamma), Some(&beta), 0.0).unwrap();
        let s = (1.5f32).sqrt();
        assert_values("layer_norm", &y, &[-s, 0.5, 1.0 - s, NAN, NAN, NAN]);
        let g = grad_of_sum(&beta, Ok(y));
        // Σ over the rows of 1: row 1's NaN outputs do not reach beta's gradient.
        assert_values("beta gradient", &g, &[2.0, 2.0, 2.0]);
        assert!(x.grad().unwrap().to_vec().unwrap()[3..]
            .iter()
            .all(|v| v.is_nan()));
    }
);

#[test]
fn layer_norm_errors_name_the_op_and_shapes() {
    let x = Tensor::zeros(&[2, 3, 4]);
    assert_error(
        x.layer_norm(&[3], None, None, 1e-5),
        &["layer_norm", "[3]", "[2, 3, 4]"],
    );
    assert_error(
        x.layer_norm(&[], None, None, 1e-5),
        &["layer_norm", "[2, 3, 4]"],
    );
    let gamma = Tensor::ones(&[3]);
    assert_error(
        x.layer_norm(&[4], Some(&gamma), None, 1e-5),
        &["layer_norm", "[3]", "[4]"],
    );
}

device_test!(
    activations_match_reference_values_and_propagate_nan,
    |device| {
        let x = leaf(&[-2.0, 0.0, 1.0, NAN], &[4], device);
        type Op = fn(&Tensor) -> Result<Tensor>;
        // The defining formulas evaluated in double precision, rounded; gradients of the sum.
        let cases: [(&str, Op, [f32; 4], [f32; 4]); 6] = [
            (
                "gelu erf",
                |x| x.gelu(Gelu::Erf),
                [-0.04550026, 0.0, 0.8413447, NAN],
                [-0.0852318, 0.5, 1.0833155, NAN],
            ),
            (
                "gelu tanh",
                |x| x.gelu(Gelu::Tanh),
                [-0.04540231, 0.0, 0.841192, NAN],
                [-0.08609922, 0.5, 1.082964, NAN],
            ),
            (
                "silu",
                |x| x.silu(),
                [-0.2384058, 0.0, 0.7310586, NAN],
                [-0.09078425, 0.5, 0.9276705, NAN],
            ),
            (
                "leaky_relu",
                |x| x.leaky_relu(0.1),
                [-0.2, 0.0, 1.0, NAN],
                [0.1, 0.1, 1.0, NAN],
            ),
            (
                "abs",
                |x| x.abs(),
                [2.0, 0.0, 1.0, NAN],
                [-1.0, 0.0, 1.0, NAN],
            ),
            (
                "clamp",
                |x| x.clamp(-1.0, 0.0),
                [-1.0, 0.0, 0.0, NAN],
                [0.0, 1.0, 0.0, NAN],
            ),
        ];
        for (name, op, want, want_grad) in cases {
            x.zero_grad();
            let y = op(&x).unwrap();
            assert_values(name, &y, &want);
            assert_values(
                &format!("{name} gradient"),
                &grad_of_sum(&x, Ok(y)),
                &want_grad,
            );
        }
    }
);

device_test!(
    maximum_minimum_and_where_propagate_nan_and_split_ties,
    |device| {
        let a = leaf(&[1.0, 2.0, NAN, 3.0], &[4], device);
        let b = leaf(&[1.0, 5.0, 0.0, NAN], &[4], device);
        let y = a.maximum(&b).unwrap();
        assert_values("maximum", &y, &[1.0, 5.0, NAN, NAN]);
        y.sum_all().unwrap().backward().unwrap();
        assert_values(
            "maximum gradient of a",
            &a.grad().unwrap(),
            &[0.5, 0.0, 1.0, 1.0],
        );
        assert_values(
            "maximum gradient of b",
            &b.grad().unwrap(),
            &[0.5, 1.0, 1.0, 1.0],
        );
        assert_values(
            "minimum",
            &a.detach().minimum(&b.detach()).unwrap(),
            &[1.0, 2.0, NAN, NAN],
        );
        // The unselected branch's NaN and infinity stay out; a NaN mask selects `on_true`.
        let mask = leaf(&[1.0, 0.0, NAN, 0.0], &[4], device).detach();
        let (t, f) = (
            leaf(&[NAN, 1.0, 2.0, 3.0], &[4], device),
            leaf(&[4.0, 5.0, NAN, f32::INFINITY], &[4], device),
        );
        let y = Tensor::where_(&mask, &t, &f).unwrap();
        assert_values("where_", &y, &[NAN, 5.0, 2.0, f32::INFINITY]);
        y.sum_all().unwrap().backward().unwrap();
        assert_values(
            "where_ gradient of on_true",
            &t.grad().unwrap(),
            &[1.0, 0.0, 1.0, 0.0],
        );
        assert_values(
            "where_ gradient of on_false",
            &f.grad().unwrap(),
            &[0.0, 1.0, 0.0, 1.0],
        );
    }
);

device_test!(
    where_gives_the_selected_value_bit_for_bit_and_watches_its_mask,
    |device| {
        let on = |data: &[f32]| {
            Tensor::from_slice(data, &[2])
                .and_then(|t| t.to_device(device))
                .unwrap()
        };
        // A selected -0 stays -0, whichever branch it comes from.
        for (mask, bits) in [
            (on(&[1.0, 1.0]), [true, false]),
            (on(&[0.0, 0.0]), [false, true]),
        ] {
            let y = Tensor::where_(&mask, &on(&[-0.0, 0.0]), &on(&[0.0, -0.0])).unwrap();
            let signs: Vec<bool> = y
                .to_vec()
                .unwrap()
                .iter()
                .map(|v| v.is_sign_negative())
                .collect();
            assert_eq!(signs, bits, "mask {:?}", mask.to_vec().unwrap());
        }
        // Writing to the mask after the forward pass fails backward, as for any input.
        let x = leaf(&[1.0, 2.0], &[2], device);
        let mask = on(&[1.0, 0.0]);
        let y = Tensor::where_(&mask, &x, &on(&[0.0, 0.0])).unwrap();
        mask.assign(&on(&[0.0, 1.0])).unwrap();
        let err = y.sum_all().unwrap().backward().unwrap_err();
        assert!(err.to_string().contains("in place"), "{err}");
    }
);

#[test]
fn elementwise_errors_name_the_op_and_shapes() {
    let x = Tensor::zeros(&[2, 3]);
    assert_error(x.clamp(1.0, -1.0), &["clamp", "[1, -1]", "[2, 3]"]);
    assert_error(x.clamp(f32::NAN, 1.0), &["clamp", "NaN"]);
    assert_error(x.leaky_relu(f32::NAN), &["leaky_relu", "NaN", "[2, 3]"]);
    let y = Tensor::zeros(&[4]);
    assert_error(x.maximum(&y), &["maximum", "[2, 3]", "[4]"]);
    assert_error(x.minimum(&y), &["minimum", "[2, 3]", "[4]"]);
    assert_error(Tensor::where_(&y, &x, &x), &["where_", "[2, 3]", "[4]"]);
    let one = Tensor::zeros(&[1]);
    let (two, three) = (Tensor::zeros(&[2]), Tensor::zeros(&[3]));
    assert_error(
        Tensor::where_(&one, &two, &three),
        &["where_", "[2]", "[3]"],
    );
}

device_test!(
    label_smoothing_follows_its_definition_and_propagates_nan,
    |device| {
        let labels = [2u32, 0, 1];
        let logits = Tensor::rand_uniform(&[3, 4], -3.0, 3.0, 5)
            .to_device(device)
            .unwrap();
        let s = 0.2;
        let fused = logits.softmax_cross_entropy_smoothed(&labels, s).unwrap();
        // (1 - s) * nll + s * mean over classes of -log p, from the unfused ops.
        let nll = logits.softmax_cross_entropy(&labels).unwrap();
        let uniform = logits
            .log_softmax()
            .unwrap()
            .mean_all()
            .unwrap()
            .neg()
            .unwrap();
        let want = nll
            .mul_scalar(1.0 - s)
            .unwrap()
            .add(&uniform.mul_scalar(s).unwrap())
            .unwrap();
        assert_values("smoothed loss", &fused, &want.to_vec().unwrap());
        assert!(
            (fused.item().unwrap() - nll.item().unwrap()).abs() > 1e-3,
            "smoothing changes the loss"
        );
        let x = leaf(&[0.0, NAN, 1.0, 2.0, 0.5, -1.0], &[2, 3], device);
        let loss = x.softmax_cross_entropy_smoothed(&[0, 2], 0.1).unwrap();
        assert_values("loss with a NaN logit", &loss, &[NAN]);
        let g = grad_of_sum(&x, Ok(loss)).to_vec().unwrap();
        assert!(
            g[..3].iter().all(|v| v.is_nan()) && g[3..].iter().all(|v| v.is_finite()),
            "{g:?}"
        );
    }
);

#[test]
fn label_smoothing_outside_0_1_is_an_error() {
    let x = Tensor::zeros(&[2, 3]);
    for s in [-0.1, 1.5, f32::NAN] {
        let msg = x
            .softmax_cross_entropy_smoothed(&[0, 1], s)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("softmax_cross_entropy") && msg.contains("smoothing"),
            "{msg}"
        );
    }
}
