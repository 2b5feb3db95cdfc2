//! The crate's error type.

use std::path::{Path, PathBuf};

/// Everything that can go wrong while reading, fetching, generating or batching data.
///
/// Messages name the file, folder or URL involved and say what was expected.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Some files of a dataset folder are absent. When all of them are, the dataset is simply
    /// not there ([`DataError::means_absent`]).
    #[error(
        "missing {} in {}: expected {} there",
        missing.join(", "),
        dir.display(),
        expected.join(", ")
    )]
    MissingFiles {
        /// Folder that was searched.
        dir: PathBuf,
        /// Every file the folder must hold.
        expected: Vec<String>,
        /// The ones that are absent.
        missing: Vec<String>,
    },

    /// A path where the dataset needs a file (or a folder) that holds something else: a folder
    /// in place of a file, a symbolic link to nothing, a device...
    #[error("{} is {found}, expected {expected}", path.display())]
    WrongFileType {
        /// The path.
        path: PathBuf,
        /// What is there, such as `"a directory"`.
        found: String,
        /// What should be there: `"a regular file"` or `"a directory"`.
        expected: &'static str,
    },

    /// A record file that does not hold exactly the dataset's number of records (checked from
    /// its size, before anything is read).
    #[error(
        "{}: size {size} bytes, expected {expected} bytes ({records} records of {record_len} bytes)",
        path.display()
    )]
    BadSize {
        /// The record file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The size it must have: `records * record_len`.
        expected: u64,
        /// Number of records the file must hold.
        records: usize,
        /// Bytes per record (label bytes + 3072 pixel bytes).
        record_len: usize,
    },

    /// Record bytes given in memory that are not 1 to `max_records` whole records.
    #[error(
        "{}: size {size} bytes, expected 1 to {max_records} whole records of {record_len} bytes \
         (a multiple of {record_len}, at most {} bytes)",
        path.display(),
        max_records * record_len
    )]
    NotWholeRecords {
        /// The name the bytes were given under.
        path: PathBuf,
        /// Their size in bytes.
        size: u64,
        /// The most records they may hold.
        max_records: usize,
        /// Bytes per record (label bytes + 3072 pixel bytes).
        record_len: usize,
    },

    /// A label byte outside the dataset's class range.
    #[error(
        "{}: record {index} has {kind} label {value}, expected a value below {limit}",
        path.display()
    )]
    LabelOutOfRange {
        /// The record file.
        path: PathBuf,
        /// Zero-based record index in the file.
        index: usize,
        /// Which label of the record (`"class"`, `"coarse"` or `"fine"`).
        kind: &'static str,
        /// The byte found.
        value: u8,
        /// Number of classes for that label.
        limit: u32,
    },

    /// A class-name file with the wrong number of names.
    #[error("{}: found {found} class names, expected {expected}", path.display())]
    BadClassNames {
        /// The names file.
        path: PathBuf,
        /// Non-empty lines found.
        found: usize,
        /// Number of classes of the dataset.
        expected: usize,
    },

    /// An I/O error on a named file or folder.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done, such as `"reading"` or `"creating"`.
        action: &'static str,
        /// File or folder involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },

    /// A file or folder could not be renamed (moved into place).
    #[error("renaming {} to {}: {source}", from.display(), to.display())]
    Rename {
        /// The old path.
        from: PathBuf,
        /// The new path.
        to: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },

    /// The CIFAR-10 archive could not be fetched (no network, refused connection, HTTP error...).
    #[error(
        "could not download {url} ({reason}); to install CIFAR-10 by hand, fetch that archive \
         elsewhere and extract it into {} so that {}/cifar-10-batches-bin/ holds \
         data_batch_1.bin .. data_batch_5.bin, test_batch.bin and batches.meta.txt",
        dir.display(),
        dir.display()
    )]
    Download {
        /// URL that was requested.
        url: String,
        /// What failed.
        reason: String,
        /// Data directory the files were meant for.
        dir: PathBuf,
    },

    /// The downloaded bytes do not have the published MD5 checksum.
    #[error("checksum mismatch for {url}: expected MD5 {expected}, got {actual}; the download was discarded")]
    Checksum {
        /// URL that was downloaded.
        url: String,
        /// Published MD5 (lowercase hex).
        expected: String,
        /// MD5 of what arrived.
        actual: String,
    },

    /// An archive that is not a readable gzip-compressed tar.
    #[error("{archive}: not a valid tar.gz archive: {source}")]
    BadArchive {
        /// The archive (its path, or the URL it came from).
        archive: String,
        /// Decoder error.
        source: std::io::Error,
    },

    /// A well-formed archive that lacks some of the dataset's files.
    #[error("{archive}: the archive lacks {} in {folder}/", missing.join(", "))]
    IncompleteArchive {
        /// The archive (its path, or the URL it came from).
        archive: String,
        /// Folder of the archive that should hold the files.
        folder: String,
        /// The files it lacks.
        missing: Vec<String>,
    },

    /// An archive member that would be written outside the extraction folder.
    #[error("{archive}: refusing archive member {member:?}: {reason}")]
    UnsafeArchiveMember {
        /// The archive (its path, or the URL it came from).
        archive: String,
        /// Member path as stored in the archive.
        member: String,
        /// Why it is refused.
        reason: String,
    },

    /// A caller's argument that cannot be used (empty batch size, mismatched lengths...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The loader's background thread stopped without sending its batch.
    #[error("the batch preparation thread stopped unexpectedly")]
    LoaderThread,

    /// Converting a batch into a tensor, or moving it to its device, failed.
    #[error(transparent)]
    Tensor(#[from] kiln_tensor::Error),
}

impl DataError {
    /// Whether this error means that the dataset is simply not there, as opposed to there but
    /// damaged (or some other failure).
    ///
    /// `true` for [`DataError::MissingFiles`] when none of the expected files exists, and for a
    /// download that did not deliver the dataset ([`DataError::Download`],
    /// [`DataError::Checksum`], [`DataError::BadArchive`], [`DataError::IncompleteArchive`],
    /// [`DataError::UnsafeArchiveMember`]): nothing of the dataset is on disk then.
    /// [`Cifar10::load_or_synthetic`](crate::Cifar10::load_or_synthetic) falls back to synthetic
    /// data on these errors only. `false` for everything else, such as some files missing, a
    /// record file of the wrong size, a bad label byte or an I/O error.
    pub fn means_absent(&self) -> bool {
        match self {
            DataError::MissingFiles {
                expected, missing, ..
            } => missing.len() == expected.len(),
            DataError::Download { .. }
            | DataError::Checksum { .. }
            | DataError::BadArchive { .. }
            | DataError::IncompleteArchive { .. }
            | DataError::UnsafeArchiveMember { .. } => true,
            _ => false,
        }
    }
}

/// Result with [`DataError`].
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// Wraps an I/O error with what was being done (`"reading"`, `"creating"`...) and the path.
pub(crate) fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> DataError + 'a {
    move |source| DataError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Renames `from` to `to`, naming both on failure.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|source| DataError::Rename {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    })
}
