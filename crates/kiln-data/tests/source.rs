//! Choosing real or synthetic data, and saying which.

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
    // A small synthetic set written in CIFAR-10 layout stands in for the real files.
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
        let (train, test, origin) = Cifar10::load_or_synthetic(&root, source).unwrap();
        assert_eq!((train.len(), test.len()), (30, 10));
        let folder = root.join("cifar-10-batches-bin");
        assert_eq!(
            origin.to_string(),
            format!("CIFAR-10 ({})", folder.display())
        );
        assert_eq!(origin, DataOrigin::Real { folder });
        assert!(!origin.is_synthetic());
        assert_eq!(origin.tag(), "cifar10");
    }
}

#[test]
fn real_only_fails_when_absent_and_synthetic_only_generates() {
    let dir = tempfile::tempdir().unwrap();
    let err =
        Cifar10::load_or_synthetic(dir.path(), DataSource::Real { download: false }).unwrap_err();
    assert!(matches!(err, DataError::MissingFiles { .. }), "{err:?}");

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
