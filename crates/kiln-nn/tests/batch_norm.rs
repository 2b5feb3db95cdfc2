//! Batch norm as a module: running statistics in both momentum conventions (checked against
//! values computed here by hand), eval mode on running statistics, normalized train output, and
//! finite-difference gradients through the module.

use kiln_nn::{BatchNorm1d, BatchNorm2d, BatchNormConfig, Module, Momentum, TensorRole};
use kiln_tensor::gradcheck::{self, Tolerance};
use kiln_tensor::{Result, Tensor};

/// Per-channel mean and biased variance of `x` `[n, c, spatial...]` in f64.
fn channel_stats(x: &[f32], dims: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let (n, c) = (dims[0], dims[1]);
    let spatial: usize = dims[2..].iter().product();
    let values = |ch: usize| {
        (0..n).flat_map(move |i| (0..spatial).map(move |s| x[(i * c + ch) * spatial + s] as f64))
    };
    let m = (n * spatial) as f64;
    let mean: Vec<f64> = (0..c).map(|ch| values(ch).sum::<f64>() / m).collect();
    let var = (0..c)
        .map(|ch| values(ch).map(|v| (v - mean[ch]).powi(2)).sum::<f64>() / m)
        .collect();
    (mean, var)
}

fn assert_close(actual: &[f32], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (*a as f64 - e).abs() <= tol * (1.0 + e.abs()),
            "{what}[{i}]: got {a}, expected {e}"
        );
    }
}

/// Runs `k` train steps of a batch norm on seeded inputs of shape `dims` and compares its
/// running statistics with the update `running = (1 - w) running + w batch` computed here,
/// `w` being the weight of the batch statistic in the given convention.
fn check_running_stats(momentum: Momentum, batch_weight: f64, dims: &[usize]) {
    let config = BatchNormConfig {
        momentum,
        ..BatchNormConfig::default()
    };
    let c = dims[1];
    let bn: Box<dyn Module> = if dims.len() == 4 {
        Box::new(BatchNorm2d::new(c, config).unwrap())
    } else {
        Box::new(BatchNorm1d::new(c, config).unwrap())
    };
    let m = (dims.iter().product::<usize>() / c) as f64;
    let (mut mean, mut var) = (vec![0.0; c], vec![1.0; c]);
    for step in 0..4 {
        let x = Tensor::rand_normal(dims, 0.5 * step as f32, 1.0 + step as f32, step);
        bn.forward(&x).unwrap();
        let (bm, bv) = channel_stats(&x.to_vec().unwrap(), dims);
        for ch in 0..c {
            mean[ch] = (1.0 - batch_weight) * mean[ch] + batch_weight * bm[ch];
            var[ch] = (1.0 - batch_weight) * var[ch] + batch_weight * bv[ch] * m / (m - 1.0);
        }
    }
    let buffers = bn.named_buffers();
    assert_eq!(buffers[0].0, "running_mean");
    assert_eq!(buffers[1].0, "running_var");
    assert_close(&buffers[0].1.to_vec().unwrap(), &mean, 1e-5, "running_mean");
    assert_close(&buffers[1].1.to_vec().unwrap(), &var, 1e-5, "running_var");
}

#[test]
fn running_stats_follow_the_torch_convention() {
    check_running_stats(Momentum::Torch(0.1), 0.1, &[8, 3]);
    check_running_stats(Momentum::Torch(0.3), 0.3, &[2, 4, 3, 5]);
}

#[test]
fn running_stats_follow_the_tensorflow_convention() {
    check_running_stats(Momentum::TensorFlow(0.75), 0.25, &[8, 3]);
    check_running_stats(Momentum::TensorFlow(0.99), 0.01, &[2, 4, 3, 5]);
}

#[test]
fn the_two_conventions_name_the_same_update() {
    assert_eq!(Momentum::Torch(0.25).batch_weight(), 0.25);
    assert_eq!(Momentum::TensorFlow(0.75).batch_weight(), 0.25);
    let defaults = BatchNormConfig::default();
    assert_eq!(defaults.eps, 1e-5);
    assert_eq!(defaults.momentum, Momentum::Torch(0.1));
    assert!(defaults.affine);
}

/// Sets a CPU tensor's values in place.
fn set(t: &Tensor, values: &[f32]) {
    t.assign(&Tensor::from_slice(values, t.dims()).unwrap())
        .unwrap();
}

#[test]
fn eval_mode_normalizes_with_the_running_statistics() {
    let eps = 1e-3;
    let config = BatchNormConfig {
        eps,
        ..BatchNormConfig::default()
    };
    let mut bn = BatchNorm2d::new(2, config).unwrap();
    bn.forward(&Tensor::rand_normal(&[4, 2, 3, 3], 2.0, 3.0, 1))
        .unwrap();
    set(bn.gamma().unwrap(), &[1.5, -0.5]);
    set(bn.beta().unwrap(), &[0.25, 2.0]);
    let running_mean = bn.running_mean().to_vec().unwrap();
    let running_var = bn.running_var().to_vec().unwrap();
    assert_ne!(
        running_mean,
        vec![0.0, 0.0],
        "a train step moves the running mean"
    );

    bn.eval();
    let x = Tensor::rand_normal(&[3, 2, 2, 2], -1.0, 0.5, 2);
    let y = bn.forward(&x).unwrap().to_vec().unwrap();
    let (gamma, beta) = ([1.5, -0.5], [0.25, 2.0]);
    let expected: Vec<f64> = x
        .to_vec()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let ch = (i / 4) % 2;
            let norm = (v - running_mean[ch]) as f64 / (running_var[ch] as f64 + eps as f64).sqrt();
            norm * gamma[ch] + beta[ch]
        })
        .collect();
    assert_close(&y, &expected, 1e-5, "eval output");
    assert_eq!(
        bn.running_mean().to_vec().unwrap(),
        running_mean,
        "eval mode leaves the running statistics alone"
    );

    bn.train();
    bn.forward(&x).unwrap();
    assert_ne!(bn.running_mean().to_vec().unwrap(), running_mean);
}

#[test]
fn train_output_has_zero_mean_and_unit_variance_per_channel() {
    let config = BatchNormConfig {
        affine: false,
        ..BatchNormConfig::default()
    };
    let bn = BatchNorm2d::new(3, config).unwrap();
    assert!(bn.parameters().is_empty());
    let dims = [6, 3, 4, 5];
    let y = bn
        .forward(&Tensor::rand_normal(&dims, 3.0, 4.0, 9))
        .unwrap();
    let (mean, var) = channel_stats(&y.to_vec().unwrap(), &dims);
    for ch in 0..3 {
        assert!(mean[ch].abs() < 1e-5, "channel {ch} mean {}", mean[ch]);
        assert!(
            (var[ch] - 1.0).abs() < 1e-4,
            "channel {ch} variance {}",
            var[ch]
        );
    }
}

#[test]
fn tensors_are_named_like_pytorch() {
    let bn = BatchNorm1d::new(4, BatchNormConfig::default()).unwrap();
    let named: Vec<(String, TensorRole)> = bn
        .named_tensors()
        .into_iter()
        .map(|(n, _, r)| (n, r))
        .collect();
    assert_eq!(
        named,
        [
            ("weight".to_string(), TensorRole::Parameter),
            ("bias".to_string(), TensorRole::Parameter),
            ("running_mean".to_string(), TensorRole::Buffer),
            ("running_var".to_string(), TensorRole::Buffer),
        ]
    );
}

#[test]
fn wrong_inputs_are_errors_naming_the_shape() {
    let bn = BatchNorm2d::new(3, BatchNormConfig::default()).unwrap();
    let err = bn.forward(&Tensor::zeros(&[2, 4, 3, 3])).unwrap_err();
    assert!(err.to_string().contains("[2, 4, 3, 3]"), "{err}");
    let err = bn.forward(&Tensor::zeros(&[2, 3])).unwrap_err();
    assert!(err.to_string().contains("c = 3"), "{err}");
    let bn1 = BatchNorm1d::new(3, BatchNormConfig::default()).unwrap();
    let err = bn1.forward(&Tensor::zeros(&[1, 3])).unwrap_err();
    assert!(err.to_string().contains("more than one value"), "{err}");
    let bad = BatchNormConfig {
        momentum: Momentum::TensorFlow(1.5),
        ..BatchNormConfig::default()
    };
    assert!(BatchNorm1d::new(3, bad).is_err());
    for eps in [f32::INFINITY, f32::NAN, -1e-5] {
        let bad = BatchNormConfig {
            eps,
            ..BatchNormConfig::default()
        };
        let err = BatchNorm1d::new(3, bad).unwrap_err().to_string();
        assert!(err.contains("BatchNorm") && err.contains("eps"), "{err}");
    }
}

/// `t` as an `f64` CPU tensor.
fn to_f64(t: &Tensor) -> Result<Tensor> {
    Tensor::from_vec_f64(t.to_vec_f64()?, t.dims())
}

/// Gradient-checks `module`'s forward with respect to its input and its parameters: the
/// module's parameters are replaced by the checked leaves and its buffers cast to `f64`.
fn gradcheck_module(module: impl Fn() -> Box<dyn Module>, input_dims: &[usize], seed: u64) {
    let params = module().parameters();
    let mut inputs = vec![gradcheck::random_input(input_dims, seed)];
    for (i, p) in params.iter().enumerate() {
        let noise = gradcheck::random_input(p.dims(), seed + 1 + i as u64);
        inputs.push(to_f64(p).unwrap().add(&noise).unwrap());
    }
    let f = |leaves: &[Tensor]| {
        let mut m = module();
        let mut params = leaves[1..].iter();
        m.map_tensors(&mut |t| match t.tracks_grad() {
            true => Ok(params.next().expect("one leaf per parameter").clone()),
            false => to_f64(t),
        })?;
        m.forward(&leaves[0])
    };
    gradcheck::check(f, &inputs, Tolerance::default(), seed).unwrap();
}

#[test]
fn train_mode_gradcheck_through_batch_norm_1d_and_2d() {
    gradcheck_module(
        || Box::new(BatchNorm1d::new(3, BatchNormConfig::default()).unwrap()),
        &[5, 3],
        1,
    );
    gradcheck_module(
        || Box::new(BatchNorm2d::new(2, BatchNormConfig::default()).unwrap()),
        &[3, 2, 2, 3],
        2,
    );
}

#[test]
fn eval_mode_gradcheck_through_batch_norm() {
    gradcheck_module(
        || {
            let mut bn = BatchNorm2d::new(2, BatchNormConfig::default()).unwrap();
            set(bn.running_mean(), &[0.3, -0.2]);
            set(bn.running_var(), &[0.5, 2.0]);
            bn.eval();
            Box::new(bn)
        },
        &[2, 2, 3, 2],
        3,
    );
}
