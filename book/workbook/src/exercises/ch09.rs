//! Chapter 9: the CIFAR-10 record reader, and bytes to a batch tensor.
//!
//! Tests: `cargo test --release --manifest-path book/workbook/Cargo.toml ch09`. They read a
//! small synthetic dataset that kiln writes in the CIFAR-10 format, compare with kiln's
//! `Cifar10::load` and `DataLoader`, and damage files to check the errors.

use crate::records::{RecordError, Records};
use kiln::tensor::{Result, Tensor};
use std::path::Path;

/// Reads a CIFAR-10 binary file that must hold exactly `records` records of
/// [`RECORD_BYTES`](crate::records::RECORD_BYTES) bytes: a label byte, then the image's red,
/// green and blue planes of 32 x 32 bytes each.
///
/// The size is checked from the file's metadata before anything is read
/// ([`RecordError::BadSize`]); every label must be below
/// [`CLASSES`](crate::records::CLASSES) ([`RecordError::LabelOutOfRange`], naming the record);
/// an I/O failure is [`RecordError::Io`]. Every error names the file.
///
/// Hint: `File::open`, `metadata().len()`, then `read_exact` into a buffer of the expected
/// size and `chunks_exact(RECORD_BYTES)`: `split_first` cuts a record into its label and its
/// pixels.
pub fn read_cifar10_file(path: &Path, records: usize) -> std::result::Result<Records, RecordError> {
    todo!()
}

/// The images of `images` (`n * IMAGE_BYTES` bytes, records' pixels end to end) as an `f32`
/// CPU tensor `[n, 3, 32, 32]` (NCHW) with values `byte / 255` in `[0, 1]`.
///
/// Hint: a record's pixels are already one `[3, 32, 32]` image in CHW order, so a batch is the
/// bytes in the order they come; only the type and the scale change (`Tensor::from_vec`).
pub fn to_batch(images: &[u8]) -> Result<Tensor> {
    todo!()
}
