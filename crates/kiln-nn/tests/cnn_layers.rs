//! The CNN layers: pooling, layer norm, the residual wrapper and the newer activations, their
//! tensors' names and shapes, their outputs against the tensor ops they wrap, and a small
//! residual CNN's loss and gradients on the GPU against the CPU.

use kiln_nn::{
    AvgPool2d, BatchNorm2d, BatchNormConfig, Clamp, Conv2d, Dropout, GlobalAvgPool, GlobalMaxPool,
    LayerInit, LayerNorm, LeakyReLU, Linear, MaxPool2d, Module, ReLU, Residual, Scale, Sequential,
    SiLU, GELU,
};
use kiln_tensor::test_util::{assert_close, gpu_or_skip};
use kiln_tensor::{Device, Gelu, Padding, Pool2dOptions, Result, Tensor};

/// Asserts that two tensors hold the same values (within f32 rounding).
fn assert_same(what: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.dims(), want.dims(), "{what}: shapes differ");
    let (got, want) = (got.to_vec_f64().unwrap(), want.to_vec_f64().unwrap());
    assert_close(what, &got, &want, 1e-6, 1e-6);
}

fn names(m: &dyn Module) -> Vec<String> {
    m.named_parameters().into_iter().map(|(n, _)| n).collect()
}

#[test]
fn stateless_layers_apply_their_tensor_op() {
    let x = Tensor::rand_uniform(&[2, 3, 7, 5], -3.0, 3.0, 1);
    let window = Pool2dOptions::window(2);
    type Op = fn(&Tensor) -> Result<Tensor>;
    let cases: [(&str, Box<dyn Module>, Op); 10] = [
        ("MaxPool2d", Box::new(MaxPool2d(window)), |x| {
            x.max_pool2d(Pool2dOptions::window(2))
        }),
        ("AvgPool2d", Box::new(AvgPool2d(window)), |x| {
            x.avg_pool2d(Pool2dOptions::window(2))
        }),
        ("GlobalAvgPool", Box::new(GlobalAvgPool), |x| {
            x.global_avg_pool2d()
        }),
        ("GlobalMaxPool", Box::new(GlobalMaxPool), |x| {
            x.global_max_pool2d()
        }),
        ("GELU", Box::new(GELU::default()), |x| x.gelu(Gelu::Erf)),
        ("GELU tanh", Box::new(GELU(Gelu::Tanh)), |x| {
            x.gelu(Gelu::Tanh)
        }),
        ("SiLU", Box::new(SiLU), |x| x.silu()),
        ("LeakyReLU", Box::new(LeakyReLU::default()), |x| {
            x.leaky_relu(0.01)
        }),
        (
            "Clamp",
            Box::new(Clamp {
                low: 0.0,
                high: 6.0,
            }),
            |x| x.clamp(0.0, 6.0),
        ),
        ("Scale", Box::new(Scale(0.125)), |x| x.mul_scalar(0.125)),
    ];
    for (name, layer, op) in cases {
        assert_same(name, &layer.forward(&x).unwrap(), &op(&x).unwrap());
        assert!(names(layer.as_ref()).is_empty(), "{name} has no parameters");
    }
    assert_eq!(MaxPool2d(window).forward(&x).unwrap().dims(), &[2, 3, 3, 2]);
    assert_eq!(GlobalMaxPool.forward(&x).unwrap().dims(), &[2, 3]);
}

#[test]
fn layer_norm_has_named_affine_parameters() {
    let ln = LayerNorm::new(&[4, 5], 1e-5, true).unwrap();
    assert_eq!(names(&ln), ["weight", "bias"]);
    assert_eq!(ln.weight().unwrap().to_vec().unwrap(), vec![1.0; 20]);
    assert_eq!(ln.bias().unwrap().to_vec().unwrap(), vec![0.0; 20]);
    let x = Tensor::rand_uniform(&[3, 4, 5], -2.0, 2.0, 2);
    let want = x.layer_norm(&[4, 5], None, None, 1e-5).unwrap();
    assert_same("LayerNorm", &ln.forward(&x).unwrap(), &want);
    let plain = LayerNorm::new(&[5], 1e-5, false).unwrap();
    assert!(names(&plain).is_empty());
    assert_same(
        "LayerNorm without affine",
        &plain.forward(&x).unwrap(),
        &x.layer_norm(&[5], None, None, 1e-5).unwrap(),
    );
    assert!(LayerNorm::new(&[], 1e-5, true).is_err());
    assert!(LayerNorm::new(&[3, 0], 1e-5, true).is_err());
    assert!(LayerNorm::new(&[3], -1.0, true).is_err());
    assert!(LayerNorm::new(&[3], f32::INFINITY, true).is_err());
    let err = ln
        .forward(&Tensor::zeros(&[3, 5, 4]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layer_norm") && err.contains("[3, 5, 4]"),
        "{err}"
    );
}

#[test]
fn residual_adds_its_input_and_reaches_its_inner_module() {
    let linear = Linear::new(3, 3, LayerInit::torch(), 5).unwrap();
    let x = Tensor::rand_uniform(&[2, 3], -1.0, 1.0, 3);
    let want = x.add(&linear.forward(&x).unwrap()).unwrap();
    let mut block = Residual::new(linear);
    assert_same("Residual", &block.forward(&x).unwrap(), &want);
    assert_eq!(names(&block), ["inner.weight", "inner.bias"]);
    // Mode changes reach the inner module: dropout of p = 0.5 is the identity in eval mode.
    let mut dropped = Residual::new(Dropout::new(0.5, 1).unwrap());
    dropped.eval();
    assert_same(
        "Residual in eval",
        &dropped.forward(&x).unwrap(),
        &x.mul_scalar(2.0).unwrap(),
    );
    // Device moves too.
    if let Some(gpu) = gpu_or_skip() {
        block.to_device(gpu).unwrap();
        assert!(block
            .parameters()
            .iter()
            .all(|p| p.device() == gpu && p.tracks_grad()));
    }
    let widen = Residual::new(Linear::new(3, 4, LayerInit::torch(), 6).unwrap());
    let err = widen.forward(&x).unwrap_err().to_string();
    assert!(
        err.contains("Residual") && err.contains("[2, 3]") && err.contains("[2, 4]"),
        "{err}"
    );
}

/// A small residual CNN: conv, batch norm, a residual block, pooling, layer norm, linear.
fn resnet() -> Sequential {
    let init = LayerInit::torch();
    let conv = |c_in, c_out, seed| {
        Conv2d::new(c_in, c_out, (3, 3), init, seed)
            .unwrap()
            .padding(Padding::uniform(1))
    };
    let block = Sequential::new()
        .with(conv(4, 4, 2))
        .with(BatchNorm2d::new(4, BatchNormConfig::default()).unwrap())
        .with(GELU(Gelu::Tanh));
    Sequential::new()
        .with(conv(3, 4, 1))
        .with(BatchNorm2d::new(4, BatchNormConfig::default()).unwrap())
        .with(ReLU)
        .with(MaxPool2d(Pool2dOptions::window(2)))
        .with(Residual::new(block))
        .with(SiLU)
        .with(GlobalMaxPool)
        .with(LayerNorm::new(&[4], 1e-5, true).unwrap())
        .with(Linear::new(4, 5, init, 3).unwrap())
}

#[test]
fn residual_cnn_gpu_matches_cpu() {
    let Some(gpu) = gpu_or_skip() else { return };
    let x = Tensor::rand_uniform(&[3, 3, 9, 7], -1.0, 1.0, 4);
    let labels = [0u32, 4, 2];
    let run = |device: Device| {
        let mut model = resnet();
        model.to_device(device).unwrap();
        let logits = model.forward(&x.to_device(device).unwrap()).unwrap();
        let loss = logits.softmax_cross_entropy_smoothed(&labels, 0.2).unwrap();
        loss.backward().unwrap();
        let grads: Vec<Tensor> = model
            .parameters()
            .iter()
            .map(|p| p.grad().unwrap())
            .collect();
        (loss, grads, model.named_parameters())
    };
    let (cpu_loss, cpu_grads, named) = run(Device::Cpu);
    let (gpu_loss, gpu_grads, _) = run(gpu);
    let close = |what: &str, g: &Tensor, c: &Tensor| {
        assert_eq!(g.device(), gpu, "{what}");
        assert_close(
            what,
            &g.to_vec_f64().unwrap(),
            &c.to_vec_f64().unwrap(),
            1e-4,
            1e-3,
        );
    };
    close("loss", &gpu_loss, &cpu_loss);
    for (((name, _), g), c) in named.iter().zip(&gpu_grads).zip(&cpu_grads) {
        close(&format!("d loss / d {name}"), g, c);
    }
}
