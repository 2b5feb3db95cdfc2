//! Fetching the CIFAR-10 archive over HTTP(S) with a progress bar and an MD5 check, and
//! installing its files atomically.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use md5::{Digest, Md5};
use tempfile::NamedTempFile;

use crate::cifar::{missing_files, Cifar10};
use crate::error::{io_err, rename, DataError, Result};
use crate::extract::extract_named;
use crate::staging::{remove_stale, temp_dir, DOWNLOAD, EXTRACT};

impl Cifar10 {
    /// Downloads [`Cifar10::URL`], checks [`Cifar10::MD5`] and extracts it into
    /// `<dir>/cifar-10-batches-bin/`; does nothing (no network access) when the files are
    /// already there. See [`Cifar10::download_from`].
    pub fn download(dir: &Path) -> Result<()> {
        Self::download_from(Self::URL, Self::MD5, dir)
    }

    /// Like [`Cifar10::download`] with another URL and MD5 (a mirror, or a test server).
    ///
    /// Atomic: the archive is streamed into a temporary file in `dir` under a progress bar,
    /// checked, extracted into a temporary folder in `dir` (members that would land outside it
    /// are refused, see [`extract_tar_gz`](crate::extract_tar_gz)), and only when the archive
    /// holds every expected file are they moved into place: the whole folder in one rename as
    /// `<dir>/cifar-10-batches-bin/`, or, when that folder exists, file by file into it.
    /// Temporaries are removed on every path that returns; those that a killed run left in
    /// `dir` are removed by the next call once nothing in them has changed for two minutes. A
    /// transfer failure gives [`DataError::Download`], which says where to put the files by
    /// hand.
    pub fn download_from(url: &str, md5: &str, dir: &Path) -> Result<()> {
        remove_stale(dir);
        if Self::is_present(dir) {
            return Ok(());
        }
        if md5.len() != 32 || !md5.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DataError::InvalidArgument(format!(
                "MD5 {md5:?} is not 32 hexadecimal digits"
            )));
        }
        std::fs::create_dir_all(dir).map_err(io_err("creating", dir))?;
        let archive = fetch_verified(url, md5, dir, |reason| DataError::Download {
            url: url.to_string(),
            reason,
            dir: dir.to_path_buf(),
        })?;
        let staging = temp_dir(dir, EXTRACT)?;
        extract_named(archive.path(), staging.path(), url)?;
        let extracted = Self::folder(staging.path());
        let missing = missing_files(&extracted, &Self::expected_files());
        if !missing.is_empty() {
            return Err(DataError::IncompleteArchive {
                archive: url.to_string(),
                folder: Self::FOLDER.to_string(),
                missing,
            });
        }
        // One rename when the folder is absent, so that a kill leaves all of it or none; into
        // a folder that exists (files removed by hand, say), file by file.
        let folder = Self::folder(dir);
        if !folder.exists() {
            return rename(&extracted, &folder);
        }
        for entry in std::fs::read_dir(&extracted).map_err(io_err("listing", &extracted))? {
            let from = entry.map_err(io_err("listing", &extracted))?.path();
            let to = folder.join(from.file_name().expect("read_dir entries have names"));
            rename(&from, &to)?;
        }
        Ok(())
    }
}

/// Downloads `url` into a temporary file in `folder` and returns it once its MD5 matches `md5`
/// (hex, any case).
///
/// The body is streamed to disk while its checksum is computed, under a progress bar; the
/// temporary file is created once the response has arrived, so that it never waits longer than
/// one read without changing. On any failure the temporary file is removed; the caller renames
/// or extracts the returned file only after this verification. `fail` turns a transfer
/// failure's description into the error.
pub(crate) fn fetch_verified(
    url: &str,
    md5: &str,
    folder: &Path,
    fail: impl Fn(String) -> DataError,
) -> Result<NamedTempFile> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_per_read(Some(Duration::from_secs(60)))
            .build(),
    );
    let mut response = agent.get(url).call().map_err(|e| fail(e.to_string()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(DOWNLOAD)
        .suffix(".part")
        .tempfile_in(folder)
        .map_err(io_err("creating a temporary file in", folder))?;
    let body = response.body_mut();
    let progress = progress_bar(body.content_length(), url);
    let mut reader = body.as_reader();
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| fail(format!("transfer interrupted: {e}")))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n])
            .map_err(io_err("writing", tmp.path()))?;
        progress.inc(n as u64);
    }
    progress.finish_and_clear();
    tmp.flush().map_err(io_err("writing", tmp.path()))?;

    let actual: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if !actual.eq_ignore_ascii_case(md5) {
        return Err(DataError::Checksum {
            url: url.to_string(),
            expected: md5.to_ascii_lowercase(),
            actual,
        });
    }
    Ok(tmp)
}

fn progress_bar(len: Option<u64>, url: &str) -> ProgressBar {
    let name = url.rsplit('/').next().unwrap_or(url).to_string();
    match len {
        Some(len) => ProgressBar::new(len).with_style(
            ProgressStyle::with_template(
                "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("valid progress template"),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{msg} {spinner} {bytes} {bytes_per_sec}")
                .expect("valid progress template"),
        ),
    }
    .with_message(format!("downloading {name}"))
}
