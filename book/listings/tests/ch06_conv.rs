//! Chapter 6: a convolution and its two backward passes checked by hand, and the identity that
//! the derivation rests on: each backward pass is the adjoint of the forward pass.

use kiln::prelude::*;
use kiln::tensor::cpu::CpuKernels;
use kiln::tensor::kernels::Conv2dDims;
use kiln::tensor::Result;
use kiln::tensor::{Conv2dOptions, Kernels, Storage};

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

/// Seeded values in [-1, 1) as f64 storage.
fn random(len: usize, seed: u64) -> (Vec<f64>, Storage) {
    let v = kiln::tensor::gradcheck::random_input(&[len], seed)
        .to_vec_f64()
        .unwrap();
    (v.clone(), Storage::F64(v))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

// ANCHOR: adjoint
#[test]
fn backward_passes_are_adjoints_of_the_forward_pass() -> Result<()> {
    // Stride 2 vertically, 1 horizontally, padding (1, 2): nothing symmetric to hide behind.
    let d = Conv2dDims {
        n: 2,
        c_in: 3,
        h: 7,
        w: 6,
        c_out: 4,
        kh: 3,
        kw: 2,
        stride: (2, 1),
        pad: (1, 2),
        oh: (7 + 1 + 1 - 3) / 2 + 1,
        ow: (6 + 2 + 2 - 2) + 1,
    };
    let (xv, x) = random(d.n * d.c_in * d.h * d.w, 1);
    let (wv, w) = random(d.c_out * d.c_in * d.kh * d.kw, 2);
    let (gv, gy) = random(d.n * d.c_out * d.oh * d.ow, 3);
    let k = CpuKernels;
    let y = k.read_f64(&k.conv2d(&x, &w, d)?)?;
    let gx = k.read_f64(&k.conv2d_backward_data(&gy, &w, d)?)?;
    let gw = k.read_f64(&k.conv2d_backward_weight(&x, &gy, d)?)?;
    // <gy, conv(x, w)> = <backward_data(gy, w), x> = <backward_weight(x, gy), w>
    let (a, b, c) = (dot(&gv, &y), dot(&gx, &xv), dot(&gw, &wv));
    assert!(
        (a - b).abs() < 1e-12 && (a - c).abs() < 1e-12,
        "{a} {b} {c}"
    );
    Ok(())
}
// ANCHOR_END: adjoint
