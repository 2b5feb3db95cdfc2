//! Chapter 9: a small synthetic dataset in the CIFAR-10 binary format, read back and batched.

use kiln::data::{
    Cifar10, DataLoader, LoaderConfig, SyntheticConfig, Transform, Transforms, IMAGE_BYTES,
};

// ANCHOR: synthetic
#[test]
fn synthetic_data_in_the_cifar_format() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let config = SyntheticConfig {
        seed: 0,
        train: 50,
        test: 20,
    };
    let root = config.write(dir.path())?; // <dir>/synthetic-cifar10-seed0-50-20
    let folder = Cifar10::folder(&root); // .../cifar-10-batches-bin

    // Five training files of ceil(50 / 5) = 10 records; a record is 1 label byte + 3072 pixels.
    let first = std::fs::read(folder.join("data_batch_1.bin"))?;
    assert_eq!(first.len(), 10 * (1 + IMAGE_BYTES));
    assert!(first[0] < 10); // the label byte

    let (train, test) = Cifar10::load(&root)?;
    assert_eq!((train.len(), test.len()), (50, 20));
    assert_eq!(train.class_names()[0], "disk");
    assert_eq!(train.class_counts(), vec![5; 10]); // balanced
                                                   // Image 0 is the red plane, then green, then blue, each 32 rows of 32 bytes.
    assert_eq!(train.image(0), &first[1..1 + IMAGE_BYTES]);
    Ok(())
}
// ANCHOR_END: synthetic

// ANCHOR: loader
#[test]
fn batches_from_the_loader() -> Result<(), Box<dyn std::error::Error>> {
    let (train, _) = SyntheticConfig {
        seed: 1,
        train: 40,
        test: 0,
    }
    .generate();
    let (mean, std) = train.channel_stats();
    let config = LoaderConfig {
        shuffle: true,
        seed: 7,
        transforms: Transforms::train(mean, std), // crop, flip, scale, standardize
        ..LoaderConfig::new(16)
    };
    let loader = DataLoader::new(&train, config)?;
    let sizes: Vec<usize> = loader
        .epoch(0)
        .map(|batch| {
            let batch = batch.expect("batch");
            assert_eq!(&batch.images.dims()[1..], &[3, 32, 32]);
            batch.labels.len()
        })
        .collect();
    assert_eq!(sizes, vec![16, 16, 8]); // the last batch is short unless drop_last
                                        // Each epoch is a permutation determined by (seed, epoch).
    let mut order = loader.epoch_order(1);
    assert_ne!(order, loader.epoch_order(0));
    order.sort();
    assert_eq!(order, (0..40).collect::<Vec<_>>());
    // Evaluation uses the deterministic part only.
    let eval = Transforms::eval(mean, std);
    assert_eq!(eval.steps()[0], Transform::ScaleTo01);
    Ok(())
}
// ANCHOR_END: loader
