//! Chapter 9, solutions: the CIFAR-10 record reader, and bytes to a batch tensor.

use crate::records::{RecordError, Records, CLASSES, IMAGE_BYTES, RECORD_BYTES};
use kiln::tensor::{Result, Tensor};
use std::io::Read;
use std::path::Path;

/// Reads a CIFAR-10 binary file that must hold exactly `records` records of
/// [`RECORD_BYTES`] bytes: a label byte, then the image's red, green and blue planes of
/// 32 x 32 bytes each.
///
/// The size is checked from the file's metadata before anything is read
/// ([`RecordError::BadSize`]); every label must be below [`CLASSES`]
/// ([`RecordError::LabelOutOfRange`], naming the record); an I/O failure is
/// [`RecordError::Io`]. Every error names the file.
pub fn read_cifar10_file(path: &Path, records: usize) -> std::result::Result<Records, RecordError> {
    let io = |source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let expected = (records * RECORD_BYTES) as u64;
    if size != expected {
        return Err(RecordError::BadSize {
            path: path.to_path_buf(),
            size,
            expected,
        });
    }
    let mut bytes = vec![0; records * RECORD_BYTES];
    file.read_exact(&mut bytes).map_err(io)?;
    let mut out = Records {
        images: Vec::with_capacity(records * IMAGE_BYTES),
        labels: Vec::with_capacity(records),
    };
    for (index, record) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
        let (&label, pixels) = record.split_first().expect("records are not empty");
        if u32::from(label) >= CLASSES {
            return Err(RecordError::LabelOutOfRange {
                path: path.to_path_buf(),
                index,
                value: label,
            });
        }
        out.labels.push(u32::from(label));
        out.images.extend_from_slice(pixels);
    }
    Ok(out)
}

/// The images of `images` (`n * IMAGE_BYTES` bytes, records' pixels end to end) as an `f32`
/// CPU tensor `[n, 3, 32, 32]` (NCHW) with values `byte / 255` in `[0, 1]`.
pub fn to_batch(images: &[u8]) -> Result<Tensor> {
    let n = images.len() / IMAGE_BYTES;
    let values = images.iter().map(|&b| f32::from(b) / 255.0).collect();
    Tensor::from_vec(values, &[n, 3, 32, 32])
}
