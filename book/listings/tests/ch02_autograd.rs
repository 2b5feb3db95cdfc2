//! Chapter 2: a small network differentiated by kiln and by hand.

use kiln::prelude::*;
use kiln::tensor::Result;

// ANCHOR: worked_example
#[test]
fn gradients_match_the_hand_computation() -> Result<()> {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, -1.0], &[2, 2])?.requires_grad();
    let w = Tensor::from_vec(vec![1.0, -1.0, 0.5, 2.0], &[2, 2])?.requires_grad();
    let b = Tensor::from_vec(vec![0.0, -1.0], &[2])?.requires_grad();

    let h = x.matmul(&w)?.add(&b)?; // [[2, 2], [2.5, -6]]
    let r = h.relu()?; //              [[2, 2], [2.5, 0]]
    let loss = r.mul(&r)?.sum_all()?; // 4 + 4 + 6.25 + 0
    assert_eq!(loss.item()?, 14.25);

    loss.backward()?;
    // dL/dr = 2r; dL/dh = 2r where h > 0, else 0.
    // dL/db = column sums of dL/dh; dL/dw = xᵀ dL/dh; dL/dx = dL/dh wᵀ.
    assert_eq!(b.grad().unwrap().to_vec()?, vec![9.0, 4.0]);
    assert_eq!(w.grad().unwrap().to_vec()?, vec![19.0, 4.0, 3.0, 8.0]);
    assert_eq!(x.grad().unwrap().to_vec()?, vec![0.0, 10.0, 5.0, 2.5]);
    Ok(())
}
// ANCHOR_END: worked_example

// ANCHOR: accumulate
#[test]
fn gradients_accumulate_until_zeroed() -> Result<()> {
    let w = Tensor::from_vec(vec![3.0], &[1])?.requires_grad();
    for _ in 0..2 {
        w.mul(&w)?.sum_all()?.backward()?; // d(w²)/dw = 2w = 6, twice
    }
    assert_eq!(w.grad().unwrap().to_vec()?, vec![12.0]);
    w.zero_grad();
    assert!(w.grad().is_none());

    // Inside no_grad nothing is recorded, so there is nothing to differentiate.
    let y = no_grad(|| w.mul(&w))?;
    assert!(!y.tracks_grad());
    Ok(())
}
// ANCHOR_END: accumulate
