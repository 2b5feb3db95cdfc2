//! Chapter 6: a convolution and its two backward passes checked by hand, and the identity that
//! the derivation rests on: each backward pass is the adjoint of the forward pass.

use kiln::prelude::*;
use kiln::tensor::{Conv2dOptions, Padding, Result};

// ANCHOR: by_hand
#[test]
fn a_three_by_three_image_by_hand() -> Result<()> {
    // One image, one channel: 1..9. One 2x2 filter that subtracts the pixel down-right.
    let x = Tensor::from_vec((1..=9).map(|v| v as f32).collect(), &[1, 1, 3, 3])?.requires_grad();
    let w = Tensor::from_vec(vec![1.0, 0.0, 0.0, -1.0], &[1, 1, 2, 2])?.requires_grad();
    let y = x.conv2d(&w, None, Conv2dOptions::default())?; // valid padding, stride 1
    assert_eq!(y.dims(), &[1, 1, 2, 2]);
    assert_eq!(y.to_vec()?, vec![-4.0; 4]); // x[i][j] - x[i+1][j+1]

    // With L = Σ y, the output gradient is all ones. Then
    // dL/dx[p] = Σ over the windows covering p of the filter tap that touches p,
    // dL/dw[a][b] = Σ over the outputs of the input under tap (a, b): a 2x2 window sum.
    y.sum_all()?.backward()?;
    assert_eq!(
        x.grad().unwrap().to_vec()?,
        vec![1.0, 1.0, 0.0, 1.0, 0.0, -1.0, 0.0, -1.0, -1.0]
    );
    assert_eq!(w.grad().unwrap().to_vec()?, vec![12.0, 16.0, 24.0, 28.0]);
    Ok(())
}
// ANCHOR_END: by_hand

fn dot(a: &Tensor, b: &Tensor) -> Result<f64> {
    Ok(a.to_vec_f64()?
        .iter()
        .zip(b.to_vec_f64()?)
        .map(|(x, y)| x * y)
        .sum())
}

// ANCHOR: adjoint
#[test]
fn backward_passes_are_adjoints_of_the_forward_pass() -> Result<()> {
    // f64 on the CPU, so rounding stays far below the tolerance. Stride 2 vertically, 1
    // horizontally, padding 1 above and below, 2 left and right: nothing symmetric to hide behind.
    let random = kiln::tensor::gradcheck::random_input;
    let x = random(&[2, 3, 7, 6], 1).requires_grad();
    let w = random(&[4, 3, 3, 2], 2).requires_grad();
    let opts = Conv2dOptions {
        stride: (2, 1),
        padding: Padding::Explicit {
            top: 1,
            bottom: 1,
            left: 2,
            right: 2,
        },
    };
    let y = x.conv2d(&w, None, opts)?;
    let gy = random(y.dims(), 3);
    // L = <gy, y>, so backward sends gy into the convolution: x's gradient is
    // backward_data(gy, w) and w's is backward_weight(x, gy).
    y.mul(&gy)?.sum_all()?.backward()?;
    let (gx, gw) = (x.grad().unwrap(), w.grad().unwrap());
    // <gy, conv(x, w)> = <backward_data(gy, w), x> = <backward_weight(x, gy), w>
    let (a, b, c) = (dot(&gy, &y)?, dot(&gx, &x)?, dot(&gw, &w)?);
    assert!(
        (a - b).abs() < 1e-12 && (a - c).abs() < 1e-12,
        "{a} {b} {c}"
    );
    Ok(())
}
// ANCHOR_END: adjoint
