//! Full-size CIFAR record files for tests, written as sparse files: only their first records
//! hold distinct bytes, the rest are holes (zero bytes, so label 0 and black pixels) that cost
//! no disk.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use kiln_data::{Cifar10, IMAGE_BYTES};

/// CIFAR-10's class names.
pub const NAMES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Records at the start of each record file that hold distinct bytes.
pub const MARKED: usize = 3;

/// Pixel `p` of image `seq` (a value that depends on both, to catch misplaced bytes).
pub fn pixel(seq: usize, p: usize) -> u8 {
    (seq * 31 + p * 7 + p / 1024) as u8
}

/// A record: `label_bytes`, then the pixels of image `seq`.
fn record(label_bytes: &[u8], seq: usize) -> Vec<u8> {
    let mut bytes = label_bytes.to_vec();
    bytes.extend((0..IMAGE_BYTES).map(|p| pixel(seq, p)));
    bytes
}

/// Writes a record file of `records` records with `labels(seq).len()` label bytes each: the
/// first [`MARKED`] are images `first_seq..` with labels `labels(seq)`, the rest zero bytes.
pub fn write_records(
    path: &Path,
    records: usize,
    first_seq: usize,
    labels: impl Fn(usize) -> Vec<u8>,
) {
    let record_len = labels(0).len() + IMAGE_BYTES;
    let mut file = File::create(path).unwrap();
    for seq in first_seq..first_seq + MARKED.min(records) {
        file.write_all(&record(&labels(seq), seq)).unwrap();
    }
    file.set_len((records * record_len) as u64).unwrap();
}

/// Overwrites the bytes of `path` at `offset` with `bytes`.
pub fn patch(path: &Path, offset: u64, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(bytes).unwrap();
}

/// Writes a full-size CIFAR-10 folder into `dir`: in training file `b` (0 to 4) record `r` is
/// image `seq = b * 10000 + r`, in the test file image `50000 + r`; the marked ones have label
/// `seq % 10`.
pub fn write_cifar10(dir: &Path) {
    let folder = Cifar10::folder(dir);
    std::fs::create_dir_all(&folder).unwrap();
    let files = Cifar10::TRAIN_FILES.iter().chain([&Cifar10::TEST_FILE]);
    for (b, name) in files.enumerate() {
        let n = Cifar10::RECORDS_PER_FILE;
        write_records(&folder.join(name), n, b * n, |seq| vec![(seq % 10) as u8]);
    }
    std::fs::write(folder.join(Cifar10::META_FILE), NAMES.join("\n") + "\n\n").unwrap();
}
