//! Forward values against results worked out by hand, for the CPU reference. Gradient checks
//! compare a kernel with itself under finite differences, so a kernel that computes the wrong
//! function consistently passes them; these tests pin the function.

use kiln_tensor::{Conv2dOptions, Padding, Tensor};

fn t(values: &[f32], dims: &[usize]) -> Tensor {
    Tensor::from_slice(values, dims).unwrap()
}

#[test]
fn broadcast_results_are_row_major() {
    // [3, 1] + [1, 4]: out[i][j] = a[i] + b[j].
    let a = t(&[0.0, 10.0, 20.0], &[3, 1]);
    let b = t(&[1.0, 2.0, 3.0, 4.0], &[1, 4]);
    let want: Vec<f32> = (0..3)
        .flat_map(|i| (1..=4).map(move |j| (10 * i + j) as f32))
        .collect();
    assert_eq!(a.add(&b).unwrap().to_vec().unwrap(), want);
    // Large enough for the parallel path, with the column operand first.
    let col = Tensor::arange(300).reshape(&[300, 1]).unwrap();
    let row = Tensor::arange(200).reshape(&[1, 200]).unwrap();
    let out = col.mul(&row).unwrap().to_vec().unwrap();
    assert_eq!(out[7 * 200 + 9], 63.0);
    assert_eq!(out[299 * 200 + 199], 299.0 * 199.0);
}

#[test]
fn reductions_and_permute_values() {
    let x = Tensor::arange(24).reshape(&[2, 3, 4]).unwrap();
    let s = x.sum(&[1], false).unwrap();
    assert_eq!(s.dims(), &[2, 4]);
    assert_eq!(
        s.to_vec().unwrap(),
        vec![12.0, 15.0, 18.0, 21.0, 48.0, 51.0, 54.0, 57.0]
    );
    let m = x.max(&[0, 2], true).unwrap();
    assert_eq!(m.dims(), &[1, 3, 1]);
    assert_eq!(m.to_vec().unwrap(), vec![15.0, 19.0, 23.0]);
    let p = x.permute(&[2, 0, 1]).unwrap();
    assert_eq!(p.dims(), &[4, 2, 3]);
    // p[k][i][j] = x[i][j][k] = 12 i + 4 j + k
    assert_eq!(p.to_vec().unwrap()[3 * 6 + 4], 12.0 + 4.0 + 3.0);
    assert_eq!(
        t(&[1.0, 5.0, 5.0, 2.0], &[2, 2])
            .argmax()
            .unwrap()
            .to_vec()
            .unwrap(),
        vec![1.0, 0.0]
    );
}

#[test]
fn matmul_values_with_transpose_flags() {
    let a = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let b = t(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2]);
    assert_eq!(
        a.matmul(&b).unwrap().to_vec().unwrap(),
        vec![4.0, 5.0, 10.0, 11.0]
    );
    // aᵀ stored as [3, 2] and read transposed gives the same product.
    let at = a.transpose(0, 1).unwrap();
    assert_eq!(
        at.t().matmul(&b).unwrap().to_vec().unwrap(),
        vec![4.0, 5.0, 10.0, 11.0]
    );
}

#[test]
fn conv2d_values() {
    // 1 image, 1 channel, 3x3 input 1..9; 2x2 kernel of ones: sums of each 2x2 window.
    let x = Tensor::arange(9)
        .add_scalar(1.0)
        .unwrap()
        .reshape(&[1, 1, 3, 3])
        .unwrap();
    let w = Tensor::ones(&[1, 1, 2, 2]);
    let y = x.conv2d(&w, None, Conv2dOptions::default()).unwrap();
    assert_eq!(y.dims(), &[1, 1, 2, 2]);
    assert_eq!(y.to_vec().unwrap(), vec![12.0, 16.0, 24.0, 28.0]);
    // Stride 2 with one pixel of zero padding: windows at (-1,-1), (-1,1), (1,-1), (1,1).
    let opts = Conv2dOptions {
        stride: (2, 2),
        padding: Padding::uniform(1),
    };
    let y = x.conv2d(&w, Some(&t(&[0.5], &[1])), opts).unwrap();
    assert_eq!(y.to_vec().unwrap(), vec![1.5, 5.5, 11.5, 28.5]);
    // Same padding keeps the size at stride 1 (extra row and column at the bottom/right).
    let same = Conv2dOptions {
        stride: (1, 1),
        padding: Padding::Same,
    };
    let y = x.conv2d(&w, None, same).unwrap();
    assert_eq!(
        y.to_vec().unwrap(),
        vec![12.0, 16.0, 9.0, 24.0, 28.0, 15.0, 15.0, 17.0, 9.0]
    );
}

#[test]
fn batch_norm_and_cross_entropy_values() {
    // One channel with values 1 and 3: mean 2, biased variance 1.
    let x = t(&[1.0, 3.0], &[2, 1]);
    let (output, stats) = x.batch_norm_train(None, None, 0.0).unwrap();
    assert_eq!(output.to_vec().unwrap(), vec![-1.0, 1.0]);
    assert_eq!(stats.mean.to_vec().unwrap(), vec![2.0]);
    assert_eq!(stats.var.to_vec().unwrap(), vec![1.0]);
    // Uniform logits over 4 classes: loss ln 4.
    let loss = Tensor::zeros(&[2, 4])
        .softmax_cross_entropy(&[0, 3])
        .unwrap();
    assert!((loss.item().unwrap() - 4f32.ln()).abs() < 1e-6);
}

#[test]
fn an_f64_mean_is_not_rounded_through_f32() {
    let x = Tensor::from_vec_f64(vec![1.0, 1.0, 1.0], &[3]).unwrap();
    assert_eq!(x.mean_all().unwrap().to_vec_f64().unwrap(), vec![1.0]);
    let x = Tensor::from_vec_f64(vec![0.1, 0.2, 0.4], &[3]).unwrap();
    let want = (0.1 + 0.2 + 0.4) / 3.0;
    assert_eq!(
        x.mean(&[0], false).unwrap().to_vec_f64().unwrap(),
        vec![want]
    );
}

#[test]
fn broadcasting_keeps_the_sign_of_zero() {
    let x = t(&[-0.0, 0.0], &[2, 1]).broadcast_to(&[2, 3]).unwrap();
    let signs: Vec<bool> = x
        .to_vec()
        .unwrap()
        .iter()
        .map(|v| v.is_sign_negative())
        .collect();
    assert_eq!(signs, [true, true, true, false, false, false]);
}

#[test]
fn the_divisors_gradient_stays_in_range_where_its_square_does_not() {
    // d(a / b)/db = -a / b², whose b² overflows (1e40) or underflows (1e-50) in f32.
    for (a, b, want) in [(1e30f32, 1e20f32, -1e-10f32), (1e-35, 1e-25, -1e15)] {
        let b = t(&[b], &[1]).requires_grad();
        t(&[a], &[1])
            .div(&b)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let got = b.grad().unwrap().to_vec().unwrap()[0];
        assert!(
            (got - want).abs() <= 1e-5 * want.abs(),
            "{a} / b: {got}, want {want}"
        );
    }
}

#[test]
fn the_gradient_of_clamp_passes_at_its_bounds_as_pytorchs() {
    let x = t(&[-1.0, 0.0, 3.0, 6.0, 7.0], &[5]).requires_grad();
    x.clamp(0.0, 6.0)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(
        x.grad().unwrap().to_vec().unwrap(),
        [0.0, 1.0, 1.0, 1.0, 0.0]
    );
}
