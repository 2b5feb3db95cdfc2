//! Layers and containers: shapes, names and order of parameters, initialization, device moves.

use kiln_nn::{
    BatchNorm1d, BatchNorm2d, BatchNormConfig, Conv2d, Fans, Flatten, Init, LayerInit, Linear,
    Module, ReLU, Sequential, Sigmoid, Tanh,
};
use kiln_tensor::{Device, Padding, Tensor};

#[test]
fn linear_computes_x_times_w_transposed_plus_b() {
    let layer = Linear::new(3, 2, LayerInit::torch(), 0).unwrap();
    assert_eq!(layer.weight().dims(), &[2, 3]);
    let (w, b) = (
        layer.weight().to_vec().unwrap(),
        layer.bias().unwrap().to_vec().unwrap(),
    );
    let x = [1.0, -2.0, 0.5, 3.0, 0.0, -1.0];
    let y = layer
        .forward(&Tensor::from_slice(&x, &[2, 3]).unwrap())
        .unwrap()
        .to_vec()
        .unwrap();
    for row in 0..2 {
        for out in 0..2 {
            let expected: f32 =
                (0..3).map(|k| x[row * 3 + k] * w[out * 3 + k]).sum::<f32>() + b[out];
            assert!((y[row * 2 + out] - expected).abs() < 1e-6);
        }
    }
    assert!(layer.forward(&Tensor::zeros(&[3])).is_err());
    let err = layer
        .forward(&Tensor::zeros(&[2, 5]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Linear") && err.contains("in_features = 3"),
        "{err}"
    );
}

#[test]
fn conv_shapes_follow_stride_and_padding() {
    let init = LayerInit::tensorflow();
    let x = Tensor::zeros(&[2, 3, 32, 32]);
    let valid = Conv2d::new(3, 30, (3, 3), init, 0).unwrap().stride(2);
    assert_eq!(valid.forward(&x).unwrap().dims(), &[2, 30, 15, 15]);
    let same = Conv2d::new(3, 4, (3, 3), init, 0)
        .unwrap()
        .stride(2)
        .padding(Padding::Same);
    assert_eq!(same.forward(&x).unwrap().dims(), &[2, 4, 16, 16]);
    let explicit = Conv2d::new(3, 4, (5, 5), init.without_bias(), 0)
        .unwrap()
        .padding(Padding::uniform(2));
    assert_eq!(explicit.forward(&x).unwrap().dims(), &[2, 4, 32, 32]);
    assert_eq!(explicit.parameters().len(), 1);
}

#[test]
fn tensorflow_init_is_glorot_with_zero_bias() {
    let conv = Conv2d::new(30, 50, (3, 3), LayerInit::tensorflow(), 5).unwrap();
    let limit = (6.0f32 / ((30 + 50) * 9) as f32).sqrt();
    let w = conv.weight().to_vec().unwrap();
    let max = w.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(max <= limit && max > 0.98 * limit, "{max} vs {limit}");
    assert!(conv
        .bias()
        .unwrap()
        .to_vec()
        .unwrap()
        .iter()
        .all(|&v| v == 0.0));
    let ones = Init::Ones.tensor(&[3], kiln_nn::Fans::of(&[3]), 0).unwrap();
    assert_eq!(ones.to_vec().unwrap(), vec![1.0; 3]);
}

fn small_model() -> Sequential {
    Sequential::new()
        .with(BatchNorm2d::new(1, BatchNormConfig::default()).unwrap())
        .with(Conv2d::new(1, 2, (3, 3), LayerInit::torch(), 1).unwrap())
        .with(ReLU)
        .with(BatchNorm2d::new(2, BatchNormConfig::default()).unwrap())
        .with(Flatten)
        .with(Linear::new(8, 3, LayerInit::torch().without_bias(), 2).unwrap())
        .with(Tanh)
        .with(Sigmoid)
}

#[test]
fn sequential_names_tensors_by_child_index_in_a_stable_order() {
    let model = small_model();
    let params: Vec<String> = model
        .named_parameters()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        params,
        ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "5.weight"]
    );
    let buffers: Vec<String> = model.named_buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        buffers,
        [
            "0.running_mean",
            "0.running_var",
            "3.running_mean",
            "3.running_var"
        ]
    );
    assert!(model.parameters().iter().all(|p| p.tracks_grad()));
    assert!(model.named_buffers().iter().all(|(_, b)| !b.tracks_grad()));
}

#[test]
fn parameters_share_storage_and_gradient_with_the_model() {
    let model = small_model();
    let x = Tensor::rand_normal(&[2, 1, 4, 4], 0.0, 1.0, 0);
    model
        .forward(&x)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    for (name, p) in model.named_parameters() {
        assert!(p.grad().is_some(), "{name} has no gradient");
    }
    assert_eq!(model.forward(&x).unwrap().dims(), &[2, 3]);
}

#[test]
fn to_device_keeps_parameters_trainable() {
    let mut model = small_model();
    let before: Vec<Vec<f32>> = model
        .parameters()
        .iter()
        .map(|p| p.to_vec().unwrap())
        .collect();
    model.to_device(Device::Cpu).unwrap();
    let after = model.parameters();
    assert!(after
        .iter()
        .all(|p| p.tracks_grad() && p.device() == Device::Cpu));
    let after: Vec<Vec<f32>> = after.iter().map(|p| p.to_vec().unwrap()).collect();
    assert_eq!(before, after);
}

#[test]
fn zero_sizes_are_errors_naming_the_value() {
    let init = LayerInit::torch();
    let message = |e: kiln_tensor::Error| e.to_string();
    assert_eq!(
        message(Linear::new(0, 5, init, 0).unwrap_err()),
        "Linear: in_features must be at least 1, got 0"
    );
    assert_eq!(
        message(Linear::new(5, 0, init, 0).unwrap_err()),
        "Linear: out_features must be at least 1, got 0"
    );
    for (c_in, c_out, kernel, name) in [
        (0, 3, (3, 3), "in_channels"),
        (3, 0, (3, 3), "out_channels"),
        (3, 3, (0, 3), "kernel height"),
        (3, 3, (3, 0), "kernel width"),
    ] {
        assert_eq!(
            message(Conv2d::new(c_in, c_out, kernel, init, 0).unwrap_err()),
            format!("Conv2d: {name} must be at least 1, got 0")
        );
    }
    let config = BatchNormConfig::default();
    let expected = "BatchNorm: channels must be at least 1, got 0";
    assert_eq!(message(BatchNorm1d::new(0, config).unwrap_err()), expected);
    assert_eq!(message(BatchNorm2d::new(0, config).unwrap_err()), expected);
}

#[test]
fn a_layer_too_large_for_host_memory_is_an_error_naming_its_size() {
    let err = Linear::new(1_000_000_000, 9000, LayerInit::torch(), 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Linear: cannot allocate 9000000000000 elements of 4 bytes (36000000000000 bytes) in \
         host memory"
    );
    let err = Conv2d::new(1 << 40, 1 << 40, (3, 3), LayerInit::torch(), 0).unwrap_err();
    assert!(err.to_string().starts_with("Conv2d: shape ["), "{err}");
    let err = BatchNorm1d::new(1 << 61, BatchNormConfig::default()).unwrap_err();
    assert!(err.to_string().starts_with("full: shape ["), "{err}");
}

#[test]
fn initializers_refuse_what_they_cannot_fill_instead_of_panicking() {
    for a in [f32::NAN, f32::INFINITY] {
        let init = LayerInit {
            weight: Init::KaimingUniform { a },
            bias: None,
        };
        let err = Linear::new(3, 2, init, 0).unwrap_err().to_string();
        assert!(err.contains("Linear") && err.contains("slope a"), "{err}");
    }
    let huge = [1 << 40, 1 << 40];
    let err = Init::Ones.tensor(&huge, Fans::of(&huge), 0).unwrap_err();
    assert!(err.to_string().contains("Init::tensor: shape ["), "{err}");
    let fans = Fans::of(&[2, 1 << 40, 1 << 40]);
    assert_eq!((fans.fan_in, fans.fan_out), (usize::MAX, 2 << 40));
}
