//! Choosing between real CIFAR-10 and synthetic data.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::cifar::Cifar10;
use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::synthetic::SyntheticConfig;

/// Where [`Cifar10::load_or_synthetic`] should take its data from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSource {
    /// Real CIFAR-10 when available (downloaded first when missing if `download`), otherwise
    /// the default [`SyntheticConfig`] with a one-line warning on stderr.
    Auto {
        /// Try [`Cifar10::download`] when the files are missing (needs the `download`
        /// feature; ignored without it).
        download: bool,
    },
    /// Real CIFAR-10 only: fail when it cannot be had.
    Real {
        /// Try [`Cifar10::download`] when the files are missing (needs the `download`
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
    /// With [`DataSource::Auto`], any failure to get real data (files missing, download failed,
    /// a corrupt file) prints one warning line on stderr that says what failed and where the
    /// files go, then falls back to [`SyntheticConfig::default`]: the call fails only if the
    /// synthetic data cannot be written or read either.
    pub fn load_or_synthetic(
        dir: &Path,
        source: DataSource,
    ) -> Result<(Dataset, Dataset, DataOrigin)> {
        let synthetic = |config: SyntheticConfig| -> Result<(Dataset, Dataset, DataOrigin)> {
            let root = config.write(dir)?;
            let (train, test) = Cifar10::load(&root)?;
            let folder = Cifar10::folder(&root);
            Ok((train, test, DataOrigin::Synthetic { folder, config }))
        };
        match source {
            DataSource::Real { download } => real(dir, download),
            DataSource::Synthetic(config) => synthetic(config),
            DataSource::Auto { download } => real(dir, download).or_else(|e| {
                let config = SyntheticConfig::default();
                eprintln!("{}", fallback_warning(&e, dir, &config));
                synthetic(config)
            }),
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

fn real(dir: &Path, download: bool) -> Result<(Dataset, Dataset, DataOrigin)> {
    #[cfg(feature = "download")]
    if download {
        Cifar10::download(dir)?;
    }
    #[cfg(not(feature = "download"))]
    let _ = download;
    let (train, test) = Cifar10::load(dir)?;
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
