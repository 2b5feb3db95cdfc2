//! NaN in a network stays NaN: a model with one NaN weight gives a NaN loss and a NaN accuracy
//! on every device, instead of a ReLU or a maximum quietly turning it into a number and the
//! network training on with finite losses.

use kiln_nn::{
    accuracy_async, cross_entropy, Adam, AdamConfig, BatchNorm1d, BatchNormConfig, Conv2d, Flatten,
    LayerInit, Linear, Module, Optimizer, ReLU, Sequential,
};
use kiln_tensor::{device_test, Tensor};

/// `kiln_nn::accuracy`, checked to agree with `accuracy_async` (NaN with NaN).
fn accuracy(logits: &Tensor, labels: &[u32]) -> kiln_tensor::Result<f32> {
    let blocking = kiln_nn::accuracy(logits, labels);
    let awaited = pollster::block_on(accuracy_async(logits, labels));
    match (&blocking, &awaited) {
        (Ok(a), Ok(b)) => assert!(a == b || (a.is_nan() && b.is_nan()), "{a} vs {b}"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("accuracy {blocking:?} but accuracy_async {awaited:?}"),
    }
    blocking
}

device_test!(accuracy_of_logits_with_nan_is_nan, |device| {
    let logits = |data: &[f32]| {
        Tensor::from_slice(data, &[2, 3])
            .unwrap()
            .to_device(device)
            .unwrap()
    };
    let nan = f32::NAN;
    // All NaN: argmax points at column 0, which the labels hit.
    let all_nan = logits(&[nan; 6]);
    assert!(accuracy(&all_nan, &[0, 0]).unwrap().is_nan(), "{device}");
    // One NaN in a row whose maximum is at its label anyway.
    let one_nan = logits(&[3.0, nan, 1.0, 0.0, 2.0, 1.0]);
    assert!(accuracy(&one_nan, &[0, 1]).unwrap().is_nan(), "{device}");
    // Without NaN, the fraction of hits.
    let finite = logits(&[3.0, 0.0, 1.0, 0.0, 2.0, 1.0]);
    assert_eq!(accuracy(&finite, &[0, 2]).unwrap(), 0.5, "{device}");
    let no_classes = Tensor::zeros(&[2, 0]);
    let err = accuracy(&no_classes, &[0, 0]).unwrap_err().to_string();
    assert!(err.contains("accuracy") && err.contains("[2, 0]"), "{err}");
    let err = accuracy(&finite, &[0, 3]).unwrap_err().to_string();
    assert!(err.contains("label 3 at index 1"), "{err}");
});

/// A small CNN: convolution, ReLU, flatten, batch norm, two dense layers with a ReLU.
fn model() -> Sequential {
    let init = LayerInit::torch();
    Sequential::new()
        .with(Conv2d::new(1, 4, (3, 3), init, 1).unwrap())
        .with(ReLU)
        .with(Flatten)
        .with(BatchNorm1d::new(4 * 4 * 4, BatchNormConfig::default()).unwrap())
        .with(Linear::new(4 * 4 * 4, 8, init, 2).unwrap())
        .with(ReLU)
        .with(Linear::new(8, 3, init, 3).unwrap())
}

device_test!(
    a_nan_weight_makes_the_loss_and_accuracy_nan_and_training_keeps_them_so,
    |device| {
        let labels = [0, 1, 2, 1, 0, 2];
        let mut model = model();
        // One NaN in the first convolution's weight: a single feature map goes NaN, which a
        // ReLU, a batch norm or a maximum must not turn back into numbers.
        {
            let (_, weight) = &model.named_parameters()[0];
            let mut values = weight.to_vec().unwrap();
            values[5] = f32::NAN;
            weight
                .assign(&Tensor::from_vec(values, weight.dims()).unwrap())
                .unwrap();
        }
        model.to_device(device).unwrap();
        let x = Tensor::rand_uniform(&[6, 1, 6, 6], 0.0, 1.0, 4)
            .to_device(device)
            .unwrap();
        let mut adam = Adam::new(model.parameters(), AdamConfig::default()).unwrap();
        for step in 0..3 {
            adam.zero_grad();
            let logits = model.forward(&x).unwrap();
            let loss = cross_entropy(&logits, &labels).unwrap();
            let value = loss.item().unwrap();
            assert!(value.is_nan(), "{device} step {step}: loss {value}");
            let acc = accuracy(&logits.detach(), &labels).unwrap();
            assert!(acc.is_nan(), "{device} step {step}: accuracy {acc}");
            loss.backward().unwrap();
            adam.step().unwrap();
        }
    }
);
