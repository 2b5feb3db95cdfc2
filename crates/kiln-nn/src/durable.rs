//! Files that survive a crash: written whole or not at all.
//!
//! [`write_atomically`] follows the protocol of TensorFlow's and Orbax's checkpoint managers:
//! the bytes go to a temporary file in the target's folder, which is flushed to disk and then
//! renamed over the target, and the folder itself is flushed so that the rename is durable. A
//! process killed at any moment leaves either the previous file or the new one, never a mix or
//! a truncated file; at worst a stray temporary file (`.<name>.<random>.tmp`) stays behind.

use std::io::Write;
use std::path::{Path, PathBuf};

/// An I/O error with what was being done and to which path. Its message includes the
/// system's, so it has no separate `source`.
#[derive(Debug, thiserror::Error)]
#[error("{action} {}: {io}", path.display())]
pub struct FileError {
    /// What was being done: `"reading"`, `"writing"`, `"renaming into"`, ...
    pub action: &'static str,
    /// The file or folder.
    pub path: PathBuf,
    /// What the system reported.
    pub io: std::io::Error,
}

impl FileError {
    /// A closure for `map_err` that wraps an I/O error with `action` and `path`.
    pub fn wrap(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> FileError {
        let path = path.to_path_buf();
        move |io| FileError { action, path, io }
    }
}

/// Replaces `path` by `bytes` atomically and durably (see the module documentation).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    write_through_temporary(path, bytes, true)
}

/// Creates `path` holding `bytes` atomically and durably, failing if it exists (with
/// [`std::io::ErrorKind::AlreadyExists`]): of two processes creating one file, one wins.
pub fn create_atomically(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    write_through_temporary(path, bytes, false)
}

fn write_through_temporary(path: &Path, bytes: &[u8], replace: bool) -> Result<(), FileError> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // A plain file's mode (0666 less the umask), not a temporary file's private 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut file = builder
        .tempfile_in(folder)
        .map_err(FileError::wrap("creating a temporary file in", folder))?;
    file.write_all(bytes)
        .map_err(FileError::wrap("writing", file.path()))?;
    file.as_file()
        .sync_all()
        .map_err(FileError::wrap("flushing", file.path()))?;
    let persisted = if replace {
        file.persist(path)
    } else {
        file.persist_noclobber(path)
    };
    persisted.map_err(|e| FileError::wrap("renaming a temporary file into", path)(e.error))?;
    sync_folder(folder)
}

/// Flushes a folder's entries (a rename inside it) to disk. Windows has no such call; there
/// the rename itself is the commit.
fn sync_folder(folder: &Path) -> Result<(), FileError> {
    #[cfg(unix)]
    std::fs::File::open(folder)
        .and_then(|f| f.sync_all())
        .map_err(FileError::wrap("flushing folder", folder))?;
    #[cfg(not(unix))]
    let _ = folder;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.bin")]);
    }

    #[test]
    fn creating_refuses_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        create_atomically(&path, b"first").unwrap();
        let err = create_atomically(&path, b"second").unwrap_err();
        assert_eq!(err.io.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
    }

    #[test]
    fn errors_name_the_action_and_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-folder").join("a.bin");
        let err = write_atomically(&path, b"x").unwrap_err().to_string();
        assert!(err.starts_with("creating a temporary file in "), "{err}");
        assert!(err.contains("missing-folder"), "{err}");
    }
}
