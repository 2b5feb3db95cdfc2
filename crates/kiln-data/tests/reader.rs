//! Reading the CIFAR-10 and CIFAR-100 binary versions, and every validation error.

mod common;

use std::fs::File;
use std::path::Path;

use common::{patch, pixel, write_cifar10, write_records, MARKED, NAMES};
use kiln_data::{Cifar10, Cifar100, Cifar100Labels, DataError, IMAGE_BYTES};

/// Size of a CIFAR-10 record file: 10,000 records of 3073 bytes.
const CIFAR10_FILE_BYTES: u64 = 30_730_000;

fn batch(dir: &Path, name: &str) -> std::path::PathBuf {
    Cifar10::folder(dir).join(name)
}

#[test]
fn cifar10_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    assert!(Cifar10::is_present(dir.path()));
    let (train, test) = Cifar10::load(dir.path()).unwrap();
    assert_eq!((train.len(), test.len()), (50_000, 10_000));
    assert_eq!(train.class_names(), NAMES);
    for b in 0..5 {
        for r in 0..MARKED {
            let seq = b * 10_000 + r;
            assert_eq!(train.label(seq), (seq % 10) as u32);
            let image = train.image(seq);
            assert!(
                (0..IMAGE_BYTES).all(|p| image[p] == pixel(seq, p)),
                "train image {seq}"
            );
        }
        assert_eq!(train.label(b * 10_000 + MARKED), 0);
    }
    for r in 0..MARKED {
        assert_eq!(test.label(r), ((50_000 + r) % 10) as u32);
        assert_eq!(
            test.image(r)[IMAGE_BYTES - 1],
            pixel(50_000 + r, IMAGE_BYTES - 1)
        );
    }
}

#[test]
fn missing_files_are_listed_with_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    let folder = Cifar10::folder(dir.path());
    std::fs::remove_file(folder.join("data_batch_3.bin")).unwrap();
    std::fs::remove_file(folder.join("test_batch.bin")).unwrap();
    assert!(!Cifar10::is_present(dir.path()));
    let err = Cifar10::load(dir.path()).unwrap_err();
    assert!(matches!(err, DataError::MissingFiles { .. }), "{err:?}");
    assert!(!err.means_absent(), "some files are there: {err}");
    let msg = err.to_string();
    assert!(
        msg.contains("missing data_batch_3.bin, test_batch.bin in"),
        "{msg}"
    );
    assert!(msg.contains(&folder.display().to_string()), "{msg}");
    assert!(
        msg.contains("expected data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin, batches.meta.txt"),
        "{msg}"
    );
}

#[test]
fn a_folder_without_the_dataset_means_absent() {
    // No data directory, no dataset folder, an empty one, one with other files only.
    let dir = tempfile::tempdir().unwrap();
    let err = Cifar10::load(&dir.path().join("nowhere")).unwrap_err();
    assert!(err.means_absent(), "{err}");
    assert!(
        err.to_string().contains("missing data_batch_1.bin,"),
        "{err}"
    );
    assert!(Cifar10::load(dir.path()).unwrap_err().means_absent());
    let folder = Cifar10::folder(dir.path());
    std::fs::create_dir(&folder).unwrap();
    assert!(Cifar10::load(dir.path()).unwrap_err().means_absent());
    std::fs::write(folder.join("readme.html"), "<p>CIFAR</p>").unwrap();
    assert!(Cifar10::load(dir.path()).unwrap_err().means_absent());
    // One expected file makes the dataset present, and the others missing.
    std::fs::write(folder.join(Cifar10::META_FILE), NAMES.join("\n")).unwrap();
    let err = Cifar10::load(dir.path()).unwrap_err();
    assert!(matches!(err, DataError::MissingFiles { .. }), "{err:?}");
    assert!(!err.means_absent(), "{err}");
}

/// Loads a CIFAR-10 folder whose `name` was resized to `size`, expecting a size error that
/// names the file, its size and the expected size.
fn assert_refused_at_size(name: &str, size: u64) {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    let path = batch(dir.path(), name);
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(size)
        .unwrap();
    let err = Cifar10::load(dir.path()).unwrap_err();
    assert!(
        matches!(err, DataError::BadSize { size: s, expected: CIFAR10_FILE_BYTES, records: 10_000, record_len: 3073, .. } if s == size),
        "{err:?}"
    );
    assert!(!err.means_absent());
    let msg = err.to_string();
    assert_eq!(
        msg,
        format!(
            "{}: size {size} bytes, expected 30730000 bytes (10000 records of 3073 bytes)",
            path.display()
        )
    );
}

#[test]
fn record_files_must_hold_exactly_ten_thousand_records() {
    // Short by whole records, empty, one record too many, not a whole number of records.
    assert_refused_at_size("data_batch_4.bin", CIFAR10_FILE_BYTES - 3073);
    assert_refused_at_size("data_batch_4.bin", 0);
    assert_refused_at_size("test_batch.bin", 0);
    assert_refused_at_size("data_batch_1.bin", CIFAR10_FILE_BYTES + 3073);
    assert_refused_at_size("data_batch_2.bin", 3 * 3073 - 10);
}

#[test]
fn a_ten_gigabyte_record_file_is_refused_from_its_size() {
    // A sparse file of whole records, about 10 GB: reading it would take that much memory.
    let size = 3073 * 3_254_150;
    let start = std::time::Instant::now();
    assert_refused_at_size("data_batch_1.bin", size);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn label_out_of_range_reports_file_record_and_value() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    let path = batch(dir.path(), "test_batch.bin");
    patch(&path, 2 * 3073, &[10]);
    let err = Cifar10::load(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::LabelOutOfRange {
                index: 2,
                value: 10,
                limit: 10,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("record 2 has class label 10"), "{msg}");
    assert!(msg.contains("below 10"), "{msg}");
}

/// Records `first_seq..first_seq + n` as `common` writes them, labelled `seq % 10`, in memory.
fn record_bytes(first_seq: usize, n: usize) -> Vec<u8> {
    (first_seq..first_seq + n)
        .flat_map(|seq| {
            std::iter::once((seq % 10) as u8).chain((0..IMAGE_BYTES).map(move |p| pixel(seq, p)))
        })
        .collect()
}

#[test]
fn a_batch_in_memory_parses_as_the_reader_reads_it() {
    let dataset = Cifar10::parse_batch("data_batch_2.bin", &record_bytes(7, 4)).unwrap();
    assert_eq!(dataset.len(), 4);
    assert_eq!(dataset.class_names(), NAMES);
    for i in 0..4 {
        assert_eq!(dataset.label(i), ((7 + i) % 10) as u32);
        assert!((0..IMAGE_BYTES).all(|p| dataset.image(i)[p] == pixel(7 + i, p)));
    }
    // The official size is accepted too.
    let full = Cifar10::parse_batch("test_batch.bin", &record_bytes(0, 10_000)).unwrap();
    assert_eq!(full.len(), 10_000);
}

#[test]
fn a_batch_in_memory_of_the_wrong_size_is_refused_with_its_name_and_size() {
    let expected = |size: usize| {
        format!(
            "data_batch_1.bin: size {size} bytes, expected 1 to 10000 whole records of 3073 \
             bytes (a multiple of 3073, at most 30730000 bytes)"
        )
    };
    // Not whole records, empty, one record too many.
    let mut cut = record_bytes(0, 3);
    cut.truncate(3 * 3073 - 10);
    let too_many = record_bytes(0, 10_001);
    for bytes in [cut, Vec::new(), too_many] {
        let err = Cifar10::parse_batch("data_batch_1.bin", &bytes).unwrap_err();
        assert!(
            matches!(err, DataError::NotWholeRecords { size, max_records: 10_000, record_len: 3073, .. } if size == bytes.len() as u64),
            "{err:?}"
        );
        assert_eq!(err.to_string(), expected(bytes.len()));
    }
    // A bad label byte names the file and the record.
    let mut bytes = record_bytes(0, 3);
    bytes[2 * 3073] = 10;
    let err = Cifar10::parse_batch("test_batch.bin", &bytes).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("test_batch.bin: record 2 has class label 10"),
        "{err}"
    );
}

#[test]
fn wrong_number_of_class_names() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    let path = batch(dir.path(), "batches.meta.txt");
    std::fs::write(&path, "cat\ndog\n").unwrap();
    let msg = Cifar10::load(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("found 2 class names, expected 10"), "{msg}");
    assert!(msg.contains("batches.meta.txt"), "{msg}");
}

#[test]
fn a_directory_where_a_file_should_be_is_reported_as_one() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    let path = batch(dir.path(), "data_batch_2.bin");
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    let err = Cifar10::load(dir.path()).unwrap_err();
    assert!(matches!(err, DataError::WrongFileType { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("{} is a directory, expected a regular file", path.display())
    );

    // The dataset folder itself must be a folder.
    let other = tempfile::tempdir().unwrap();
    let folder = Cifar10::folder(other.path());
    std::fs::write(&folder, "not a folder").unwrap();
    let msg = Cifar10::load(other.path()).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "{} is a regular file, expected a directory",
            folder.display()
        )
    );
}

#[cfg(unix)]
#[test]
fn links_that_lead_nowhere_are_reported_as_such() {
    use std::os::unix::fs::symlink;

    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    // A loop: the error of following the link, with its path.
    let path = batch(dir.path(), "data_batch_5.bin");
    std::fs::remove_file(&path).unwrap();
    symlink("data_batch_5.bin", &path).unwrap();
    let err = Cifar10::load(dir.path()).unwrap_err();
    let DataError::Io { action, source, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*action, "following the symbolic link");
    let expected = format!("following the symbolic link {}: {source}", path.display());
    assert_eq!(err.to_string(), expected);
    assert!(!err.means_absent());

    // A link to nothing: where it points.
    std::fs::remove_file(&path).unwrap();
    symlink("/nonexistent/cifar/data_batch_5.bin", &path).unwrap();
    let msg = Cifar10::load(dir.path()).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "{} is a symbolic link to /nonexistent/cifar/data_batch_5.bin, which does not \
             exist, expected a regular file",
            path.display()
        )
    );

    // A link to a good file is fine.
    let copy = dir.path().join("elsewhere.bin");
    std::fs::rename(batch(dir.path(), "data_batch_4.bin"), &copy).unwrap();
    std::fs::remove_file(&path).unwrap();
    symlink(&copy, batch(dir.path(), "data_batch_4.bin")).unwrap();
    symlink(&copy, &path).unwrap();
    let (train, _) = Cifar10::load(dir.path()).unwrap();
    assert_eq!(train.label(40_001), 1);
}

/// Full-size CIFAR-100: marked images `seq` (train from 0, test from 50,000) have coarse label
/// `seq % 20` and fine label `(seq * 7) % 100`.
fn write_cifar100(dir: &Path) -> std::path::PathBuf {
    let folder = dir.join("cifar-100-binary");
    std::fs::create_dir_all(&folder).unwrap();
    let labels = |seq: usize| vec![(seq % 20) as u8, (seq * 7 % 100) as u8];
    write_records(&folder.join("train.bin"), 50_000, 0, labels);
    write_records(&folder.join("test.bin"), 10_000, 50_000, labels);
    let names =
        |n: usize, prefix: &str| (0..n).map(|i| format!("{prefix}{i}\n")).collect::<String>();
    std::fs::write(folder.join("coarse_label_names.txt"), names(20, "super")).unwrap();
    std::fs::write(folder.join("fine_label_names.txt"), names(100, "class")).unwrap();
    folder
}

#[test]
fn cifar100_record_layout() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar100(dir.path());
    let (train, test) = Cifar100::load(dir.path(), Cifar100Labels::Fine).unwrap();
    assert_eq!((train.len(), test.len()), (50_000, 10_000));
    assert_eq!(train.labels()[..4], [0, 7, 14, 0]);
    assert_eq!(test.labels()[..3], [0, 7, 14]);
    assert_eq!(train.num_classes(), 100);
    assert_eq!(test.class_names()[28], "class28");
    // Pixels start after the two label bytes.
    assert!((0..IMAGE_BYTES).all(|p| test.image(1)[p] == pixel(50_001, p)));

    let (train, test) = Cifar100::load(dir.path(), Cifar100Labels::Coarse).unwrap();
    assert_eq!(train.labels()[..4], [0, 1, 2, 0]);
    assert_eq!(test.labels()[..3], [0, 1, 2]);
    assert_eq!(train.num_classes(), 20);
    assert_eq!(train.class_names()[1], "super1");
}

#[test]
fn cifar100_errors() {
    let dir = tempfile::tempdir().unwrap();
    let folder = write_cifar100(dir.path());
    // The fine label is validated even when the coarse one is kept.
    patch(&folder.join("test.bin"), 2 * 3074 + 1, &[100]);
    let msg = Cifar100::load(dir.path(), Cifar100Labels::Coarse)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("test.bin: record 2 has fine label 100, expected a value below 100"),
        "{msg}"
    );

    // 50,000 records of 3073 bytes are not CIFAR-100's training set, nor is one record less.
    let path = folder.join("train.bin");
    let resize = |size| {
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(size)
            .unwrap()
    };
    for size in [50_000 * 3073, 49_999 * 3074] {
        resize(size);
        let msg = Cifar100::load(dir.path(), Cifar100Labels::Fine)
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            format!(
                "{}: size {size} bytes, expected 153700000 bytes (50000 records of 3074 bytes)",
                path.display()
            )
        );
    }
    // Nor is an empty test set.
    resize(50_000 * 3074);
    std::fs::write(folder.join("test.bin"), b"").unwrap();
    let msg = Cifar100::load(dir.path(), Cifar100Labels::Fine)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("test.bin: size 0 bytes, expected 30740000 bytes"),
        "{msg}"
    );

    std::fs::remove_file(folder.join("fine_label_names.txt")).unwrap();
    let msg = Cifar100::load(dir.path(), Cifar100Labels::Fine)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("missing fine_label_names.txt in"), "{msg}");
}
