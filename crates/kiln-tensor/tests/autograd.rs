//! Autograd behaviour: accumulation, detach, no-grad scopes, graph freeing, and errors.

use kiln_tensor::{device_test, no_grad, Error, Tensor};

fn leaf(values: &[f32], dims: &[usize]) -> Tensor {
    Tensor::from_slice(values, dims).unwrap().requires_grad()
}

#[test]
fn gradient_accumulates_when_a_tensor_is_used_twice() {
    let x = leaf(&[1.0, 2.0, 3.0], &[3]);
    // y = x * x + x: dy/dx = 2x + 1
    let y = x.mul(&x).unwrap().add(&x).unwrap().sum_all().unwrap();
    y.backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec().unwrap(), vec![3.0, 5.0, 7.0]);
}

#[test]
fn gradients_accumulate_across_backward_calls_until_zeroed() {
    let x = leaf(&[2.0], &[1]);
    for _ in 0..2 {
        x.mul_scalar(3.0)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
    }
    assert_eq!(x.grad().unwrap().to_vec().unwrap(), vec![6.0]);
    x.zero_grad();
    assert!(x.grad().is_none());
}

#[test]
fn detach_stops_the_gradient() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let y = x.mul(&x.detach()).unwrap().sum_all().unwrap();
    y.backward().unwrap();
    // Only the attached factor contributes: d(x * c)/dx = c.
    assert_eq!(x.grad().unwrap().to_vec().unwrap(), vec![1.0, 2.0]);
}

#[test]
fn no_grad_records_nothing() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let y = no_grad(|| x.exp().unwrap().sum_all().unwrap());
    assert!(!y.tracks_grad());
    assert!(matches!(y.backward(), Err(Error::BackwardNoGraph)));
    // Recording is back on after the scope.
    assert!(x.exp().unwrap().tracks_grad());
}

#[test]
fn backward_needs_a_scalar() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let err = x.exp().unwrap().backward().unwrap_err();
    assert!(err.to_string().contains("shape [2]"), "{err}");
}

#[test]
fn backward_frees_the_graph() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let y = x.exp().unwrap().sum_all().unwrap();
    y.backward().unwrap();
    let again = y.backward().unwrap_err();
    assert!(matches!(again, Error::GraphFreed), "{again}");
    assert!(again.to_string().contains("already freed"), "{again}");
}

#[test]
fn shape_errors_name_the_op_and_both_shapes() {
    let a = Tensor::zeros(&[2, 3]);
    let b = Tensor::zeros(&[4, 5]);
    let err = a.matmul(&b).unwrap_err().to_string();
    assert_eq!(err, "matmul: shape mismatch between [2, 3] and [4, 5]");
    let err = a.add(&Tensor::zeros(&[2])).unwrap_err().to_string();
    assert_eq!(err, "add: shape mismatch between [2, 3] and [2]");
    let err = Tensor::from_vec(vec![1.0; 5], &[2, 3])
        .unwrap_err()
        .to_string();
    assert!(err.contains("5 values") && err.contains("[2, 3]"), "{err}");
    let err = Tensor::zeros(&[1, 2, 5, 5])
        .conv2d(&Tensor::zeros(&[4, 3, 3, 3]), None, Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[1, 2, 5, 5]") && err.contains("[4, 3, 3, 3]"),
        "{err}"
    );
    let err = Tensor::zeros(&[2, 3])
        .softmax_cross_entropy(&[0, 3])
        .unwrap_err();
    assert!(err.to_string().contains("label 3 at index 1"), "{err}");
}

#[test]
fn mixed_dtypes_are_an_error() {
    let a = Tensor::zeros(&[2]);
    let b = Tensor::from_vec_f64(vec![0.0; 2], &[2]).unwrap();
    assert!(matches!(a.add(&b), Err(Error::DTypeMismatch { .. })));
    // The error names the operation the caller used, not the kernel behind it.
    for (op, result) in [
        ("mul", a.mul(&b)),
        ("maximum", a.maximum(&b)),
        (
            "matmul",
            a.reshape(&[1, 2])
                .unwrap()
                .matmul(&b.reshape(&[2, 1]).unwrap()),
        ),
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::DTypeMismatch { .. }), "{err}");
        assert!(err.to_string().starts_with(&format!("{op}: ")), "{err}");
    }
}

#[test]
fn the_gradient_of_a_zeroth_power_is_zero_even_at_zero() {
    let x = leaf(&[0.0, 2.0, -3.0], &[3]);
    x.powf(0.0).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec().unwrap(), vec![0.0; 3]);
}

device_test!(
    a_tensor_written_in_place_after_the_forward_pass_fails_backward,
    |device| {
        let on = |t: Tensor| t.to_device(device).unwrap();
        let w = on(Tensor::from_slice(&[1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap()).requires_grad();
        let x = on(Tensor::from_slice(&[1.0, -1.0], &[1, 2]).unwrap());
        let new_w = on(Tensor::zeros(&[2, 2]));
        // An input of the product, written through a transposed view's storage.
        let loss = x.matmul(&w.t()).unwrap().sum_all().unwrap();
        w.detach().assign(&new_w).unwrap();
        let err = loss.backward().unwrap_err();
        assert!(matches!(err, Error::ModifiedInPlace { .. }), "{err}");
        let message = err.to_string();
        assert!(
            message.contains("[2, 2]") && message.contains("in place"),
            "{message}"
        );
        // An optimizer update between forward and backward.
        let loss = x.matmul(&w).unwrap().sum_all().unwrap();
        let g = on(Tensor::full(&[2, 2], 1.0));
        let hp = kiln_tensor::SgdStep {
            lr: 0.1,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        };
        w.sgd_update_(&g, None, &hp).unwrap();
        let err = loss.backward().unwrap_err();
        assert!(matches!(err, Error::ModifiedInPlace { .. }), "{err}");
        // An op's output that its own backward reads (exp saves its result).
        let y = x.matmul(&w).unwrap().exp().unwrap();
        let loss = y.sum_all().unwrap();
        y.detach().assign(&on(Tensor::zeros(&[1, 2]))).unwrap();
        assert!(matches!(
            loss.backward().unwrap_err(),
            Error::ModifiedInPlace { .. }
        ));
        // Batch norm's statistics: the running ones of eval mode, and the batch's own.
        let images = on(Tensor::rand_uniform(&[4, 2, 3], -1.0, 1.0, 5)).requires_grad();
        let (mean, var) = (on(Tensor::zeros(&[2])), on(Tensor::ones(&[2])));
        let loss = images
            .batch_norm_eval(None, None, &mean, &var, 1e-5)
            .unwrap()
            .sum_all()
            .unwrap();
        var.assign(&on(Tensor::full(&[2], 4.0))).unwrap();
        assert!(matches!(
            loss.backward().unwrap_err(),
            Error::ModifiedInPlace { .. }
        ));
        let (y, stats) = images.batch_norm_train(None, None, 1e-5).unwrap();
        stats.mean.assign(&on(Tensor::zeros(&[2]))).unwrap();
        assert!(matches!(
            y.sum_all().unwrap().backward().unwrap_err(),
            Error::ModifiedInPlace { .. }
        ));
        // Writing a tensor the graph never used changes nothing, and the usual order (backward,
        // then the update, then the next forward pass) works.
        let loss = x.matmul(&w).unwrap().sum_all().unwrap();
        new_w.assign(&on(Tensor::full(&[2, 2], 5.0))).unwrap();
        loss.backward().unwrap();
        w.sgd_update_(&w.grad().unwrap(), None, &hp).unwrap();
        w.zero_grad();
        x.matmul(&w).unwrap().sum_all().unwrap().backward().unwrap();
        // d/dw of sum(x · w) is x's row copied into each column: [[1, 1], [-1, -1]].
        assert_eq!(w.grad().unwrap().to_vec().unwrap(), [1.0, 1.0, -1.0, -1.0]);
    }
);
