//! The lazy transpose `Tensor::t` and the in-place updates `assign`, `adam_update_`,
//! `sgd_update_`.

use kiln_tensor::{AdamStep, Error, SgdStep, Tensor};

fn t(values: &[f32], dims: &[usize]) -> Tensor {
    Tensor::from_slice(values, dims).unwrap()
}

#[test]
fn t_is_a_view_that_matmul_reads_and_other_ops_materialize() {
    let a = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let at = a.t();
    assert_eq!(at.dims(), &[3, 2]);
    assert!(at.shares_storage(&a), "t() copies nothing");
    assert_eq!(at.to_vec().unwrap(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    assert_eq!(
        at.to_vec().unwrap(),
        a.transpose(0, 1).unwrap().to_vec().unwrap()
    );
    assert_eq!(at.t().to_vec().unwrap(), a.to_vec().unwrap());
    // x · aᵀ through the flag equals the product with the materialized transpose.
    let x = t(&[1.0, -1.0, 0.5, 2.0, 0.0, 1.0], &[2, 3]);
    let want = x.matmul(&a.transpose(0, 1).unwrap()).unwrap();
    assert_eq!(
        x.matmul(&a.t()).unwrap().to_vec().unwrap(),
        want.to_vec().unwrap()
    );
    // Elementwise ops, reshapes and copies see the logical layout.
    assert_eq!(
        at.add(&at).unwrap().to_vec().unwrap(),
        vec![2.0, 8.0, 4.0, 10.0, 6.0, 12.0]
    );
    assert_eq!(
        at.reshape(&[6]).unwrap().to_vec().unwrap(),
        at.to_vec().unwrap()
    );
    assert_eq!(at.copy().unwrap().to_vec().unwrap(), at.to_vec().unwrap());
    // Batched: the last two axes swap.
    let b = Tensor::arange(12).reshape(&[2, 2, 3]).unwrap();
    assert_eq!(
        b.t().to_vec().unwrap(),
        b.transpose(1, 2).unwrap().to_vec().unwrap()
    );
    // 0-D and 1-D come back as they are.
    let v = Tensor::arange(3);
    assert_eq!(v.t().dims(), &[3]);
}

#[test]
fn the_weight_gradient_through_t_has_the_weights_layout() {
    let x = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    // Not square, so a wrong layout would show in the shape too.
    let w = Tensor::rand_uniform(&[4, 3], -1.0, 1.0, 7).requires_grad();
    x.matmul(&w.t())
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let g = w.grad().expect("w tracks gradients");
    // d sum(x wᵀ) / d w[j, :] = the column sums of x.
    assert_eq!(g.dims(), &[4, 3]);
    assert_eq!(g.to_vec().unwrap(), [5.0, 7.0, 9.0].repeat(4));
}

#[test]
fn assign_writes_through_every_handle_and_checks_shapes() {
    let p = t(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let alias = p.reshape(&[4]).unwrap();
    let view = p.t();
    p.assign(&t(&[5.0, 6.0, 7.0, 8.0], &[2, 2])).unwrap();
    assert_eq!(alias.to_vec().unwrap(), vec![5.0, 6.0, 7.0, 8.0]);
    assert_eq!(view.to_vec().unwrap(), vec![5.0, 7.0, 6.0, 8.0]);
    // Through a transposed view: the values land transposed.
    view.assign(&t(&[1.0, 2.0, 3.0, 4.0], &[2, 2])).unwrap();
    assert_eq!(p.to_vec().unwrap(), vec![1.0, 3.0, 2.0, 4.0]);
    // From itself (shared storage) is fine.
    p.assign(&alias.reshape(&[2, 2]).unwrap()).unwrap();
    let err = p.assign(&Tensor::zeros(&[3])).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { op: "assign", .. }));
    let msg = err.to_string();
    assert!(msg.contains("assign") && msg.contains('3'), "{msg}");
}

#[test]
fn fused_updates_match_their_formulas_and_refuse_aliasing() {
    let p = t(&[1.0, -2.0], &[2]);
    let g = t(&[0.5, 0.25], &[2]);
    let hp = SgdStep {
        lr: 0.1,
        momentum: 0.0,
        nesterov: false,
        weight_decay: 0.0,
    };
    p.sgd_update_(&g, None, &hp).unwrap();
    assert_eq!(p.to_vec().unwrap(), vec![0.95, -2.025]);
    let with_momentum = SgdStep {
        momentum: 0.9,
        ..hp
    };
    assert!(p.sgd_update_(&g, None, &with_momentum).is_err());
    let buf = p.zeros_like().unwrap();
    p.sgd_update_(&g, Some(&buf), &with_momentum).unwrap();
    assert_eq!(buf.to_vec().unwrap(), vec![0.5, 0.25]);

    let (m, v) = (p.zeros_like().unwrap(), p.zeros_like().unwrap());
    let adam = AdamStep {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
        decoupled: false,
        step: 1,
    };
    let before = p.to_vec().unwrap();
    p.adam_update_(&g, &m, &v, &adam).unwrap();
    // The first bias-corrected Adam step moves each weight by lr against the gradient's sign.
    for (a, b) in before.iter().zip(p.to_vec().unwrap()) {
        assert!((a - b - 1e-3).abs() < 1e-6, "{a} -> {b}");
    }
    let err = p
        .adam_update_(&g, &m, &v, &AdamStep { step: 0, ..adam })
        .unwrap_err();
    assert!(err.to_string().contains("step counts from 1"), "{err}");
    // Hyper-parameters that would turn the weights into NaN are refused, the weights untouched.
    let kept = p.to_vec().unwrap();
    let bad_adam = [
        AdamStep { beta1: 1.0, ..adam },
        AdamStep { beta2: 1.0, ..adam },
        AdamStep {
            lr: f32::NAN,
            ..adam
        },
        AdamStep { eps: -1.0, ..adam },
    ];
    for hp in bad_adam {
        let err = p.adam_update_(&g, &m, &v, &hp).unwrap_err();
        assert!(err.to_string().contains("adam_update_"), "{err}");
    }
    let bad_sgd = [
        SgdStep { lr: f32::NAN, ..hp },
        SgdStep {
            weight_decay: -1.0,
            ..hp
        },
        SgdStep {
            nesterov: true,
            ..hp
        },
    ];
    for hp in bad_sgd {
        let err = p.sgd_update_(&g, None, &hp).unwrap_err();
        assert!(err.to_string().contains("sgd_update_"), "{err}");
    }
    assert_eq!(p.to_vec().unwrap(), kept);
    // A step count past i32::MAX is the limit of the bias corrections, not a negative power.
    let before = p.to_vec().unwrap();
    let late = AdamStep {
        step: u32::MAX,
        ..adam
    };
    let (m2, v2) = (m.copy().unwrap(), v.copy().unwrap());
    p.adam_update_(&g, &m2, &v2, &late).unwrap();
    assert!(p
        .to_vec()
        .unwrap()
        .iter()
        .zip(&before)
        .all(|(a, b)| a.is_finite() && a != b));
    assert!(p.adam_update_(&g, &m, &m, &adam).is_err(), "m and v alias");
    assert!(p.adam_update_(&g, &p, &v, &adam).is_err(), "m aliases p");
    let wrong = Tensor::zeros(&[3]);
    assert!(matches!(
        p.adam_update_(&wrong, &m, &v, &adam),
        Err(Error::ShapeMismatch {
            op: "adam_update_",
            ..
        })
    ));
    let square = Tensor::zeros(&[2, 2]);
    let (gs, ms, vs) = (
        square.copy().unwrap(),
        square.copy().unwrap(),
        square.copy().unwrap(),
    );
    assert!(square.t().adam_update_(&gs, &ms, &vs, &adam).is_err());
}
