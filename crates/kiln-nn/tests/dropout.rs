//! Dropout: the identity in eval mode, the right keep rate and scale in train mode, a new and
//! reproducible mask at every step.

use kiln_nn::{Dropout, Module, Sequential};
use kiln_tensor::Tensor;

#[test]
fn eval_mode_is_the_identity() {
    let mut dropout = Dropout::new(0.5, 1).unwrap();
    dropout.eval();
    let x = Tensor::rand_normal(&[8, 16], 0.0, 1.0, 3);
    let y = dropout.forward(&x).unwrap();
    assert_eq!(y.to_vec().unwrap(), x.to_vec().unwrap());
}

#[test]
fn train_mode_keeps_one_minus_p_and_scales_the_kept() {
    let p = 0.3;
    let dropout = Dropout::new(p, 7).unwrap();
    let n = 100_000;
    let y = dropout
        .forward(&Tensor::ones(&[n]))
        .unwrap()
        .to_vec()
        .unwrap();
    let kept = y.iter().filter(|&&v| v != 0.0).count();
    let rate = kept as f64 / n as f64;
    // The standard deviation of the rate is sqrt(p (1 - p) / n) ≈ 0.0014.
    assert!((rate - 0.7).abs() < 0.01, "keep rate {rate}");
    let scale = 1.0 / (1.0 - p);
    assert!(y.iter().all(|&v| v == 0.0 || (v - scale).abs() < 1e-6));
}

#[test]
fn each_step_draws_a_new_mask_and_seeds_reproduce_them() {
    let x = Tensor::ones(&[256]);
    let masks = |seed| {
        let dropout = Dropout::new(0.5, seed).unwrap();
        [0; 3].map(|_| dropout.forward(&x).unwrap().to_vec().unwrap())
    };
    let first = masks(42);
    assert_ne!(first[0], first[1]);
    assert_ne!(first[1], first[2]);
    assert_eq!(first, masks(42));
    assert_ne!(first, masks(43));
}

#[test]
fn mode_reaches_dropout_inside_a_sequential() {
    let mut model = Sequential::new().with(Dropout::new(0.9, 0).unwrap());
    let x = Tensor::ones(&[64]);
    model.eval();
    assert_eq!(model.forward(&x).unwrap().to_vec().unwrap(), vec![1.0; 64]);
    model.train();
    assert_ne!(model.forward(&x).unwrap().to_vec().unwrap(), vec![1.0; 64]);
}

#[test]
fn probabilities_outside_zero_one_are_rejected() {
    assert!(Dropout::new(1.0, 0).is_err());
    assert!(Dropout::new(-0.1, 0).is_err());
}
