//! Safe extraction of `.tar.gz` archives.

use std::fs::File;
use std::path::{Component, Path};

use flate2::read::GzDecoder;
use tar::{Archive, EntryType};

use crate::error::{io_err, DataError, Result};

/// Extracts the gzip-compressed tar `archive` into `dest` (created if absent).
///
/// Regular files, folders, symbolic links and hard links are accepted; a member is refused,
/// with [`DataError::UnsafeArchiveMember`] and before anything of it is written, when its path
/// is absolute or contains `..`, or when it is a link whose target is absolute or contains `..`
/// (so no link can point outside `dest`, even through other links), or when it is a device,
/// pipe or other special file. Members before the refused one may already have been written:
/// extract into a fresh folder and move the result into place once this returns `Ok`.
pub fn extract_tar_gz(archive: &Path, dest: &Path) -> Result<()> {
    extract_named(archive, dest, &archive.display().to_string())
}

/// [`extract_tar_gz`], naming the archive `name` in errors (the URL of a downloaded file).
pub(crate) fn extract_named(archive: &Path, dest: &Path, name: &str) -> Result<()> {
    let file = File::open(archive).map_err(io_err("opening", archive))?;
    std::fs::create_dir_all(dest).map_err(io_err("creating", dest))?;
    let bad = |source| DataError::BadArchive {
        archive: name.to_string(),
        source,
    };
    let mut tar = Archive::new(GzDecoder::new(file));
    tar.set_preserve_permissions(false);
    tar.set_preserve_mtime(false);
    tar.set_unpack_xattrs(false);
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let member = entry.path().map_err(bad)?.into_owned();
        let refuse = |reason: String| DataError::UnsafeArchiveMember {
            archive: name.to_string(),
            member: member.display().to_string(),
            reason,
        };
        if let Some(reason) = unsafe_path(&member) {
            return Err(refuse(format!("its path {reason}")));
        }
        match entry.header().entry_type() {
            EntryType::Regular | EntryType::Directory => {}
            EntryType::Symlink | EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(bad)?
                    .ok_or_else(|| refuse("link without a target".into()))?;
                if let Some(reason) = unsafe_path(&target) {
                    return Err(refuse(format!(
                        "it links to {} which {reason}, so it could point outside {}",
                        target.display(),
                        dest.display()
                    )));
                }
            }
            EntryType::XGlobalHeader => continue,
            other => return Err(refuse(format!("unsupported member type {other:?}"))),
        }
        let unpacked = entry.unpack_in(dest).map_err(|e| {
            if is_decoding_error(&e) {
                bad(e)
            } else {
                io_err("extracting into", dest)(e)
            }
        })?;
        if !unpacked {
            return Err(refuse(format!(
                "it would be written outside {}",
                dest.display()
            )));
        }
    }
    Ok(())
}

/// Whether an error of unpacking a member comes from the archive's bytes (corrupt compressed
/// data, a truncated member) rather than from writing the member out (disk full, permission
/// denied), which the operating system reports with its own error kinds.
fn is_decoding_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::InvalidInput
            | ErrorKind::InvalidData
            | ErrorKind::UnexpectedEof
            | ErrorKind::Other
    )
}

/// Why a member or link path is unsafe, if it is.
fn unsafe_path(path: &Path) -> Option<&'static str> {
    path.components().find_map(|component| match component {
        Component::Prefix(_) | Component::RootDir => Some("is absolute"),
        Component::ParentDir => Some("contains `..`"),
        Component::CurDir | Component::Normal(_) => None,
    })
}
