//! The synthetic CIFAR-format dataset: determinism, balance, statistics, difficulty, cache.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, SystemTime};

use kiln_data::{Cifar10, DataError, Dataset, SyntheticConfig, IMAGE_BYTES, SYNTHETIC_CLASSES};

fn small(seed: u64) -> SyntheticConfig {
    SyntheticConfig {
        seed,
        train: 2_000,
        test: 1_000,
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, _) = small(3).generate();
    let (b, _) = small(3).generate();
    let (c, _) = small(4).generate();
    assert_eq!(a.images(), b.images());
    assert_eq!(a.labels(), b.labels());
    assert_ne!(a.images(), c.images());
    // The thread count does not matter.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let (serial, _) = pool.install(|| small(3).generate());
    assert_eq!(serial.images(), a.images());
    // Image i depends on (seed, split, i) only, not on the split's size.
    let (bigger, _) = SyntheticConfig {
        train: 2_500,
        ..small(3)
    }
    .generate();
    for i in [0, 1, 999] {
        if bigger.label(i) == a.label(i) {
            assert_eq!(bigger.image(i), a.image(i));
        }
    }
}

#[test]
fn drawn_a_chunk_at_a_time_the_data_is_the_same() {
    let config = SyntheticConfig {
        seed: 5,
        train: 50,
        test: 20,
    };
    let (train, test) = config.generate();
    // Chunks of uneven sizes, one across the end of the training split.
    let mut generator = config.generator();
    assert_eq!((generator.drawn(), generator.total()), (0, 70));
    let mut progress = Vec::new();
    for count in [1, 7, 45, 3] {
        assert!(!generator.draw(count));
        progress.push(generator.drawn());
    }
    assert_eq!(progress, [1, 8, 53, 56]);
    assert!(generator.draw(100));
    assert_eq!(generator.drawn(), 70);
    let (chunked_train, chunked_test) = generator.finish();
    assert_eq!(chunked_train.images(), train.images());
    assert_eq!(chunked_train.labels(), train.labels());
    assert_eq!(chunked_test.images(), test.images());
    assert_eq!(chunked_test.labels(), test.labels());
    // Finishing early draws what is left.
    let mut generator = config.generator();
    generator.draw(10);
    assert_eq!(generator.finish().1.images(), test.images());
}

#[test]
fn classes_are_balanced_and_named() {
    let (train, test) = small(0).generate();
    assert_eq!((train.len(), test.len()), (2_000, 1_000));
    assert_eq!(train.class_counts(), vec![200; 10]);
    assert_eq!(test.class_counts(), vec![100; 10]);
    assert_eq!(train.class_names(), SYNTHETIC_CLASSES);
    // Labels are shuffled, not cycling.
    assert!(train.labels().windows(2).any(|w| w[1] != (w[0] + 1) % 10));
    assert_ne!(
        train.labels(),
        test.labels()[..1_000.min(test.len())].repeat(2)
    );
}

#[test]
fn pixel_statistics_are_natural() {
    let (train, _) = small(1).generate();
    let (mean, std) = train.channel_stats();
    for c in 0..3 {
        assert!(
            (0.3..0.7).contains(&mean[c]),
            "channel {c} mean {}",
            mean[c]
        );
        assert!((0.15..0.4).contains(&std[c]), "channel {c} std {}", std[c]);
    }
    // Images use most of the range and are not flat.
    for i in 0..50 {
        let image = train.image(i);
        let (lo, hi) = (image.iter().min().unwrap(), image.iter().max().unwrap());
        assert!(hi - lo > 100, "image {i} spans only {lo}..{hi}");
    }
    // Different images of the same class differ.
    let first: Vec<usize> = (0..train.len())
        .filter(|&i| train.label(i) == 0)
        .take(2)
        .collect();
    assert_ne!(train.image(first[0]), train.image(first[1]));
}

/// Nearest class mean on raw pixels: a linear classifier's view of the task.
fn nearest_class_mean_accuracy(train: &Dataset, test: &Dataset) -> f64 {
    let k = train.num_classes();
    let mut means = vec![vec![0f64; IMAGE_BYTES]; k];
    for i in 0..train.len() {
        let m = &mut means[train.label(i) as usize];
        m.iter_mut()
            .zip(train.image(i))
            .for_each(|(m, &p)| *m += f64::from(p));
    }
    for (m, n) in means.iter_mut().zip(train.class_counts()) {
        m.iter_mut().for_each(|v| *v /= n as f64);
    }
    let correct = (0..test.len())
        .filter(|&i| {
            let image = test.image(i);
            let dist = |m: &Vec<f64>| -> f64 {
                m.iter()
                    .zip(image)
                    .map(|(m, &p)| (m - f64::from(p)).powi(2))
                    .sum()
            };
            let best = (0..k)
                .min_by(|&a, &b| dist(&means[a]).total_cmp(&dist(&means[b])))
                .unwrap();
            best == test.label(i) as usize
        })
        .count();
    correct as f64 / test.len() as f64
}

#[test]
fn learnable_but_not_by_nearest_class_mean() {
    let (train, test) = SyntheticConfig {
        seed: 0,
        train: 4_000,
        test: 1_000,
    }
    .generate();
    let accuracy = nearest_class_mean_accuracy(&train, &test);
    eprintln!("nearest class mean accuracy: {accuracy:.3}");
    assert!(
        (0.18..0.5).contains(&accuracy),
        "nearest-class-mean accuracy {accuracy} outside 0.18..0.5"
    );
}

#[test]
fn cache_is_written_in_cifar_layout_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let config = SyntheticConfig {
        seed: 9,
        train: 23,
        test: 7,
    };
    let root = config.write(dir.path()).unwrap();
    assert_eq!(root, dir.path().join("synthetic-cifar10-seed9-23-7"));
    let folder = root.join("cifar-10-batches-bin");
    let sizes: Vec<u64> = Cifar10::TRAIN_FILES
        .iter()
        .map(|f| std::fs::metadata(folder.join(f)).unwrap().len())
        .collect();
    assert_eq!(sizes, [5, 5, 5, 5, 3].map(|n| n * 3073));
    let meta = std::fs::read_to_string(folder.join("batches.meta.txt")).unwrap();
    assert_eq!(meta.lines().collect::<Vec<_>>(), SYNTHETIC_CLASSES);

    let (train, test) = config.load_or_generate(dir.path()).unwrap();
    let (mem_train, mem_test) = config.generate();
    assert_eq!(train.images(), mem_train.images());
    assert_eq!(train.labels(), mem_train.labels());
    assert_eq!(test.images(), mem_test.images());

    // A second call reuses the files: a marker left in the folder survives.
    std::fs::write(folder.join("marker"), b"x").unwrap();
    config.write(dir.path()).unwrap();
    assert!(folder.join("marker").exists());
    // A cache stamped by another generator version is regenerated.
    let stamp = root.join("synthetic.txt");
    let text = std::fs::read_to_string(&stamp).unwrap();
    assert!(text.contains("seed 9, 23 train, 7 test"), "{text}");
    std::fs::write(&stamp, text.replace("generator v", "generator v0")).unwrap();
    config.write(dir.path()).unwrap();
    assert!(!folder.join("marker").exists());
    assert_eq!(std::fs::read_to_string(&stamp).unwrap(), text);
    std::fs::write(folder.join("marker"), b"x").unwrap();
    // An incomplete cache is regenerated.
    std::fs::remove_file(folder.join("test_batch.bin")).unwrap();
    let (_, test_again) = config.load_or_generate(dir.path()).unwrap();
    assert_eq!(test_again.images(), mem_test.images());
    assert!(!folder.join("marker").exists());
    // No temporary folder is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1);
}

#[test]
fn cifar10_load_checks_a_synthetic_folder_against_its_stamp() {
    let dir = tempfile::tempdir().unwrap();
    let config = SyntheticConfig {
        seed: 5,
        train: 12,
        test: 3,
    };
    let root = config.write(dir.path()).unwrap();
    let (train, test) = Cifar10::load(&root).unwrap();
    assert_eq!((train.len(), test.len()), (12, 3));
    // Without its stamp the folder is judged as real CIFAR-10, and refused.
    std::fs::remove_file(root.join("synthetic.txt")).unwrap();
    let err = Cifar10::load(&root).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::BadSize {
                size: 9219,
                expected: 30_730_000,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("data_batch_1.bin"), "{err}");
}

/// A small configuration's cache in `dir`, damaged by `damage` (given the cache's
/// `cifar-10-batches-bin` folder), must read back as freshly generated data.
fn assert_rebuilt(damage: impl FnOnce(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    let config = SyntheticConfig {
        seed: 6,
        train: 20,
        test: 10,
    };
    let folder = Cifar10::folder(&config.write(dir.path()).unwrap());
    let sizes = |folder: &Path| -> Vec<u64> {
        Cifar10::expected_files()
            .iter()
            .map(|f| std::fs::metadata(folder.join(f)).unwrap().len())
            .collect()
    };
    let before = sizes(&folder);
    damage(&folder);
    let (train, test) = config.load_or_generate(dir.path()).unwrap();
    let (mem_train, mem_test) = config.generate();
    assert_eq!(train.images(), mem_train.images());
    assert_eq!(train.labels(), mem_train.labels());
    assert_eq!(test.labels(), mem_test.labels());
    assert_eq!(sizes(&folder), before);
    // The damaged copy is gone, and no temporary is left.
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);
}

#[test]
fn a_damaged_cache_is_rebuilt() {
    // Truncated by a few bytes, or by whole records.
    assert_rebuilt(|folder| {
        let file = File::options()
            .write(true)
            .open(folder.join("data_batch_2.bin"))
            .unwrap();
        file.set_len(3073 * 4 - 5).unwrap();
    });
    assert_rebuilt(|folder| std::fs::write(folder.join("test_batch.bin"), b"").unwrap());
    // A label byte out of range, which only reading finds.
    assert_rebuilt(|folder| {
        let path = folder.join("test_batch.bin");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[3 * 3073] = 200;
        std::fs::write(&path, bytes).unwrap();
    });
    // A wrong class-name file, and a folder where a file should be.
    assert_rebuilt(|folder| std::fs::write(folder.join("batches.meta.txt"), "x\n").unwrap());
    assert_rebuilt(|folder| {
        let path = folder.join("data_batch_5.bin");
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
    });
}

/// Sets the modification time of `path`, and of everything below it, to `time`.
fn set_mtime(path: &Path, time: SystemTime) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            set_mtime(&entry.unwrap().path(), time);
        }
    }
    File::open(path).unwrap().set_modified(time).unwrap();
}

#[test]
fn temporaries_of_interrupted_runs_are_removed_once_stale() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str, file: &str| {
        let path = dir.path().join(name).join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"partial").unwrap();
    };
    make(".synthetic-killed", "cifar-10-batches-bin/data_batch_1.bin");
    make(".extract-killed", "cifar-10-batches-bin/test_batch.bin");
    make(".synthetic-live", "cifar-10-batches-bin/data_batch_1.bin");
    make(
        ".synthetic-writing",
        "cifar-10-batches-bin/data_batch_2.bin",
    );
    make("keep-me", "old.txt");
    std::fs::write(dir.path().join(".download-killed.part"), b"partial").unwrap();
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for old in [
        ".synthetic-killed",
        ".extract-killed",
        ".download-killed.part",
        "keep-me",
    ] {
        set_mtime(&dir.path().join(old), hour_ago);
    }
    // A folder created long ago whose files are still being written is not abandoned.
    let writing = dir.path().join(".synthetic-writing");
    File::open(&writing)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();

    let config = SyntheticConfig {
        seed: 8,
        train: 10,
        test: 5,
    };
    config.write(dir.path()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".synthetic-live",
            ".synthetic-writing",
            "keep-me",
            "synthetic-cifar10-seed8-10-5"
        ]
    );
}
