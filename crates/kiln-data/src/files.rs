//! What is on disk where a dataset expects a file or a folder.
//!
//! `Path::is_file` and friends answer `false` for a folder, a broken link, a link loop and an
//! unreadable path alike, which would report all of them as "missing". These helpers say which.

use std::io::ErrorKind;
use std::path::Path;

use crate::error::{io_err, DataError, Result};

/// What [`probe`] found at a path, symbolic links followed.
enum Found {
    Nothing,
    File { size: u64 },
    Dir,
}

const FILE: &str = "a regular file";
const DIR: &str = "a directory";

/// What is at `path`, following symbolic links; `expected` (`FILE` or `DIR`) is what the caller
/// wants there, for the error.
///
/// A link to nothing or a special file (device, pipe, socket) is a
/// [`DataError::WrongFileType`]; failing to follow a link (a loop, say) or to read the metadata
/// is a [`DataError::Io`] naming the path.
fn probe(path: &Path, expected: &'static str) -> Result<Found> {
    let wrong = |found: String| DataError::WrongFileType {
        path: path.to_path_buf(),
        found,
        expected,
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Found::Nothing),
        Err(e) => return Err(io_err("reading the metadata of", path)(e)),
    };
    let meta = if meta.file_type().is_symlink() {
        std::fs::metadata(path).map_err(|e| match (e.kind(), std::fs::read_link(path)) {
            (ErrorKind::NotFound, Ok(target)) => wrong(format!(
                "a symbolic link to {}, which does not exist",
                target.display()
            )),
            _ => io_err("following the symbolic link", path)(e),
        })?
    } else {
        meta
    };
    if meta.is_file() {
        Ok(Found::File { size: meta.len() })
    } else if meta.is_dir() {
        Ok(Found::Dir)
    } else {
        Err(wrong("a special file (device, pipe or socket)".into()))
    }
}

/// The size of the regular file at `path` (links followed), or `None` when nothing is there.
/// Anything else at `path` is an error that says what it is.
pub(crate) fn file_size(path: &Path) -> Result<Option<u64>> {
    match probe(path, FILE)? {
        Found::Nothing => Ok(None),
        Found::File { size } => Ok(Some(size)),
        Found::Dir => Err(DataError::WrongFileType {
            path: path.to_path_buf(),
            found: DIR.into(),
            expected: FILE,
        }),
    }
}

/// Whether a folder is at `path` (links followed): `false` when nothing is there, an error that
/// says what it is for anything else.
pub(crate) fn is_dir(path: &Path) -> Result<bool> {
    match probe(path, DIR)? {
        Found::Nothing => Ok(false),
        Found::Dir => Ok(true),
        Found::File { .. } => Err(DataError::WrongFileType {
            path: path.to_path_buf(),
            found: FILE.into(),
            expected: DIR,
        }),
    }
}
