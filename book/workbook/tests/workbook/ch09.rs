//! Chapter 9: the record reader and batches, on a small synthetic dataset that kiln writes in
//! the CIFAR-10 format, against kiln's `Cifar10::load` and `DataLoader`.

use crate::support::assert_close;
use kiln::data::{Cifar10, DataLoader, LoaderConfig, SyntheticConfig, Transform, Transforms};
use kiln_workbook::ch09;
use kiln_workbook::records::{RecordError, IMAGE_BYTES, RECORD_BYTES};
use std::path::PathBuf;

/// Records per training file of the dataset: 50 images in five files.
const PER_FILE: usize = 10;

/// A synthetic CIFAR-10 folder: 50 training images, 20 test images.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    folder: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = SyntheticConfig {
        seed: 3,
        train: 5 * PER_FILE,
        test: 20,
    };
    let root = config.write(dir.path()).expect("synthetic data");
    let folder = Cifar10::folder(&root);
    Fixture {
        _dir: dir,
        root,
        folder,
    }
}

/// A copy of `data_batch_1.bin` changed by `damage`, in the fixture's folder.
fn damaged(f: &Fixture, damage: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(f.folder.join("data_batch_1.bin")).expect("the first file");
    damage(&mut bytes);
    let path = f.folder.join("damaged.bin");
    std::fs::write(&path, bytes).expect("writing the damaged copy");
    path
}

mod read_cifar10_file {
    use super::*;

    /// Every file, read by your reader, holds what kiln's loader reads.
    #[test]
    fn matches_kiln() {
        let f = fixture();
        let (train, test) = Cifar10::load(&f.root).expect("kiln reads the dataset");
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        for name in Cifar10::TRAIN_FILES {
            let records = ch09::read_cifar10_file(&f.folder.join(name), PER_FILE).expect(name);
            images.extend(records.images);
            labels.extend(records.labels);
        }
        assert!(
            images == train.images(),
            "training images differ from kiln's"
        );
        assert_eq!(labels, train.labels());
        let records =
            ch09::read_cifar10_file(&f.folder.join(Cifar10::TEST_FILE), 20).expect("test file");
        assert!(
            records.images == test.images(),
            "test images differ from kiln's"
        );
        assert_eq!(records.labels, test.labels());
    }

    #[test]
    fn rejects_a_truncated_file() {
        let f = fixture();
        let path = damaged(&f, |bytes| {
            bytes.pop();
        });
        match ch09::read_cifar10_file(&path, PER_FILE) {
            Err(e @ RecordError::BadSize { .. }) => {
                let RecordError::BadSize {
                    path: p,
                    size,
                    expected,
                } = &e
                else {
                    unreachable!()
                };
                assert_eq!(
                    (p, *size, *expected),
                    (
                        &path,
                        (PER_FILE * RECORD_BYTES - 1) as u64,
                        (PER_FILE * RECORD_BYTES) as u64
                    )
                );
                assert!(e.to_string().contains("damaged.bin"), "{e}");
            }
            other => panic!("expected BadSize, got {other:?}"),
        }
        // A file of the right size for another count is refused as well.
        let whole = f.folder.join("data_batch_2.bin");
        assert!(matches!(
            ch09::read_cifar10_file(&whole, PER_FILE + 1),
            Err(RecordError::BadSize { .. })
        ));
    }

    #[test]
    fn rejects_a_bad_label() {
        let f = fixture();
        let path = damaged(&f, |bytes| bytes[3 * RECORD_BYTES] = 10);
        match ch09::read_cifar10_file(&path, PER_FILE) {
            Err(RecordError::LabelOutOfRange {
                path: p,
                index,
                value,
            }) => {
                assert_eq!((p, index, value), (path, 3, 10));
            }
            other => panic!("expected LabelOutOfRange, got {other:?}"),
        }
    }

    #[test]
    fn reports_a_missing_file() {
        let f = fixture();
        let path = f.folder.join("no_such_file.bin");
        match ch09::read_cifar10_file(&path, PER_FILE) {
            Err(RecordError::Io { path: p, source }) => {
                assert_eq!(p, path);
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("expected Io, got {other:?}"),
        }
    }
}

mod to_batch {
    use super::*;

    /// The first batch of kiln's loader, in file order and scaled to [0, 1].
    #[test]
    fn matches_kiln_loader() {
        let f = fixture();
        let (train, _) = Cifar10::load(&f.root).expect("kiln reads the dataset");
        let config = LoaderConfig {
            prefetch: false,
            transforms: Transforms::new().then(Transform::ScaleTo01),
            ..LoaderConfig::new(16)
        };
        let loader = DataLoader::new(&train, config).expect("loader");
        let batch = loader.epoch(0).next().expect("a batch").expect("batch");
        let ours = ch09::to_batch(&train.images()[..16 * IMAGE_BYTES]).expect("your batch");
        assert_eq!(ours.dims(), [16, 3, 32, 32]);
        assert_close(
            &ours.to_vec().unwrap(),
            &batch.images.to_vec().unwrap(),
            1e-7,
            0.0,
            "pixels",
        );
    }

    #[test]
    fn scales_bytes() {
        let mut image = vec![0u8; IMAGE_BYTES];
        image[1] = 255;
        image[IMAGE_BYTES - 1] = 51;
        let t = ch09::to_batch(&image).expect("a batch of one");
        assert_eq!(t.dims(), [1, 3, 32, 32]);
        let v = t.to_vec().unwrap();
        let corners = [v[0], v[1], v[IMAGE_BYTES - 1]];
        assert_close(&corners, &[0.0, 1.0, 0.2], 1e-7, 0.0, "pixels");
    }
}
