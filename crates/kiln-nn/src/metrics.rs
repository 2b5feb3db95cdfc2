//! Evaluation metrics, read back to the host.

use kiln_tensor::{Error, Result, Tensor};
use std::future::Future;

/// The fraction of rows of `logits` `[n, classes]` whose largest value is at the row's label.
/// Reads the predictions back to the host; no gradient.
///
/// NaN when any logit is NaN: such logits predict nothing, and a row whose argmax (its first
/// NaN) happened to hit its label must not turn NaN into a score.
pub fn accuracy(logits: &Tensor, labels: &[u32]) -> Result<f32> {
    check(logits, labels)?;
    if logits.max_all()?.item()?.is_nan() {
        return Ok(f32::NAN);
    }
    Ok(score(&logits.argmax()?.to_vec()?, labels))
}

/// [`accuracy`] without blocking: the read-backs start now and complete on the device's time
/// (see [`Tensor::to_vec_async`]); the future borrows nothing.
pub fn accuracy_async(
    logits: &Tensor,
    labels: &[u32],
) -> impl Future<Output = Result<f32>> + 'static {
    let reads = check(logits, labels).and_then(|()| {
        Ok((
            logits.max_all()?.item_async(),
            logits.argmax()?.to_vec_async(),
        ))
    });
    let labels = labels.to_vec();
    async move {
        let (max, predicted) = reads?;
        let (max, predicted) = (max.await?, predicted.await?);
        Ok(if max.is_nan() {
            f32::NAN
        } else {
            score(&predicted, &labels)
        })
    }
}

/// An error unless `logits` is `[labels.len(), classes]` with `classes >= 1`, labels given,
/// and every label one of the classes.
fn check(logits: &Tensor, labels: &[u32]) -> Result<()> {
    let classes = match *logits.dims() {
        [rows, classes] if rows == labels.len() && !labels.is_empty() && classes > 0 => classes,
        _ => return Err(shape_error(logits, labels)),
    };
    match labels
        .iter()
        .enumerate()
        .find(|(_, &l)| l as usize >= classes)
    {
        Some((i, l)) => Err(Error::invalid(
            "accuracy",
            format!("label {l} at index {i} is out of range for {classes} classes"),
        )),
        None => Ok(()),
    }
}

/// The fraction of `predicted` classes (argmax values) equal to their labels.
fn score(predicted: &[f32], labels: &[u32]) -> f32 {
    let hits = predicted
        .iter()
        .zip(labels)
        .filter(|(p, &l)| **p as u32 == l)
        .count();
    hits as f32 / labels.len() as f32
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
