//! Readers for the CIFAR-10 and CIFAR-100 binary versions.

use std::path::{Path, PathBuf};

use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::files::{file_size, is_dir};
use crate::format::{
    check_record_size, parse_records, read_class_names, read_records, whole_records, LabelField,
    CIFAR100_LABELS, CIFAR10_LABELS, IMAGE_BYTES,
};
use crate::synthetic::SyntheticConfig;

/// CIFAR-10, binary version: 50,000 training and 10,000 test images in 10 classes.
///
/// The files live in `<dir>/cifar-10-batches-bin/`: `data_batch_1.bin` .. `data_batch_5.bin`
/// (training, in that order), `test_batch.bin` and `batches.meta.txt` (class names, one per
/// line). Each record file holds [`Cifar10::RECORDS_PER_FILE`] records of 3073 bytes.
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
    /// Records in each of the six record files.
    pub const RECORDS_PER_FILE: usize = 10_000;
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
    ///
    /// Before anything is read, every expected file must be a regular file (symbolic links
    /// followed) and every record file must have exactly [`Cifar10::RECORDS_PER_FILE`] records'
    /// worth of bytes, checked from its size alone. Then the class names are counted and every
    /// label byte is checked as the records are read. Errors name the file and what is wrong:
    /// [`DataError::MissingFiles`], [`DataError::WrongFileType`] (a folder or a broken link
    /// where a file should be), [`DataError::Io`] (a link loop, an unreadable file),
    /// [`DataError::BadSize`], [`DataError::BadClassNames`], [`DataError::LabelOutOfRange`].
    ///
    /// A folder written by [`SyntheticConfig::write`], recognised by the stamp file it leaves in
    /// `dir`, is checked against the numbers of images that stamp records instead.
    pub fn load(dir: &Path) -> Result<(Dataset, Dataset)> {
        let sizes = match SyntheticConfig::from_stamp(dir)? {
            Some(config) => config.file_sizes(),
            None => Cifar10Sizes::OFFICIAL,
        };
        read_cifar10(dir, &sizes)
    }

    /// Parses a CIFAR-10 record file already in memory, such as a `data_batch_1.bin` given to a
    /// web page; `name` names it in errors.
    ///
    /// The bytes must be 1 to [`Cifar10::RECORDS_PER_FILE`] whole records of 3073 bytes
    /// ([`DataError::NotWholeRecords`] otherwise, before anything is parsed), and every label
    /// byte is checked as [`Cifar10::load`] checks it. The images carry CIFAR-10's class names
    /// (those of `batches.meta.txt`).
    pub fn parse_batch(name: &str, bytes: &[u8]) -> Result<Dataset> {
        let path = Path::new(name);
        whole_records(
            path,
            bytes.len(),
            Self::RECORDS_PER_FILE,
            CIFAR10_LABELS.len() + IMAGE_BYTES,
        )?;
        let mut records = parse_records(path, bytes, CIFAR10_LABELS)?;
        let names = CLASS_NAMES.map(String::from).to_vec();
        Dataset::new(records.images, records.labels.swap_remove(0), names)
    }
}

/// CIFAR-10's class names, in label order.
const CLASS_NAMES: [&str; 10] = [
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

/// Records in each record file of a CIFAR-10-layout folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cifar10Sizes {
    /// The five training files, in [`Cifar10::TRAIN_FILES`] order.
    pub(crate) train: [usize; 5],
    /// The test file.
    pub(crate) test: usize,
}

impl Cifar10Sizes {
    /// The real CIFAR-10: 10,000 records in every file.
    pub(crate) const OFFICIAL: Self = Self {
        train: [Cifar10::RECORDS_PER_FILE; 5],
        test: Cifar10::RECORDS_PER_FILE,
    };
}

/// The record files of a CIFAR-10-layout folder with their numbers of records: the training
/// files in order, then the test file.
fn cifar10_record_files(sizes: &Cifar10Sizes) -> Vec<(&'static str, usize)> {
    Cifar10::TRAIN_FILES
        .into_iter()
        .zip(sizes.train)
        .chain([(Cifar10::TEST_FILE, sizes.test)])
        .collect()
}

/// Checks a CIFAR-10-layout folder whose record files hold `sizes` records, without reading
/// the records (every check of [`Cifar10::load`] but the class names and labels).
pub(crate) fn check_cifar10(dir: &Path, sizes: &Cifar10Sizes) -> Result<()> {
    check_folder(
        &Cifar10::folder(dir),
        &cifar10_record_files(sizes),
        CIFAR10_LABELS,
        &[Cifar10::META_FILE],
    )
}

/// Reads a CIFAR-10-layout folder whose record files hold `sizes` records (see
/// [`Cifar10::load`]).
pub(crate) fn read_cifar10(dir: &Path, sizes: &Cifar10Sizes) -> Result<(Dataset, Dataset)> {
    check_cifar10(dir, sizes)?;
    let folder = Cifar10::folder(dir);
    let names = read_class_names(&folder.join(Cifar10::META_FILE), 10)?;
    let files = cifar10_record_files(sizes);
    let (train, test) = files.split_at(Cifar10::TRAIN_FILES.len());
    let train = read_split(&folder, train, CIFAR10_LABELS, 0, &names)?;
    let test = read_split(&folder, test, CIFAR10_LABELS, 0, &names)?;
    Ok((train, test))
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
    /// Records in [`Cifar100::TRAIN_FILE`].
    pub const TRAIN_RECORDS: usize = 50_000;
    /// Records in [`Cifar100::TEST_FILE`].
    pub const TEST_RECORDS: usize = 10_000;

    /// Reads `(train, test)` from `<dir>/cifar-100-binary/` with the chosen labels.
    ///
    /// Checked as [`Cifar10::load`] checks CIFAR-10: every file is there and is a regular file,
    /// the record files hold exactly [`Cifar100::TRAIN_RECORDS`] and
    /// [`Cifar100::TEST_RECORDS`] records of 3074 bytes (from their sizes, before anything is
    /// read), and both label bytes of every record are validated whichever is kept.
    pub fn load(dir: &Path, labels: Cifar100Labels) -> Result<(Dataset, Dataset)> {
        let folder = dir.join(Self::FOLDER);
        let (names_file, column) = match labels {
            Cifar100Labels::Coarse => (Self::COARSE_NAMES_FILE, 0),
            Cifar100Labels::Fine => (Self::FINE_NAMES_FILE, 1),
        };
        let train = [(Self::TRAIN_FILE, Self::TRAIN_RECORDS)];
        let test = [(Self::TEST_FILE, Self::TEST_RECORDS)];
        check_folder(
            &folder,
            &[train, test].concat(),
            CIFAR100_LABELS,
            &[Self::COARSE_NAMES_FILE, Self::FINE_NAMES_FILE],
        )?;
        let classes = CIFAR100_LABELS[column].classes as usize;
        let names = read_class_names(&folder.join(names_file), classes)?;
        let train = read_split(&folder, &train, CIFAR100_LABELS, column, &names)?;
        let test = read_split(&folder, &test, CIFAR100_LABELS, column, &names)?;
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

/// Checks a dataset folder before anything is read: `record_files` (name, number of records)
/// and `other_files` must all be regular files, and each record file must have the size of its
/// records, whose label bytes are `fields`.
///
/// The first path that holds something other than a file (or cannot be looked at) fails with
/// an error saying what it is; then absent files fail as [`DataError::MissingFiles`] (all of
/// them listed, in the given order: record files first); then a record file of the wrong size
/// fails as [`DataError::BadSize`].
fn check_folder(
    folder: &Path,
    record_files: &[(&str, usize)],
    fields: &[LabelField],
    other_files: &[&str],
) -> Result<()> {
    let names: Vec<&str> = record_files
        .iter()
        .map(|&(name, _)| name)
        .chain(other_files.iter().copied())
        .collect();
    let found = if is_dir(folder)? {
        names
            .iter()
            .map(|name| file_size(&folder.join(name)))
            .collect::<Result<Vec<_>>>()?
    } else {
        vec![None; names.len()]
    };
    let Some(sizes) = found.iter().copied().collect::<Option<Vec<u64>>>() else {
        return Err(DataError::MissingFiles {
            dir: folder.to_path_buf(),
            expected: names.iter().map(|name| name.to_string()).collect(),
            missing: names
                .iter()
                .zip(&found)
                .filter(|(_, size)| size.is_none())
                .map(|(name, _)| name.to_string())
                .collect(),
        });
    };
    let record_len = fields.len() + IMAGE_BYTES;
    for (&(name, records), size) in record_files.iter().zip(sizes) {
        check_record_size(&folder.join(name), size, records, record_len)?;
    }
    Ok(())
}

/// Concatenates record files (name, number of records) into one dataset keeping label column
/// `column`.
fn read_split(
    folder: &Path,
    files: &[(&str, usize)],
    fields: &[LabelField],
    column: usize,
    names: &[String],
) -> Result<Dataset> {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for &(file, records) in files {
        let mut records = read_records(&folder.join(file), fields, records)?;
        images.append(&mut records.images);
        labels.append(&mut records.labels[column]);
    }
    Dataset::new(images, labels, names.to_vec())
}
