//! Autograd releases memory when it should: intermediates go when backward has run, or as soon
//! as no backward rule needs them. The tests watch a tensor's storage through a weak handle,
//! which only the crate can make.

use crate::Tensor;
use std::sync::Arc;

fn leaf(values: &[f32], dims: &[usize]) -> Tensor {
    Tensor::from_slice(values, dims).unwrap().requires_grad()
}

#[test]
fn intermediate_tensors_are_released_after_backward() {
    let x = leaf(&[0.5; 64], &[8, 8]);
    let probe = x.relu().unwrap();
    let weak = Arc::downgrade(&probe.storage_handle());
    let loss = probe.mul(&x).unwrap().sum_all().unwrap();
    drop(probe);
    loss.backward().unwrap();
    // The loss still exists, but its graph (which held `probe`) was dropped by backward.
    assert!(weak.upgrade().is_none());
    drop(loss);
}

#[test]
fn thousands_of_steps_do_not_keep_graphs_alive() {
    let w = leaf(&[0.1; 16], &[4, 4]);
    let x = Tensor::rand_uniform(&[8, 4], -1.0, 1.0, 1);
    for _ in 0..2000 {
        let h = x.matmul(&w).unwrap().tanh().unwrap();
        let weak = Arc::downgrade(&h.storage_handle());
        let loss = h.sum_all().unwrap();
        drop(h);
        loss.backward().unwrap();
        drop(loss);
        assert!(
            weak.upgrade().is_none(),
            "an intermediate outlived its step"
        );
        // Gradients carry no graph of their own.
        assert!(!w.grad().unwrap().tracks_grad());
        w.zero_grad();
    }
}

#[test]
fn values_no_backward_rule_reads_are_freed_during_the_forward_pass() {
    // matmul -> + bias -> relu: the product and the sum are needed by no rule (add keeps
    // nothing, relu keeps its output), so they go as soon as their handles drop, long before
    // backward; the graph still reaches the leaves through them.
    let x = Tensor::rand_uniform(&[4, 3], -1.0, 1.0, 1);
    let w = leaf(&[0.5; 6], &[3, 2]);
    let b = leaf(&[0.1, -0.2], &[2]);
    let product = x.matmul(&w).unwrap();
    let weak_product = Arc::downgrade(&product.storage_handle());
    let sum = product.add(&b).unwrap();
    let weak_sum = Arc::downgrade(&sum.storage_handle());
    drop(product);
    let y = sum.relu().unwrap();
    drop(sum);
    assert!(
        weak_product.upgrade().is_none(),
        "the product is still alive"
    );
    assert!(weak_sum.upgrade().is_none(), "the sum is still alive");
    y.sum_all().unwrap().backward().unwrap();
    assert_eq!(w.grad().unwrap().dims(), &[3, 2]);
    // d/db_j of the sum of relu outputs counts the rows where the pre-activation is positive.
    let rows = x.to_vec().unwrap();
    let want: Vec<f32> = [0.1f32, -0.2]
        .iter()
        .map(|bj| {
            rows.chunks(3)
                .filter(|r| 0.5 * r.iter().sum::<f32>() + bj > 0.0)
                .count() as f32
        })
        .collect();
    assert_eq!(b.grad().unwrap().to_vec().unwrap(), want);
}
