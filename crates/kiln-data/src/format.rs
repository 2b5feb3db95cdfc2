//! The CIFAR binary record format.
//!
//! A record file is a plain concatenation of records. Each record is its label byte(s) followed
//! by [`IMAGE_BYTES`] pixel bytes: the red plane, then green, then blue, each 32 rows of 32
//! pixels, row-major. CIFAR-10 records have one label byte (class, 0..10); CIFAR-100 records
//! have two (coarse class 0..20, then fine class 0..100).

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use crate::error::{io_err, DataError, Result};

/// Colour channels per image (R, G, B).
pub const CHANNELS: usize = 3;
/// Image height in pixels.
pub const HEIGHT: usize = 32;
/// Image width in pixels.
pub const WIDTH: usize = 32;
/// Pixel bytes per image: `CHANNELS * HEIGHT * WIDTH` = 3072, channel-planar.
pub const IMAGE_BYTES: usize = CHANNELS * HEIGHT * WIDTH;

/// One label byte of a record: its name in messages and its number of classes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LabelField {
    pub(crate) kind: &'static str,
    pub(crate) classes: u32,
}

/// CIFAR-10: one label byte.
pub(crate) const CIFAR10_LABELS: &[LabelField] = &[LabelField {
    kind: "class",
    classes: 10,
}];

/// CIFAR-100: coarse then fine label byte.
pub(crate) const CIFAR100_LABELS: &[LabelField] = &[
    LabelField {
        kind: "coarse",
        classes: 20,
    },
    LabelField {
        kind: "fine",
        classes: 100,
    },
];

/// The content of one record file: pixels of every image, and one label column per label byte.
#[derive(Debug)]
pub(crate) struct Records {
    /// `n * IMAGE_BYTES` bytes.
    pub(crate) images: Vec<u8>,
    /// `fields.len()` columns of `n` labels.
    pub(crate) labels: Vec<Vec<u32>>,
}

// ANCHOR: read_records
/// Reads and validates a record file that must hold exactly `records` records, each starting
/// with `fields.len()` label bytes.
///
/// The size is checked before any record is read (a file of the wrong size, 10 GB say, is
/// refused from its metadata alone), exactly that many bytes are read, and every label byte is
/// checked against its class count.
pub(crate) fn read_records(path: &Path, fields: &[LabelField], records: usize) -> Result<Records> {
    let record_len = fields.len() + IMAGE_BYTES;
    let mut file = File::open(path).map_err(io_err("opening", path))?;
    let size = file
        .metadata()
        .map_err(io_err("reading the metadata of", path))?
        .len();
    check_record_size(path, size, records, record_len)?;
    let len = usize::try_from(size).map_err(|_| {
        io_err("reading", path)(std::io::Error::new(
            ErrorKind::OutOfMemory,
            "the file is larger than this machine's address space",
        ))
    })?;
    let mut bytes = vec![0u8; len];
    file.read_exact(&mut bytes)
        .map_err(io_err("reading", path))?;
    parse_records(path, &bytes, fields)
}

/// Splits `bytes`, whole records of `fields.len()` label bytes each, into pixels and label
/// columns, checking every label byte against its class count; `path` names the file in
/// errors.
pub(crate) fn parse_records(path: &Path, bytes: &[u8], fields: &[LabelField]) -> Result<Records> {
    let record_len = fields.len() + IMAGE_BYTES;
    let records = bytes.len() / record_len;
    let mut images = Vec::with_capacity(records * IMAGE_BYTES);
    let mut labels = vec![Vec::with_capacity(records); fields.len()];
    for (index, record) in bytes.chunks_exact(record_len).enumerate() {
        let (label_bytes, pixels) = record.split_at(fields.len());
        for ((&value, field), column) in label_bytes.iter().zip(fields).zip(&mut labels) {
            if u32::from(value) >= field.classes {
                return Err(DataError::LabelOutOfRange {
                    path: path.to_path_buf(),
                    index,
                    kind: field.kind,
                    value,
                    limit: field.classes,
                });
            }
            column.push(u32::from(value));
        }
        images.extend_from_slice(pixels);
    }
    Ok(Records { images, labels })
}
// ANCHOR_END: read_records

/// Fails with [`DataError::BadSize`] unless `size` is exactly `records` records of `record_len`
/// bytes.
pub(crate) fn check_record_size(
    path: &Path,
    size: u64,
    records: usize,
    record_len: usize,
) -> Result<()> {
    let expected = (records as u64).saturating_mul(record_len as u64);
    if size == expected {
        return Ok(());
    }
    Err(DataError::BadSize {
        path: path.to_path_buf(),
        size,
        expected,
        records,
        record_len,
    })
}

/// The number of records in `size` bytes: fails with [`DataError::NotWholeRecords`] unless they
/// are 1 to `max_records` whole records of `record_len` bytes.
pub(crate) fn whole_records(
    path: &Path,
    size: usize,
    max_records: usize,
    record_len: usize,
) -> Result<usize> {
    let records = size / record_len;
    if size.is_multiple_of(record_len) && (1..=max_records).contains(&records) {
        return Ok(records);
    }
    Err(DataError::NotWholeRecords {
        path: path.to_path_buf(),
        size: size as u64,
        max_records,
        record_len,
    })
}

/// Writes CIFAR-10 records (one label byte each). `images` holds `labels.len() * IMAGE_BYTES`
/// bytes; labels must be below 256.
pub(crate) fn write_cifar10_records(path: &Path, images: &[u8], labels: &[u32]) -> Result<()> {
    debug_assert_eq!(images.len(), labels.len() * IMAGE_BYTES);
    let mut bytes = Vec::with_capacity(labels.len() * (1 + IMAGE_BYTES));
    for (&label, pixels) in labels.iter().zip(images.chunks_exact(IMAGE_BYTES)) {
        bytes.push(u8::try_from(label).expect("CIFAR-10 labels fit a byte"));
        bytes.extend_from_slice(pixels);
    }
    std::fs::write(path, bytes).map_err(io_err("writing", path))
}

/// Reads a class-name file: one name per non-empty line, exactly `expected` of them.
pub(crate) fn read_class_names(path: &Path, expected: usize) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(io_err("reading", path))?;
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(String::from)
        .collect();
    if names.len() != expected {
        return Err(DataError::BadClassNames {
            path: path.to_path_buf(),
            found: names.len(),
            expected,
        });
    }
    Ok(names)
}

/// Writes one class name per line.
pub(crate) fn write_class_names(path: &Path, names: &[&str]) -> Result<()> {
    let text: String = names.iter().map(|name| format!("{name}\n")).collect();
    std::fs::write(path, text).map_err(io_err("writing", path))
}
