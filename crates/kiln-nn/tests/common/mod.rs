//! Data sets and models shared by the integration tests, made in code from seeds.

use kiln_nn::{BatchNorm1d, BatchNormConfig, LayerInit, Linear, ReLU, Sequential};
use kiln_tensor::Tensor;

/// `classes` interleaved spiral arms of `per_class` points each (CS231n's toy set): point `i`
/// of arm `k` is at radius `r = i / per_class` and angle `4 (k + r)` plus seeded noise.
/// Returns the points `[classes * per_class, 2]` and their labels.
pub fn spiral(classes: usize, per_class: usize, seed: u64) -> (Tensor, Vec<u32>) {
    let n = classes * per_class;
    let noise = Tensor::rand_normal(&[n], 0.0, 0.2, seed).to_vec().unwrap();
    let mut points = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    for k in 0..classes {
        for i in 0..per_class {
            let r = i as f32 / per_class as f32;
            let angle = 4.0 * (k as f32 + r) + noise[k * per_class + i];
            points.extend([r * angle.sin(), r * angle.cos()]);
            labels.push(k as u32);
        }
    }
    (Tensor::from_vec(points, &[n, 2]).unwrap(), labels)
}

/// A multilayer perceptron `2 -> hidden -> hidden -> classes` with ReLUs, and a batch norm
/// before the second layer when `batch_norm` is set.
pub fn mlp(hidden: usize, classes: usize, batch_norm: bool, seed: u64) -> Sequential {
    let mut model = Sequential::new()
        .with(Linear::new(2, hidden, LayerInit::torch(), seed).unwrap())
        .with(ReLU);
    if batch_norm {
        model.push(BatchNorm1d::new(hidden, BatchNormConfig::default()).unwrap());
    }
    model
        .with(Linear::new(hidden, hidden, LayerInit::torch(), seed + 1).unwrap())
        .with(ReLU)
        .with(Linear::new(hidden, classes, LayerInit::torch(), seed + 2).unwrap())
}
