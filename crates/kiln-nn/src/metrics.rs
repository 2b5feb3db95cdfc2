//! Evaluation metrics, read back to the host.

use kiln_tensor::{Error, Result, Tensor};

/// The fraction of rows of `logits` `[n, classes]` whose largest value is at the row's label.
/// Reads the predictions back to the host; no gradient.
///
/// NaN when any logit is NaN: such logits predict nothing, and a row whose argmax (its first
/// NaN) happened to hit its label must not turn NaN into a score.
pub fn accuracy(logits: &Tensor, labels: &[u32]) -> Result<f32> {
    let [rows, classes] = *logits.dims() else {
        return Err(shape_error(logits, labels));
    };
    if rows != labels.len() || labels.is_empty() || classes == 0 {
        return Err(shape_error(logits, labels));
    }
    if logits.max_all()?.item()?.is_nan() {
        return Ok(f32::NAN);
    }
    let predicted = logits.argmax()?.to_vec()?;
    let hits = predicted
        .iter()
        .zip(labels)
        .filter(|(p, &l)| **p as u32 == l)
        .count();
    Ok(hits as f32 / labels.len() as f32)
}

/// The error for logits that are not `[labels.len(), classes]` with `classes >= 1`.
fn shape_error(logits: &Tensor, labels: &[u32]) -> Error {
    Error::invalid(
        "accuracy",
        format!(
            "logits must be [n, classes] with n = {} labels and at least one class, got {}",
            labels.len(),
            logits.shape()
        ),
    )
}
