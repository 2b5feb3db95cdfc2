//! Readers for the CIFAR-10 and CIFAR-100 binary versions.

use std::path::{Path, PathBuf};

use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::format::{read_class_names, read_records, LabelField, CIFAR100_LABELS, CIFAR10_LABELS};

/// CIFAR-10, binary version: 50,000 training and 10,000 test images in 10 classes.
///
/// The files live in `<dir>/cifar-10-batches-bin/`: `data_batch_1.bin` .. `data_batch_5.bin`
/// (training, in that order), `test_batch.bin` and `batches.meta.txt` (class names, one per
/// line).
#[derive(Debug, Clone, Copy)]
pub struct Cifar10;

impl Cifar10 {
    /// Folder, inside the data directory, that holds the files.
    pub const FOLDER: &'static str = "cifar-10-batches-bin";
    /// Training record files, in reading order.
    pub const TRAIN_FILES: [&'static str; 5] = [
        "data_batch_1.bin",
        "data_batch_2.bin",
        "data_batch_3.bin",
        "data_batch_4.bin",
        "data_batch_5.bin",
    ];
    /// Test record file.
    pub const TEST_FILE: &'static str = "test_batch.bin";
    /// Class-name file.
    pub const META_FILE: &'static str = "batches.meta.txt";
    /// The official archive of the binary version.
    pub const URL: &'static str = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
    /// MD5 published for [`Cifar10::URL`].
    pub const MD5: &'static str = "c32a1d4ab5d03f1284b67883e8d87530";

    /// The folder holding the files for data directory `dir`.
    pub fn folder(dir: &Path) -> PathBuf {
        dir.join(Self::FOLDER)
    }

    /// Every file expected in [`Cifar10::folder`].
    pub fn expected_files() -> Vec<&'static str> {
        let mut files = Self::TRAIN_FILES.to_vec();
        files.extend([Self::TEST_FILE, Self::META_FILE]);
        files
    }

    /// Whether every expected file exists (sizes and labels are checked by [`Cifar10::load`]).
    pub fn is_present(dir: &Path) -> bool {
        missing_files(&Self::folder(dir), &Self::expected_files()).is_empty()
    }

    /// Reads `(train, test)` from `<dir>/cifar-10-batches-bin/`, validating every file first.
    pub fn load(dir: &Path) -> Result<(Dataset, Dataset)> {
        let folder = Self::folder(dir);
        check_present(&folder, &Self::expected_files())?;
        let names = read_class_names(&folder.join(Self::META_FILE), 10)?;
        let train = read_split(&folder, &Self::TRAIN_FILES, CIFAR10_LABELS, 0, &names)?;
        let test = read_split(&folder, &[Self::TEST_FILE], CIFAR10_LABELS, 0, &names)?;
        Ok((train, test))
    }
}

/// Which CIFAR-100 label a [`Dataset`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cifar100Labels {
    /// The 20 superclasses (first label byte).
    Coarse,
    /// The 100 classes (second label byte).
    Fine,
}

/// CIFAR-100, binary version: 50,000 training and 10,000 test images, each with a coarse
/// (20 superclasses) and a fine (100 classes) label.
///
/// The files live in `<dir>/cifar-100-binary/`: `train.bin`, `test.bin`,
/// `coarse_label_names.txt` and `fine_label_names.txt`. Records hold the coarse label byte,
/// the fine label byte, then the same 3072 pixel bytes as CIFAR-10.
#[derive(Debug, Clone, Copy)]
pub struct Cifar100;

impl Cifar100 {
    /// Folder, inside the data directory, that holds the files.
    pub const FOLDER: &'static str = "cifar-100-binary";
    /// Training record file.
    pub const TRAIN_FILE: &'static str = "train.bin";
    /// Test record file.
    pub const TEST_FILE: &'static str = "test.bin";
    /// Superclass names.
    pub const COARSE_NAMES_FILE: &'static str = "coarse_label_names.txt";
    /// Class names.
    pub const FINE_NAMES_FILE: &'static str = "fine_label_names.txt";

    /// Reads `(train, test)` from `<dir>/cifar-100-binary/` with the chosen labels. Both label
    /// bytes of every record are validated whichever is kept.
    pub fn load(dir: &Path, labels: Cifar100Labels) -> Result<(Dataset, Dataset)> {
        let folder = dir.join(Self::FOLDER);
        let (names_file, column) = match labels {
            Cifar100Labels::Coarse => (Self::COARSE_NAMES_FILE, 0),
            Cifar100Labels::Fine => (Self::FINE_NAMES_FILE, 1),
        };
        check_present(
            &folder,
            &[
                Self::TRAIN_FILE,
                Self::TEST_FILE,
                Self::COARSE_NAMES_FILE,
                Self::FINE_NAMES_FILE,
            ],
        )?;
        let classes = CIFAR100_LABELS[column].classes as usize;
        let names = read_class_names(&folder.join(names_file), classes)?;
        let train = read_split(
            &folder,
            &[Self::TRAIN_FILE],
            CIFAR100_LABELS,
            column,
            &names,
        )?;
        let test = read_split(&folder, &[Self::TEST_FILE], CIFAR100_LABELS, column, &names)?;
        Ok((train, test))
    }
}

/// The names of `expected` that are not files in `folder`.
pub(crate) fn missing_files(folder: &Path, expected: &[&str]) -> Vec<String> {
    expected
        .iter()
        .filter(|name| !folder.join(name).is_file())
        .map(|name| name.to_string())
        .collect()
}

/// Fails with the list of expected and missing files unless all are there.
fn check_present(folder: &Path, expected: &[&str]) -> Result<()> {
    let missing = missing_files(folder, expected);
    if missing.is_empty() {
        return Ok(());
    }
    Err(DataError::MissingFiles {
        dir: folder.to_path_buf(),
        expected: expected.iter().map(|s| s.to_string()).collect(),
        missing,
    })
}

/// Concatenates record files into one dataset keeping label column `column`.
fn read_split(
    folder: &Path,
    files: &[&str],
    fields: &[LabelField],
    column: usize,
    names: &[String],
) -> Result<Dataset> {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for file in files {
        let mut records = read_records(&folder.join(file), fields)?;
        images.append(&mut records.images);
        labels.append(&mut records.labels[column]);
    }
    Dataset::new(images, labels, names.to_vec())
}
