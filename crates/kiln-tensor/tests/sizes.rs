//! Sizes from the caller are checked: a shape whose element count overflows, an allocation the
//! host cannot make, or an empty axis that an op cannot reduce is an error naming the op and
//! the shape or size, never a wrapped count, a panic deep in a kernel or an aborted process.

use kiln_tensor::{Conv2dOptions, DType, Device, Error, Padding, Tensor};

const HUGE: usize = 1 << 62;

/// Asserts that `result` is an error whose message contains every one of `parts`.
fn assert_error<T: std::fmt::Debug>(result: kiln_tensor::Result<T>, parts: &[&str]) -> Error {
    let err = result.expect_err("an error");
    let msg = err.to_string();
    for part in parts {
        assert!(msg.contains(part), "{msg:?} does not name {part:?}");
    }
    err
}

#[test]
fn overflowing_shapes_are_refused_by_constructors() {
    assert_error(
        Tensor::from_vec(vec![], &[HUGE, 4]),
        &["from_vec", "[4611686018427387904, 4]", "overflows"],
    );
    assert_error(
        Tensor::from_vec_f64(vec![], &[HUGE, 2, 0]),
        &["from_vec_f64", "[4611686018427387904, 2, 0]"],
    );
    assert_error(Tensor::from_slice(&[], &[HUGE, 4]), &["from_slice"]);
    assert_error(
        Tensor::full_on(&[HUGE, 4], 0.0, DType::F32, Device::Cpu),
        &["full", "[4611686018427387904, 4]"],
    );
    // A length that matches a wrapped count is still refused.
    assert_error(
        Tensor::from_vec(vec![], &[1 << 32, 1 << 32]),
        &["from_vec", "[4294967296, 4294967296]"],
    );
}

#[test]
#[should_panic(expected = "shape [4611686018427387904, 4] has more elements than fit in memory")]
fn infallible_constructors_panic_naming_the_shape() {
    let _ = Tensor::zeros(&[HUGE, 4]);
}

#[test]
fn overflowing_results_are_refused_by_ops() {
    let x = Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap();
    assert_error(
        x.reshape(&[HUGE, 4, 0]),
        &["reshape", "[4611686018427387904, 4, 0]"],
    );
    assert_error(x.broadcast_to(&[HUGE, 4, 2]), &["broadcast_to"]);
    // Empty operands whose broadcast or product would overflow.
    let a = Tensor::full_on(&[1 << 40, 1, 0], 0.0, DType::F32, Device::Cpu).unwrap();
    let b = Tensor::full_on(&[1, 1 << 40, 0], 0.0, DType::F32, Device::Cpu).unwrap();
    assert_error(a.add(&b), &["add", "[1099511627776, 1099511627776, 0]"]);
    let a = Tensor::full_on(&[1 << 40, 0], 0.0, DType::F32, Device::Cpu).unwrap();
    let b = Tensor::full_on(&[0, 1 << 40], 0.0, DType::F32, Device::Cpu).unwrap();
    assert_error(a.matmul(&b), &["matmul", "[1099511627776, 1099511627776]"]);
}

#[test]
fn host_allocations_that_fail_are_errors_naming_the_size() {
    // 2^58 f32 elements: a valid shape, but no machine has 2^60 bytes.
    let err = assert_error(
        Tensor::full_on(&[1 << 29, 1 << 29], 1.0, DType::F32, Device::Cpu),
        &[
            "fill",
            "288230376151711744 elements",
            "1152921504606846976 bytes",
        ],
    );
    assert!(matches!(err, Error::OutOfMemory { .. }), "{err:?}");
    // An op whose result is larger than its operands: [2^29, 0] x [0, 2^29].
    let a = Tensor::full_on(&[1 << 29, 0], 0.0, DType::F32, Device::Cpu).unwrap();
    let b = Tensor::full_on(&[0, 1 << 29], 0.0, DType::F32, Device::Cpu).unwrap();
    assert_error(a.matmul(&b), &["matmul", "288230376151711744 elements"]);
}

#[test]
fn convolution_sizes_are_checked() {
    let x = Tensor::zeros(&[1, 1, 4, 4]);
    let w = Tensor::zeros(&[1, 1, 3, 3]);
    let huge_pad = Conv2dOptions {
        stride: (1, 1),
        padding: Padding::uniform(usize::MAX / 2 + 1),
    };
    assert_error(
        x.conv2d(&w, None, huge_pad),
        &["conv2d", "padding", "overflows"],
    );
    // `Same` padding of an empty image: no padding, so the kernel does not fit.
    let empty = Tensor::zeros(&[1, 1, 0, 4]);
    let same = Conv2dOptions {
        stride: (2, 2),
        padding: Padding::Same,
    };
    assert_error(empty.conv2d(&w, None, same), &["conv2d", "kernel larger"]);
    // An output too large for memory.
    let wide = Conv2dOptions {
        stride: (1, 1),
        padding: Padding::uniform(1 << 27),
    };
    assert_error(x.conv2d(&w, None, wide), &["conv2d", "cannot allocate"]);
    // The bias is checked with the other operands, under conv2d.
    let valid = Conv2dOptions::default();
    let bias = Tensor::zeros(&[2]);
    assert_error(
        x.conv2d(&w, Some(&bias), valid),
        &["conv2d bias", "[2]", "[1]"],
    );
    let bias = Tensor::from_vec_f64(vec![0.0], &[1]).unwrap();
    assert_error(x.conv2d(&w, Some(&bias), valid), &["conv2d", "dtypes"]);
}

#[test]
fn empty_axes_without_a_result_are_errors() {
    let empty = Tensor::zeros(&[3, 0]);
    assert_error(empty.argmax(), &["argmax", "[3, 0]"]);
    assert_error(empty.max(&[1], true), &["max", "[3, 0]"]);
    assert_error(Tensor::zeros(&[0]).max_all(), &["max", "[0]"]);
    assert_error(
        Tensor::zeros(&[0, 0]).softmax_cross_entropy(&[]),
        &["softmax_cross_entropy", "no classes"],
    );
    assert_error(
        Tensor::zeros(&[0, 3]).softmax_cross_entropy(&[]),
        &["softmax_cross_entropy", "[0, 3]", "no rows"],
    );
    // Those with a result keep it: the sum over an empty axis is 0.
    assert_eq!(
        empty.sum(&[1], false).unwrap().to_vec().unwrap(),
        vec![0.0; 3]
    );
}

#[test]
fn a_non_finite_deviation_gives_non_finite_values_not_a_panic() {
    let x = Tensor::rand_normal(&[4], 0.0, f32::NAN, 1)
        .to_vec()
        .unwrap();
    assert!(x.iter().all(|v| v.is_nan()), "{x:?}");
    // The stream itself is unchanged: a deviation of -2 draws what 2 does.
    let a = Tensor::rand_normal(&[8], 1.0, 2.0, 3).to_vec().unwrap();
    let b = Tensor::rand_normal(&[8], 1.0, -2.0, 3).to_vec().unwrap();
    assert_eq!(a, b);
}

#[test]
fn sizes_past_what_the_result_can_hold_are_errors() {
    // argmax returns f32 indices, exact up to 2^24.
    let long = Tensor::zeros(&[1, (1 << 24) + 1]);
    assert_error(long.argmax(), &["argmax", "16777217", "2^24"]);
    // Lengths whose sum overflows (to exactly 0: 32 times 2^59).
    let huge = vec![Tensor::zeros(&[0, 1 << 59]); 32];
    assert_error(Tensor::cat(&huge, 1), &["cat", "overflow"]);
    // A window and padding whose sum with the input overflows.
    let opts = kiln_tensor::Pool2dOptions {
        kernel: (usize::MAX, 1),
        stride: (1, 1),
        padding: (usize::MAX / 2, 0),
    };
    assert_error(
        Tensor::zeros(&[1, 1, 2, 2]).max_pool2d(opts),
        &["max_pool2d", "overflows"],
    );
    // Windows that fit the padded input but whose area overflows, or is past what f32 (and
    // the GPU's u32 arithmetic) holds exactly.
    for k in [1 << 33, 1 << 16] {
        let opts = kiln_tensor::Pool2dOptions {
            kernel: (k, k),
            stride: (1, 1),
            padding: (k / 2, k / 2),
        };
        assert_error(
            Tensor::zeros(&[1, 1, 1, 1]).avg_pool2d(opts),
            &["avg_pool2d", "window's area", "2^24"],
        );
    }
}

#[test]
fn normalizations_refuse_an_empty_batch_and_a_bad_eps() {
    let empty = Tensor::zeros(&[0, 3]);
    assert_error(
        empty.batch_norm_train(None, None, 1e-5),
        &["batch_norm", "[0, 3]", "at least one value"],
    );
    let images = Tensor::zeros(&[2, 3, 0, 4]);
    assert_error(images.batch_norm_train(None, None, 1e-5), &["[2, 3, 0, 4]"]);
    // Eval mode needs no batch statistics.
    let (mean, var) = (Tensor::zeros(&[3]), Tensor::ones(&[3]));
    let y = empty
        .batch_norm_eval(None, None, &mean, &var, 1e-5)
        .unwrap();
    assert_eq!(y.dims(), [0, 3]);
    let x = Tensor::ones(&[2, 3]);
    for eps in [-1.0, f32::NAN, f32::INFINITY] {
        assert_error(x.batch_norm_train(None, None, eps), &["batch_norm", "eps"]);
        assert_error(x.layer_norm(&[3], None, None, eps), &["layer_norm", "eps"]);
    }
}
