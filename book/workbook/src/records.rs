//! The types of chapter 9's record reader: what a CIFAR-10 file holds, and what can be wrong
//! with one.

use std::fmt;
use std::path::PathBuf;

/// Pixel bytes per CIFAR image: 3 planes (red, green, blue) of 32 rows of 32 pixels.
pub const IMAGE_BYTES: usize = 3 * 32 * 32;

/// Bytes per CIFAR-10 record: one label byte, then [`IMAGE_BYTES`] pixel bytes.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;

/// Classes of CIFAR-10: a label byte must be below this.
pub const CLASSES: u32 = 10;

/// The content of one CIFAR-10 record file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Records {
    /// `n * IMAGE_BYTES` pixel bytes: image `i` is `images[i * IMAGE_BYTES..][..IMAGE_BYTES]`,
    /// a `[3, 32, 32]` image in CHW order.
    pub images: Vec<u8>,
    /// `n` labels, each below [`CLASSES`].
    pub labels: Vec<u32>,
}

/// Why a record file could not be read.
#[derive(Debug)]
pub enum RecordError {
    /// The file could not be opened or read.
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file does not hold exactly the expected number of records.
    BadSize {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// `records * RECORD_BYTES`.
        expected: u64,
    },
    /// A label byte is not a class.
    LabelOutOfRange {
        /// The file.
        path: PathBuf,
        /// The record, counting from 0.
        index: usize,
        /// The label byte.
        value: u8,
    },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Io { path, source } => write!(f, "reading {}: {source}", path.display()),
            RecordError::BadSize {
                path,
                size,
                expected,
            } => write!(
                f,
                "{}: {size} bytes, expected {expected} ({} bytes per record)",
                path.display(),
                RECORD_BYTES
            ),
            RecordError::LabelOutOfRange { path, index, value } => write!(
                f,
                "{}: record {index} has label {value}, expected below {CLASSES}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for RecordError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RecordError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
