//! Choosing between real CIFAR-10 and synthetic data.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::cifar::{read_cifar10, Cifar10, Cifar10Sizes};
use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::synthetic::SyntheticConfig;

/// Where [`Cifar10::load_or_synthetic`] should take its data from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSource {
    /// Real CIFAR-10 when available (downloaded first when absent if `download`); when it is
    /// absent and cannot be downloaded, the default [`SyntheticConfig`] with a one-line
    /// warning on stderr. Real files that are there but damaged are an error, never a reason
    /// to fall back (see [`Cifar10::load_or_synthetic`]).
    Auto {
        /// Try [`Cifar10::download`] when none of the files is there (needs the `download`
        /// feature; ignored without it).
        download: bool,
    },
    /// Real CIFAR-10 only: fail when it cannot be had, with the error that says why (the
    /// files that are missing, the download that failed and where to put the files by hand,
    /// or the file that is damaged).
    Real {
        /// Try [`Cifar10::download`] when none of the files is there (needs the `download`
        /// feature; ignored without it).
        download: bool,
    },
    /// Synthetic data only, of this size and seed.
    Synthetic(SyntheticConfig),
}

/// Which data [`Cifar10::load_or_synthetic`] returned.
///
/// Display gives one line fit to label results, such as
/// `CIFAR-10 (data/cifar-10-batches-bin)` or
/// `synthetic CIFAR-10-format data (seed 0, 50000 train / 10000 test, data/synthetic-...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataOrigin {
    /// The real CIFAR-10, read from `folder`.
    Real {
        /// The `cifar-10-batches-bin` folder.
        folder: PathBuf,
    },
    /// The synthetic stand-in, read from its cache `folder`.
    Synthetic {
        /// The cache's `cifar-10-batches-bin` folder.
        folder: PathBuf,
        /// Its seed and size.
        config: SyntheticConfig,
    },
}

impl DataOrigin {
    /// `true` for synthetic data.
    pub fn is_synthetic(&self) -> bool {
        matches!(self, DataOrigin::Synthetic { .. })
    }

    /// A short tag for file names and table columns: `"cifar10"` or `"synthetic"`.
    pub fn tag(&self) -> &'static str {
        match self {
            DataOrigin::Real { .. } => "cifar10",
            DataOrigin::Synthetic { .. } => "synthetic",
        }
    }
}

impl fmt::Display for DataOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataOrigin::Real { folder } => write!(f, "CIFAR-10 ({})", folder.display()),
            DataOrigin::Synthetic { folder, config } => write!(
                f,
                "synthetic CIFAR-10-format data (seed {}, {} train / {} test, {})",
                config.seed,
                config.train,
                config.test,
                folder.display()
            ),
        }
    }
}

impl Cifar10 {
    // ANCHOR: load_or_synthetic
    /// `(train, test, origin)` for the experiment: real CIFAR-10 from `<dir>/cifar-10-batches-bin/`
    /// or synthetic data cached in `dir`, as `source` asks.
    ///
    /// Real data is read with every check of [`Cifar10::load`], against the official sizes
    /// (10,000 records per file). When none of its files is there and `download` is set,
    /// [`Cifar10::download`] is tried first. A `dir` that holds synthetic data (its stamp file)
    /// is refused as real data, so that results are never labelled with the wrong origin.
    ///
    /// With [`DataSource::Auto`], real data that is absent ([`DataError::means_absent`]: no
    /// dataset folder, none of its files, or a download that failed) gives one warning line on
    /// stderr that says what failed and where the files go, then [`SyntheticConfig::default`].
    /// Real data that is there but damaged (a file missing beside the others, a record file of
    /// the wrong size, a bad label byte, a wrong class-name file, a folder where a file should
    /// be) is an error naming the file: falling back would hide it.
    pub fn load_or_synthetic(
        dir: &Path,
        source: DataSource,
    ) -> Result<(Dataset, Dataset, DataOrigin)> {
        let synthetic = |config: SyntheticConfig| -> Result<(Dataset, Dataset, DataOrigin)> {
            let (train, test) = config.load_or_generate(dir)?;
            let folder = Cifar10::folder(&dir.join(config.folder_name()));
            Ok((train, test, DataOrigin::Synthetic { folder, config }))
        };
        match source {
            DataSource::Real { download } => real(dir, download),
            DataSource::Synthetic(config) => synthetic(config),
            DataSource::Auto { download } => match real(dir, download) {
                Err(e) if e.means_absent() => {
                    let config = SyntheticConfig::default();
                    eprintln!("{}", fallback_warning(&e, dir, &config));
                    synthetic(config)
                }
                real => real,
            },
        }
    }
    // ANCHOR_END: load_or_synthetic
}

/// The one line printed when [`DataSource::Auto`] falls back to synthetic data.
fn fallback_warning(error: &DataError, dir: &Path, config: &SyntheticConfig) -> String {
    format!(
        "warning: real CIFAR-10 unavailable ({error}); using synthetic CIFAR-10-format data \
         instead (seed {}, cached in {})",
        config.seed,
        dir.join(config.folder_name()).display()
    )
}

/// Real CIFAR-10 from `dir`, downloaded first if absent and `download`.
fn real(dir: &Path, download: bool) -> Result<(Dataset, Dataset, DataOrigin)> {
    if let Some(config) = SyntheticConfig::from_stamp(dir)? {
        return Err(DataError::InvalidArgument(format!(
            "{} holds synthetic data (seed {}, {} train / {} test), not CIFAR-10; ask for \
             DataSource::Synthetic, or give the folder that holds cifar-10-batches-bin",
            dir.display(),
            config.seed,
            config.train,
            config.test
        )));
    }
    let loaded = match read_cifar10(dir, &Cifar10Sizes::OFFICIAL) {
        #[cfg(feature = "download")]
        Err(e) if download && e.means_absent() => {
            Cifar10::download(dir)?;
            read_cifar10(dir, &Cifar10Sizes::OFFICIAL)
        }
        loaded => loaded,
    };
    #[cfg(not(feature = "download"))]
    let _ = download;
    let (train, test) = loaded?;
    let folder = Cifar10::folder(dir);
    Ok((train, test, DataOrigin::Real { folder }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_warning_is_one_line_saying_what_failed_and_where() {
        let dir = Path::new("/data");
        let error = Cifar10::load(&dir.join("nowhere")).unwrap_err();
        let line = fallback_warning(&error, dir, &SyntheticConfig::default());
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("warning: real CIFAR-10 unavailable (missing data_batch_1.bin"));
        assert!(
            line.contains("in /data/nowhere/cifar-10-batches-bin: expected"),
            "{line}"
        );
        assert!(
            line.contains("test_batch.bin, batches.meta.txt there"),
            "{line}"
        );
        assert!(
            line.ends_with("cached in /data/synthetic-cifar10-seed0-50000-10000)"),
            "{line}"
        );
    }
}
