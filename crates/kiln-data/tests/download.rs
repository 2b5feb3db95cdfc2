//! Downloading and extracting, against tar.gz archives built here and a small HTTP server on
//! 127.0.0.1 (never the real URL).

#![cfg(feature = "download")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use md5::{Digest, Md5};

/// A member of a test archive.
enum Member<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
}

/// A gzip-compressed tar of `members`. Names and link targets are written into the header
/// bytes as given (the `tar` crate's path setters refuse `..` and absolute paths, which is
/// what the malicious archives need).
fn tar_gz(members: &[Member]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for member in members {
        let mut header = tar::Header::new_gnu();
        let (name, data, kind, link): (&str, &[u8], _, Option<&str>) = match *member {
            Member::File(name, data) => (name, data, tar::EntryType::Regular, None),
            Member::Dir(name) => (name, &[], tar::EntryType::Directory, None),
            Member::Symlink(name, to) => (name, &[], tar::EntryType::Symlink, Some(to)),
            Member::HardLink(name, to) => (name, &[], tar::EntryType::Link, Some(to)),
        };
        let raw = &mut header.as_old_mut().name;
        raw.fill(0);
        raw[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(to) = link {
            header.set_link_name_literal(to).unwrap();
        }
        header.set_entry_type(kind);
        header.set_mode(if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        header.set_size(data.len() as u64);
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// Lowercase hex MD5 of `bytes`.
fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A CIFAR-10 binary archive in the official layout, with `records` images per file.
/// `skip` names a file to leave out.
fn cifar_archive(records: usize, skip: Option<&str>) -> Vec<u8> {
    let record = |label: u8| {
        let mut r = vec![label];
        r.extend((0..3072).map(|p| (p % 251) as u8));
        r
    };
    let batch: Vec<u8> = (0..records).flat_map(|i| record((i % 10) as u8)).collect();
    let names = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
    let files: Vec<(String, &[u8])> = (1..=5)
        .map(|b| {
            (
                format!("cifar-10-batches-bin/data_batch_{b}.bin"),
                &batch[..],
            )
        })
        .chain([
            (
                "cifar-10-batches-bin/test_batch.bin".to_string(),
                &batch[..],
            ),
            (
                "cifar-10-batches-bin/batches.meta.txt".to_string(),
                names.as_bytes(),
            ),
            (
                "cifar-10-batches-bin/readme.html".to_string(),
                &b"<p>CIFAR</p>"[..],
            ),
        ])
        .filter(|(name, _)| skip.is_none_or(|s| !name.ends_with(s)))
        .collect();
    let mut members = vec![Member::Dir("cifar-10-batches-bin/")];
    members.extend(files.iter().map(|(name, data)| Member::File(name, data)));
    tar_gz(&members)
}

/// An HTTP server on 127.0.0.1 that answers every GET with `status` and `body`. It serves at
/// most `max_requests` requests and stops after 20 seconds in any case.
struct Server {
    url: String,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start(status: u16, body: Vec<u8>, max_requests: usize) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!(
            "http://{}/cifar-10-binary.tar.gz",
            listener.local_addr().unwrap()
        );
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            while counter.load(Ordering::SeqCst) < max_requests && Instant::now() < deadline {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/x-gzip\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        Server { url, requests }
    }

    fn count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// A URL on 127.0.0.1 where nothing listens (the port was just released).
fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/cifar-10-binary.tar.gz")
}

/// Names in `dir` starting with a dot (the downloader's temporaries).
fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

use kiln_data::{extract_tar_gz, Cifar10, DataError};

#[test]
fn good_archive_is_installed_and_a_rerun_does_nothing() {
    let archive = cifar_archive(Cifar10::RECORDS_PER_FILE, None);
    let server = Server::start(200, archive.clone(), 2);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    Cifar10::download_from(&server.url, &md5_hex(&archive).to_uppercase(), &data).unwrap();
    assert_eq!(server.count(), 1);
    let (train, test) = Cifar10::load(&data).unwrap();
    assert_eq!((train.len(), test.len()), (50_000, 10_000));
    assert_eq!(train.class_names()[9], "truck");
    assert!(data.join("cifar-10-batches-bin/readme.html").is_file());
    assert_eq!(leftovers(&data), Vec::<String>::new());
    // Only the dataset folder remains: the archive was temporary.
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 1);

    Cifar10::download_from(&server.url, &md5_hex(&archive), &data).unwrap();
    assert_eq!(
        server.count(),
        1,
        "a rerun with the data present made a request"
    );
    // Not even a connection attempt: an unreachable URL is fine too.
    Cifar10::download_from(&refused_url(), Cifar10::MD5, &data).unwrap();

    // A file removed from the installed folder is downloaded again into it.
    let folder = data.join("cifar-10-batches-bin");
    std::fs::remove_file(folder.join("data_batch_3.bin")).unwrap();
    Cifar10::download_from(&server.url, &md5_hex(&archive), &data).unwrap();
    assert_eq!(server.count(), 2);
    assert_eq!(Cifar10::load(&data).unwrap().0.len(), 50_000);
    assert_eq!(leftovers(&data), Vec::<String>::new());
}

#[test]
fn malformed_checksum_is_refused_before_any_request() {
    let server = Server::start(200, cifar_archive(1, None), 1);
    let dir = tempfile::tempdir().unwrap();
    let err = Cifar10::download_from(&server.url, "c32a1d4a", dir.path()).unwrap_err();
    assert!(
        err.to_string()
            .contains("MD5 \"c32a1d4a\" is not 32 hexadecimal digits"),
        "{err}"
    );
    assert_eq!(server.count(), 0);
}

#[test]
fn wrong_checksum_is_refused_and_nothing_is_kept() {
    let archive = cifar_archive(2, None);
    let server = Server::start(200, archive.clone(), 1);
    let dir = tempfile::tempdir().unwrap();
    let wrong = "00112233445566778899aabbccddeeff";
    let err = Cifar10::download_from(&server.url, wrong, dir.path()).unwrap_err();
    assert!(matches!(err, DataError::Checksum { .. }), "{err:?}");
    assert!(err.means_absent());
    let msg = err.to_string();
    assert!(msg.contains(&format!("expected MD5 {wrong}")), "{msg}");
    assert!(msg.contains(&format!("got {}", md5_hex(&archive))), "{msg}");
    assert!(msg.contains(&server.url), "{msg}");
    assert!(!Cifar10::is_present(dir.path()));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "files left behind"
    );
}

#[test]
fn corrupted_gzip_is_refused_and_nothing_is_kept() {
    let mut archive = cifar_archive(2, None);
    let middle = archive.len() / 2;
    archive[middle..middle + 64]
        .iter_mut()
        .for_each(|b| *b ^= 0x5A);
    // The checksum matches the corrupted bytes, so the failure comes from decompression.
    let server = Server::start(200, archive.clone(), 1);
    let dir = tempfile::tempdir().unwrap();
    let err = Cifar10::download_from(&server.url, &md5_hex(&archive), dir.path()).unwrap_err();
    assert!(matches!(err, DataError::BadArchive { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("{}: not a valid tar.gz archive", server.url)),
        "{msg}"
    );
    assert!(!dir.path().join("cifar-10-batches-bin").exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "files left behind"
    );
}

#[test]
fn archive_without_the_expected_files_is_refused() {
    let archive = cifar_archive(2, Some("test_batch.bin"));
    let server = Server::start(200, archive.clone(), 1);
    let dir = tempfile::tempdir().unwrap();
    let err = Cifar10::download_from(&server.url, &md5_hex(&archive), dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, DataError::IncompleteArchive { .. }),
        "{err:?}"
    );
    assert!(
        msg.contains(&format!(
            "{}: the archive lacks test_batch.bin in cifar-10-batches-bin/",
            server.url
        )),
        "{msg}"
    );
    assert!(!dir.path().join("cifar-10-batches-bin").exists());
}

#[test]
fn connection_refused_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let url = refused_url();
    let err = Cifar10::download_from(&url, Cifar10::MD5, dir.path()).unwrap_err();
    assert!(matches!(err, DataError::Download { .. }), "{err:?}");
    // Without network the dataset is absent, not damaged: `DataSource::Auto` falls back.
    assert!(err.means_absent());
    let msg = err.to_string();
    assert!(msg.contains(&format!("could not download {url}")), "{msg}");
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
    let folder = dir.path().join("cifar-10-batches-bin");
    assert!(msg.contains(&format!("{}/", folder.display())), "{msg}");
    assert!(
        msg.contains("data_batch_1.bin .. data_batch_5.bin, test_batch.bin and batches.meta.txt"),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "not one line: {msg}");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

#[test]
fn http_error_status_is_a_download_failure() {
    let server = Server::start(404, b"not here".to_vec(), 1);
    let dir = tempfile::tempdir().unwrap();
    let err = Cifar10::download_from(&server.url, Cifar10::MD5, dir.path()).unwrap_err();
    assert!(matches!(err, DataError::Download { .. }), "{err:?}");
    assert!(err.means_absent());
    assert!(err.to_string().contains("404"), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "files left behind"
    );
}

/// Extracts `members` into `root/dest`, expecting a refusal that names `member`; nothing may
/// appear in `root` outside `dest`.
fn assert_refused(members: &[Member], member: &str, reason: &str) {
    let root = tempfile::tempdir().unwrap();
    let archive = root.path().join("evil.tar.gz");
    std::fs::write(&archive, tar_gz(members)).unwrap();
    let dest = root.path().join("dest");
    let err = extract_tar_gz(&archive, &dest).unwrap_err();
    assert!(
        matches!(err, DataError::UnsafeArchiveMember { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("refusing archive member {member:?}")),
        "{msg}"
    );
    assert!(msg.contains(reason), "{msg}");
    let mut outside: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    outside.sort();
    assert_eq!(outside, ["dest", "evil.tar.gz"]);
}

#[test]
fn parent_dir_member_is_refused() {
    assert_refused(
        &[
            Member::File("ok.txt", b"fine"),
            Member::File("../escaped.txt", b"evil"),
        ],
        "../escaped.txt",
        "contains `..`",
    );
    assert_refused(
        &[Member::File("a/../../escaped.txt", b"evil")],
        "a/../../escaped.txt",
        "contains `..`",
    );
}

#[test]
fn absolute_member_is_refused() {
    let target = tempfile::tempdir().unwrap();
    let absolute = target.path().join("escaped.txt");
    let name = absolute.to_str().unwrap();
    assert_refused(&[Member::File(name, b"evil")], name, "is absolute");
    assert!(!absolute.exists());
}

#[test]
fn links_pointing_out_are_refused() {
    assert_refused(
        &[Member::Symlink("up", "../..")],
        "up",
        "links to ../.. which contains `..`",
    );
    assert_refused(
        &[
            Member::Symlink("dir/etc", "/etc"),
            Member::File("dir/etc/passwd", b"evil"),
        ],
        "dir/etc",
        "links to /etc which is absolute",
    );
    assert_refused(
        &[Member::HardLink("hard", "../outside.txt")],
        "hard",
        "could point outside",
    );
}

#[test]
fn safe_archive_with_inner_link_extracts() {
    let root = tempfile::tempdir().unwrap();
    let archive = root.path().join("ok.tar.gz");
    std::fs::write(
        &archive,
        tar_gz(&[
            Member::Dir("top/"),
            Member::File("top/./a.txt", b"alpha"),
            Member::Symlink("top/link.txt", "a.txt"),
        ]),
    )
    .unwrap();
    let dest = root.path().join("dest");
    extract_tar_gz(&archive, &dest).unwrap();
    assert_eq!(std::fs::read(dest.join("top/a.txt")).unwrap(), b"alpha");
    assert_eq!(std::fs::read(dest.join("top/link.txt")).unwrap(), b"alpha");

    std::fs::write(&archive, b"this is not gzip").unwrap();
    let err = extract_tar_gz(&archive, &dest).unwrap_err();
    assert!(
        err.to_string().contains("not a valid tar.gz archive"),
        "{err}"
    );
}

#[test]
fn a_failure_to_write_a_member_is_an_io_error_not_a_bad_archive() {
    let root = tempfile::tempdir().unwrap();
    let archive = root.path().join("ok.tar.gz");
    // The archive is well formed, but "a/b" cannot be written under the file "a".
    std::fs::write(
        &archive,
        tar_gz(&[Member::File("a", b"file"), Member::File("a/b", b"beneath")]),
    )
    .unwrap();
    let dest = root.path().join("dest");
    let err = extract_tar_gz(&archive, &dest).unwrap_err();
    assert!(
        matches!(&err, DataError::Io { action: "extracting into", path, .. } if *path == dest),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("extracting into {}: ", dest.display())),
        "{err}"
    );
}
