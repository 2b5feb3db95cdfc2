//! Evaluation metrics, read back to the host.

use kiln_tensor::{Error, Result, Tensor};

/// The fraction of rows of `logits` `[n, classes]` whose largest value is at the row's label.
/// Reads the predictions back to the host; no gradient.
pub fn accuracy(logits: &Tensor, labels: &[u32]) -> Result<f32> {
    if logits.rank() != 2 || logits.dims()[0] != labels.len() || labels.is_empty() {
        return Err(Error::invalid(
            "accuracy",
            format!(
                "logits must be [n, classes] with n = {} labels, got {}",
                labels.len(),
                logits.shape()
            ),
        ));
    }
    let predicted = logits.argmax()?.to_vec()?;
    let hits = predicted
        .iter()
        .zip(labels)
        .filter(|(p, &l)| **p as u32 == l)
        .count();
    Ok(hits as f32 / labels.len() as f32)
}
