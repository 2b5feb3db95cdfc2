//! Temporary files and folders in a data directory, and the removal of those that interrupted
//! runs left behind.
//!
//! Everything this crate installs in a data directory is first written under a temporary name
//! that starts with one of [`PREFIXES`], then renamed into place. A run killed meanwhile (Ctrl-C,
//! `kill`, a power cut) leaves its temporary behind. Such leftovers are harmless: nothing reads
//! names with these prefixes, and each run makes new ones with random suffixes. They are removed
//! by the next [`SyntheticConfig::write`](crate::SyntheticConfig::write) or
//! [`Cifar10::download_from`](crate::Cifar10::download_from) in the same directory once nothing
//! in them has changed for [`STALE_AFTER`] (see [`remove_stale`]).

use std::path::Path;
use std::time::{Duration, SystemTime};

use tempfile::TempDir;

use crate::error::{io_err, DataError, Result};

/// Prefix of the staging folders of synthetic data.
pub(crate) const SYNTHETIC: &str = ".synthetic-";
/// Prefix of partial downloads (files).
pub(crate) const DOWNLOAD: &str = ".download-";
/// Prefix of the folders archives are extracted into.
pub(crate) const EXTRACT: &str = ".extract-";
/// Every prefix of temporaries, whichever features are on: a build without downloads still
/// removes what a build with them left behind.
const PREFIXES: [&str; 3] = [SYNTHETIC, DOWNLOAD, EXTRACT];

/// How long a temporary must have been left untouched to count as abandoned.
///
/// A live writer never pauses that long: synthetic images are generated in memory before their
/// staging folder is created, then written in seconds; a download writes every chunk as it
/// arrives and gives up after 60 seconds without data; extraction writes continuously.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(120);

/// A new, empty temporary folder in `dir` whose name starts with `prefix`, removed when dropped.
pub(crate) fn temp_dir(dir: &Path, prefix: &str) -> Result<TempDir> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(dir)
        .map_err(io_err("creating a temporary folder in", dir))
}

/// Removes the folder `path` of `dir` without ever leaving it half-deleted under its own name:
/// it is renamed (atomically) into a new temporary folder, which is then removed. Nothing is
/// done if `path` has already gone. A removal that fails or is interrupted leaves an ordinary
/// temporary, which [`remove_stale`] deletes later.
pub(crate) fn discard(dir: &Path, path: &Path, prefix: &str) -> Result<()> {
    let trash = temp_dir(dir, prefix)?;
    let to = trash.path().join("discarded");
    match std::fs::rename(path, &to) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        moved => moved.map_err(|source| DataError::Rename {
            from: path.to_path_buf(),
            to,
            source,
        }),
    }
}

/// Removes the abandoned temporaries of `dir`: entries whose names start with one of
/// [`PREFIXES`] in which nothing has changed for [`STALE_AFTER`].
///
/// "Changed" is the newest modification time of the entry and of everything below it (links
/// not followed), so a temporary that a live run is still writing is never touched. Ages rather
/// than process ids decide, so this works the same when the data directory is shared between
/// machines or containers, and needs no lock. Best effort: errors (an unreadable directory, an
/// entry another process removes first) are ignored, since the leftovers harm nothing.
pub(crate) fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let ours = entry
            .file_name()
            .to_str()
            .is_some_and(|name| PREFIXES.iter().any(|prefix| name.starts_with(prefix)));
        let path = entry.path();
        let stale = || {
            last_change(&path)
                .ok()
                .and_then(|time| time.elapsed().ok())
                .is_some_and(|age| age >= STALE_AFTER)
        };
        if ours && stale() {
            let _ = match entry.file_type() {
                Ok(kind) if kind.is_dir() => std::fs::remove_dir_all(&path),
                _ => std::fs::remove_file(&path),
            };
        }
    }
}

/// The newest modification time of `path` and, for a folder, of everything below it.
fn last_change(path: &Path) -> std::io::Result<SystemTime> {
    let meta = std::fs::symlink_metadata(path)?;
    let mut newest = meta.modified()?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            newest = newest.max(last_change(&entry?.path())?);
        }
    }
    Ok(newest)
}
