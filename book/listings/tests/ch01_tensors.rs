//! Chapter 1: shapes, contiguous storage and broadcasting, on small tensors checked by hand.

use kiln::prelude::*;
use kiln::tensor::Result;

// ANCHOR: storage
#[test]
fn storage_is_contiguous_and_row_major() -> Result<()> {
    // Six values in one buffer; the shape says how to read them.
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    // Element (i, j) sits at i * 3 + j: strides [3, 1].
    assert_eq!(x.shape().strides(), vec![3, 1]);
    assert_eq!(Shape::new(&[2, 3, 4]).strides(), vec![12, 4, 1]);

    // Reshape is free: the result shares the storage.
    let r = x.reshape(&[3, 2])?;
    assert!(r.shares_storage(&x));
    assert_eq!(r.to_vec()?, x.to_vec()?);

    // Transpose is a kernel: a new buffer in the new row-major order.
    let t = x.transpose(0, 1)?;
    assert_eq!(t.dims(), &[3, 2]);
    assert_eq!(t.to_vec()?, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    Ok(())
}
// ANCHOR_END: storage

// ANCHOR: broadcast
#[test]
fn broadcasting_aligns_shapes_from_the_right() -> Result<()> {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;

    // [2, 3] + [3]: the row is added to every row.
    let row = Tensor::from_vec(vec![10.0, 20.0, 30.0], &[3])?;
    assert_eq!(
        x.add(&row)?.to_vec()?,
        vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]
    );

    // [2, 1] * [1, 3] -> [2, 3]: an outer product.
    let col = Tensor::from_vec(vec![1.0, 2.0], &[2, 1])?;
    let row = Tensor::from_vec(vec![1.0, 10.0, 100.0], &[1, 3])?;
    assert_eq!(
        col.mul(&row)?.to_vec()?,
        vec![1.0, 10.0, 100.0, 2.0, 20.0, 200.0]
    );

    // The rule, and the strides that read an operand as if it were broadcast (0 = repeat).
    let out = Shape::new(&[4, 1, 3]).broadcast(&Shape::new(&[5, 1]), "add")?;
    assert_eq!(out.dims(), &[4, 5, 3]);
    assert_eq!(Shape::new(&[5, 1]).broadcast_strides(&out), vec![0, 1, 0]);

    // Shapes that do not broadcast are an error naming both.
    let err = x.add(&Tensor::zeros(&[2])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "add: shape mismatch between [2, 3] and [2]"
    );
    Ok(())
}
// ANCHOR_END: broadcast
