//! Choosing real or synthetic data, and saying which.

mod common;

use std::path::Path;

use common::{patch, write_cifar10, NAMES};
use kiln_data::{Cifar10, DataError, DataOrigin, DataSource, SyntheticConfig};

#[test]
fn auto_falls_back_to_default_synthetic_data_then_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let (train, test, origin) =
        Cifar10::load_or_synthetic(dir.path(), DataSource::Auto { download: false }).unwrap();
    eprintln!(
        "default synthetic data generated and read in {:?}",
        start.elapsed()
    );
    assert_eq!((train.len(), test.len()), (50_000, 10_000));
    assert_eq!(train.class_counts(), vec![5_000; 10]);
    let folder = dir
        .path()
        .join("synthetic-cifar10-seed0-50000-10000/cifar-10-batches-bin");
    assert_eq!(
        origin,
        DataOrigin::Synthetic {
            folder: folder.clone(),
            config: SyntheticConfig::default()
        }
    );
    assert!(origin.is_synthetic());
    assert_eq!(origin.tag(), "synthetic");
    assert_eq!(
        origin.to_string(),
        format!(
            "synthetic CIFAR-10-format data (seed 0, 50000 train / 10000 test, {})",
            folder.display()
        )
    );

    // The cache is read back, not regenerated.
    let written = std::fs::metadata(folder.join("test_batch.bin"))
        .unwrap()
        .modified()
        .unwrap();
    let (_, test_again, _) =
        Cifar10::load_or_synthetic(dir.path(), DataSource::Auto { download: false }).unwrap();
    assert_eq!(test_again.images(), test.images());
    let reread = std::fs::metadata(folder.join("test_batch.bin"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(written, reread);
}

#[test]
fn auto_and_real_prefer_real_data() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    for source in [
        DataSource::Auto { download: false },
        DataSource::Real { download: false },
    ] {
        let (train, test, origin) = Cifar10::load_or_synthetic(dir.path(), source).unwrap();
        assert_eq!((train.len(), test.len()), (50_000, 10_000));
        assert_eq!(train.class_names(), NAMES);
        let folder = dir.path().join("cifar-10-batches-bin");
        assert_eq!(
            origin.to_string(),
            format!("CIFAR-10 ({})", folder.display())
        );
        assert_eq!(origin, DataOrigin::Real { folder });
        assert!(!origin.is_synthetic());
        assert_eq!(origin.tag(), "cifar10");
    }
}

/// Damages a full-size CIFAR-10 folder with `damage`, then expects `Auto` (even with downloads
/// allowed) to fail with an error naming `file`, neither downloading nor falling back.
fn assert_auto_refuses(file: &str, what: &str, damage: impl FnOnce(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10(dir.path());
    let folder = Cifar10::folder(dir.path());
    damage(&folder);
    let err =
        Cifar10::load_or_synthetic(dir.path(), DataSource::Auto { download: true }).unwrap_err();
    assert!(!err.means_absent(), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(file), "{file}: {msg}");
    assert!(msg.contains(what), "{file}: {msg}");
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["cifar-10-batches-bin"], "{file}");
}

#[test]
fn auto_refuses_real_data_that_is_there_but_damaged() {
    assert_auto_refuses(
        "data_batch_3.bin",
        "size 30729000 bytes, expected 30730000",
        |folder| {
            let file = std::fs::File::options()
                .write(true)
                .open(folder.join("data_batch_3.bin"))
                .unwrap();
            file.set_len(30_729_000).unwrap();
        },
    );
    assert_auto_refuses(
        "data_batch_2.bin",
        "record 7 has class label 200",
        |folder| {
            patch(&folder.join("data_batch_2.bin"), 7 * 3073, &[200]);
        },
    );
    assert_auto_refuses("test_batch.bin", "missing test_batch.bin in", |folder| {
        std::fs::remove_file(folder.join("test_batch.bin")).unwrap();
    });
    assert_auto_refuses("batches.meta.txt", "found 9 class names", |folder| {
        std::fs::write(folder.join("batches.meta.txt"), NAMES[..9].join("\n")).unwrap();
    });
    assert_auto_refuses("data_batch_1.bin", "is a directory", |folder| {
        std::fs::remove_file(folder.join("data_batch_1.bin")).unwrap();
        std::fs::create_dir(folder.join("data_batch_1.bin")).unwrap();
    });
}

#[test]
fn a_synthetic_folder_is_not_taken_for_real_data() {
    let dir = tempfile::tempdir().unwrap();
    let small = SyntheticConfig {
        seed: 2,
        train: 30,
        test: 10,
    };
    let root = small.write(dir.path()).unwrap();
    for source in [
        DataSource::Auto { download: false },
        DataSource::Real { download: false },
    ] {
        let err = Cifar10::load_or_synthetic(&root, source).unwrap_err();
        assert!(matches!(err, DataError::InvalidArgument(_)), "{err:?}");
        assert!(
            err.to_string().contains(&format!(
                "{} holds synthetic data (seed 2, 30 train / 10 test), not CIFAR-10",
                root.display()
            )),
            "{err}"
        );
    }
}

#[test]
fn real_only_fails_when_absent_and_synthetic_only_generates() {
    let dir = tempfile::tempdir().unwrap();
    let err =
        Cifar10::load_or_synthetic(dir.path(), DataSource::Real { download: false }).unwrap_err();
    assert!(matches!(err, DataError::MissingFiles { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with(&format!(
            "missing data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, \
             data_batch_5.bin, test_batch.bin, batches.meta.txt in {}",
            Cifar10::folder(dir.path()).display()
        )),
        "{err}"
    );

    let config = SyntheticConfig {
        seed: 4,
        train: 20,
        test: 10,
    };
    let (train, test, origin) =
        Cifar10::load_or_synthetic(dir.path(), DataSource::Synthetic(config)).unwrap();
    assert_eq!((train.len(), test.len()), (20, 10));
    assert_eq!(train.images(), config.generate().0.images());
    assert!(origin.is_synthetic());
}
