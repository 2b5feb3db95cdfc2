//! Chapter 11: the small CNN, and the end-to-end run on your own pieces, which must learn and
//! must match the same run made with kiln's own loss, optimizer and loader.

use kiln::data::{Cifar10, DataLoader, LoaderConfig, SyntheticConfig, Transform, Transforms};
use kiln::nn::{cross_entropy, Adam, AdamConfig, Conv2d, LayerInit, Linear, Module, Optimizer};
use kiln::tensor::Tensor;
use kiln_workbook::ch11;
use kiln_workbook::training::TrainConfig;

mod small_cnn {
    use super::*;

    #[test]
    fn has_the_layers() {
        let model = ch11::small_cnn(5).expect("the model");
        let names: Vec<String> = model
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let expected = [
            "0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "4.weight", "4.bias",
            "7.weight", "7.bias",
        ];
        assert_eq!(names, expected);
        let shapes: Vec<Vec<usize>> = model
            .parameters()
            .iter()
            .map(|p| p.dims().to_vec())
            .collect();
        let want: [&[usize]; 10] = [
            &[8, 3, 3, 3],
            &[8],
            &[8],
            &[8],
            &[16, 8, 3, 3],
            &[16],
            &[16],
            &[16],
            &[10, 784],
            &[10],
        ];
        assert_eq!(shapes, want);
        let y = model
            .forward(&Tensor::rand_uniform(&[2, 3, 32, 32], 0.0, 1.0, 0))
            .expect("forward");
        assert_eq!(y.dims(), [2, 10]);
    }

    /// Layer `i` of those with weights is initialized from `seed + i`.
    #[test]
    fn takes_the_seeds() {
        let model = ch11::small_cnn(5).expect("the model");
        let params = model.parameters();
        let init = LayerInit::default();
        let first = Conv2d::new(3, 8, (3, 3), init, 5).unwrap();
        let second = Conv2d::new(8, 16, (3, 3), init, 6).unwrap();
        let last = Linear::new(784, 10, init, 7).unwrap();
        for (i, w) in [
            (0, first.weight()),
            (4, second.weight()),
            (8, last.weight()),
        ] {
            assert_eq!(
                params[i].to_vec().unwrap(),
                w.to_vec().unwrap(),
                "parameter {i}"
            );
        }
    }
}

mod train_end_to_end {
    use super::*;

    /// 200 synthetic training images (40 per file), batches of 40.
    const CONFIG: TrainConfig = TrainConfig {
        records_per_file: 40,
        batch_size: 40,
        steps: 80,
        lr: 0.01,
        seed: 11,
    };

    fn data() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let synthetic = SyntheticConfig {
            seed: 2,
            train: 5 * CONFIG.records_per_file,
            test: 10,
        };
        let root = synthetic.write(dir.path()).expect("synthetic data");
        (dir, root)
    }

    fn mean(v: &[f32]) -> f32 {
        v.iter().sum::<f32>() / v.len() as f32
    }

    #[test]
    fn learns() {
        let (_dir, root) = data();
        let report = ch11::train_end_to_end(&Cifar10::folder(&root), CONFIG).expect("training");
        assert_eq!(report.losses.len(), CONFIG.steps);
        let (first, last) = (
            mean(&report.losses[..5]),
            mean(&report.losses[CONFIG.steps - 10..]),
        );
        // 200 images and 80 steps: the model should all but memorize them.
        assert!(last < 0.3 * first, "the loss went from {first} to {last}");
        assert!(
            report.train_accuracy > 0.8,
            "training accuracy {}",
            report.train_accuracy
        );
    }

    /// The first epoch again with kiln's `cross_entropy`, `Adam` and `DataLoader`: the same
    /// losses.
    #[test]
    fn matches_kiln_training() {
        let (_dir, root) = data();
        let steps = 5 * CONFIG.records_per_file / CONFIG.batch_size;
        let config = TrainConfig { steps, ..CONFIG };
        let report = ch11::train_end_to_end(&Cifar10::folder(&root), config).expect("training");

        let (train, _) = Cifar10::load(&root).expect("the dataset");
        let loader = DataLoader::new(
            &train,
            LoaderConfig {
                prefetch: false,
                transforms: Transforms::new().then(Transform::ScaleTo01),
                ..LoaderConfig::new(CONFIG.batch_size)
            },
        )
        .expect("loader");
        let model = ch11::small_cnn(CONFIG.seed).expect("the model");
        let mut adam =
            Adam::new(model.parameters(), AdamConfig::default().lr(CONFIG.lr)).expect("adam");
        let mut losses = Vec::new();
        for batch in loader.epoch(0) {
            let batch = batch.expect("batch");
            adam.zero_grad();
            let loss =
                cross_entropy(&model.forward(&batch.images).unwrap(), &batch.labels).unwrap();
            loss.backward().unwrap();
            adam.step().unwrap();
            losses.push(loss.item().unwrap());
        }
        crate::support::assert_close(
            &report.losses,
            &losses,
            1e-4,
            1e-3,
            "losses, yours vs kiln's",
        );
    }
}
