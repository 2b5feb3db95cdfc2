//! Reading the CIFAR-10 and CIFAR-100 binary versions, and every validation error.

use std::path::Path;

use kiln_data::{Cifar10, Cifar100, Cifar100Labels, DataError, IMAGE_BYTES};

const NAMES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Pixel `p` of image `seq` (a value that depends on both, to catch misplaced bytes).
fn pixel(seq: usize, p: usize) -> u8 {
    (seq * 31 + p * 7 + p / 1024) as u8
}

fn record(label_bytes: &[u8], seq: usize) -> Vec<u8> {
    let mut bytes = label_bytes.to_vec();
    bytes.extend((0..IMAGE_BYTES).map(|p| pixel(seq, p)));
    bytes
}

/// Writes a small CIFAR-10 folder: 3 images per training batch, 4 test images.
/// Image `seq` (train then test, in file order) has label `seq % 10`.
fn write_cifar10(dir: &Path) {
    let folder = dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&folder).unwrap();
    let mut seq = 0;
    let mut file = |name: &str, n: usize| {
        let bytes: Vec<u8> = (0..n)
            .flat_map(|_| {
                seq += 1;
                record(&[((seq - 1) % 10) as u8], seq - 1)
            })
            .collect();
        std::fs::write(folder.join(name), bytes).unwrap();
    };
    for b in 1..=5 {
        file(&format!("data_batch_{b}.bin"), 3);
    }
    file("test_batch.bin", 4);
    std::fs::write(folder.join("batches.meta.txt"), NAMES.join("\n") + "\n\n").unwrap();
}

#[test]
fn cifar10_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    assert!(Cifar10::is_present(dir.path()));
    let (train, test) = Cifar10::load(dir.path()).unwrap();
    assert_eq!((train.len(), test.len()), (15, 4));
    assert_eq!(train.class_names(), NAMES);
    for i in 0..15 {
        assert_eq!(train.label(i), (i % 10) as u32);
        let image = train.image(i);
        assert!(
            (0..IMAGE_BYTES).all(|p| image[p] == pixel(i, p)),
            "train image {i}"
        );
    }
    for i in 0..4 {
        assert_eq!(test.label(i), ((15 + i) % 10) as u32);
        assert_eq!(
            test.image(i)[IMAGE_BYTES - 1],
            pixel(15 + i, IMAGE_BYTES - 1)
        );
    }
}

#[test]
fn missing_files_are_listed_with_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    let folder = dir.path().join("cifar-10-batches-bin");
    std::fs::remove_file(folder.join("data_batch_3.bin")).unwrap();
    std::fs::remove_file(folder.join("test_batch.bin")).unwrap();
    assert!(!Cifar10::is_present(dir.path()));
    let err = Cifar10::load(dir.path()).unwrap_err();
    assert!(matches!(err, DataError::MissingFiles { .. }), "{err:?}");
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

    let empty = tempfile::tempdir().unwrap();
    let msg = Cifar10::load(empty.path()).unwrap_err().to_string();
    assert!(msg.contains("missing data_batch_1.bin,"), "{msg}");
}

#[test]
fn truncated_file_reports_path_size_and_record_length() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    let path = dir.path().join("cifar-10-batches-bin/data_batch_2.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(3 * 3073 - 10);
    std::fs::write(&path, bytes).unwrap();
    let err = Cifar10::load(dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("size 9209 bytes"), "{msg}");
    assert!(msg.contains("record length 3073 bytes"), "{msg}");
}

#[test]
fn label_out_of_range_reports_file_record_and_value() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    let path = dir.path().join("cifar-10-batches-bin/test_batch.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[2 * 3073] = 10;
    std::fs::write(&path, bytes).unwrap();
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

#[test]
fn wrong_number_of_class_names() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    let path = dir.path().join("cifar-10-batches-bin/batches.meta.txt");
    std::fs::write(&path, "cat\ndog\n").unwrap();
    let msg = Cifar10::load(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("found 2 class names, expected 10"), "{msg}");
    assert!(msg.contains("batches.meta.txt"), "{msg}");
}

/// CIFAR-100: 2 train and 3 test records, coarse label `seq % 20`, fine label `(seq * 7) % 100`.
fn write_cifar100(dir: &Path, fine_of_last_test: u8) {
    let folder = dir.join("cifar-100-binary");
    std::fs::create_dir_all(&folder).unwrap();
    let labels = |seq: usize| [(seq % 20) as u8, (seq * 7 % 100) as u8];
    let train: Vec<u8> = (0..2).flat_map(|s| record(&labels(s), s)).collect();
    let mut test: Vec<u8> = (2..5).flat_map(|s| record(&labels(s), s)).collect();
    test[2 * 3074 + 1] = fine_of_last_test;
    std::fs::write(folder.join("train.bin"), train).unwrap();
    std::fs::write(folder.join("test.bin"), test).unwrap();
    let names =
        |n: usize, prefix: &str| (0..n).map(|i| format!("{prefix}{i}\n")).collect::<String>();
    std::fs::write(folder.join("coarse_label_names.txt"), names(20, "super")).unwrap();
    std::fs::write(folder.join("fine_label_names.txt"), names(100, "class")).unwrap();
}

#[test]
fn cifar100_record_layout() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar100(dir.path(), 28);
    let (train, test) = Cifar100::load(dir.path(), Cifar100Labels::Fine).unwrap();
    assert_eq!((train.len(), test.len()), (2, 3));
    assert_eq!(train.labels(), [0, 7]);
    assert_eq!(test.labels(), [14, 21, 28]);
    assert_eq!(train.num_classes(), 100);
    assert_eq!(test.class_names()[28], "class28");
    // Pixels start after the two label bytes.
    assert!((0..IMAGE_BYTES).all(|p| test.image(1)[p] == pixel(3, p)));

    let (train, test) = Cifar100::load(dir.path(), Cifar100Labels::Coarse).unwrap();
    assert_eq!(train.labels(), [0, 1]);
    assert_eq!(test.labels(), [2, 3, 4]);
    assert_eq!(train.num_classes(), 20);
    assert_eq!(train.class_names()[1], "super1");
}

#[test]
fn cifar100_errors() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar100(dir.path(), 100);
    // The fine label is validated even when the coarse one is kept.
    let msg = Cifar100::load(dir.path(), Cifar100Labels::Coarse)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("test.bin: record 2 has fine label 100, expected a value below 100"),
        "{msg}"
    );

    // 3073-byte records are not CIFAR-100 records.
    let path = dir.path().join("cifar-100-binary/train.bin");
    std::fs::write(&path, vec![0u8; 2 * 3073]).unwrap();
    let msg = Cifar100::load(dir.path(), Cifar100Labels::Fine)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("size 6146 bytes is not a multiple of the record length 3074 bytes"),
        "{msg}"
    );

    std::fs::remove_file(dir.path().join("cifar-100-binary/fine_label_names.txt")).unwrap();
    let msg = Cifar100::load(dir.path(), Cifar100Labels::Fine)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("missing fine_label_names.txt in"), "{msg}");
}
