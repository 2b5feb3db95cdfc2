//! Loss functions, each returning a scalar tensor to call `backward` on.

use kiln_tensor::{Error, Result, Tensor};

/// Mean softmax cross-entropy of `logits` `[n, classes]` against integer class `labels`
/// (`n` of them, each `< classes`): `-mean_i log softmax(logits_i)[labels_i]`. One fused,
/// numerically stable op whose gradient is `(softmax - onehot) / n`.
pub fn cross_entropy(logits: &Tensor, labels: &[u32]) -> Result<Tensor> {
    logits.softmax_cross_entropy(labels)
}

/// [`cross_entropy`] against labels smoothed as PyTorch's `label_smoothing`: the target puts
/// `1 - smoothing` on the label and `smoothing / classes` on every class (the label included).
/// `smoothing` is in `[0, 1]`; 0 gives [`cross_entropy`].
pub fn cross_entropy_smoothed(logits: &Tensor, labels: &[u32], smoothing: f32) -> Result<Tensor> {
    logits.softmax_cross_entropy_smoothed(labels, smoothing)
}

/// Mean squared error `mean((prediction - target)²)` over all elements; both must have the
/// same shape.
pub fn mse(prediction: &Tensor, target: &Tensor) -> Result<Tensor> {
    if prediction.shape() != target.shape() {
        return Err(Error::ShapeMismatch {
            op: "mse (prediction vs target)",
            lhs: prediction.shape().clone(),
            rhs: target.shape().clone(),
        });
    }
    let diff = prediction.sub(target)?;
    diff.mul(&diff)?.mean_all()
}
