//! Checkpoints: bit-exact round trips, resumed training equal to uninterrupted training, and
//! errors that name the offending tensor.

mod common;

use kiln_nn::checkpoint::{self, CheckpointError};
use kiln_nn::{
    cross_entropy, Adam, AdamConfig, BatchNorm1d, BatchNormConfig, Dropout, LayerInit, Linear,
    Module, Optimizer, Residual, Sequential, Sgd, SgdConfig, StateDict,
};
use kiln_tensor::{no_grad, DType, Shape, Tensor};
use std::path::PathBuf;

fn temp_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// One full-batch training step; returns the loss.
fn train_step(model: &Sequential, opt: &mut dyn Optimizer, x: &Tensor, labels: &[u32]) -> f32 {
    opt.zero_grad();
    let loss = cross_entropy(&model.forward(x).unwrap(), labels).unwrap();
    loss.backward().unwrap();
    opt.step().unwrap();
    loss.item().unwrap()
}

fn values(model: &dyn Module) -> Vec<(String, Vec<f32>)> {
    model
        .named_tensors()
        .into_iter()
        .map(|(n, t, _)| (n, t.to_vec().unwrap()))
        .collect()
}

#[test]
fn save_then_load_gives_identical_outputs_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "model.safetensors");
    let (x, labels) = common::spiral(3, 20, 5);
    let mut model = common::mlp(16, 3, true, 1);
    let mut adam = Adam::new(model.parameters(), AdamConfig::default()).unwrap();
    for _ in 0..3 {
        train_step(&model, &mut adam, &x, &labels);
    }
    checkpoint::save(&path, &model, None).unwrap();

    let mut restored = common::mlp(16, 3, true, 99);
    assert_ne!(values(&restored), values(&model));
    checkpoint::load(&path, &restored, None).unwrap();
    assert_eq!(values(&restored), values(&model));

    model.eval();
    restored.eval();
    let expected = no_grad(|| model.forward(&x)).unwrap().to_vec().unwrap();
    let actual = no_grad(|| restored.forward(&x)).unwrap().to_vec().unwrap();
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&actual), bits(&expected));
}

/// Trains `steps` steps from a fresh model and optimizer, saving a checkpoint after
/// `save_after` steps if asked; returns the losses.
fn losses(
    opt_kind: &str,
    steps: usize,
    checkpoint_at: Option<(usize, &PathBuf)>,
    resume_from: Option<&PathBuf>,
) -> Vec<f32> {
    let (x, labels) = common::spiral(3, 30, 2);
    let model = common::mlp(16, 3, true, if resume_from.is_some() { 50 } else { 7 });
    let mut opt: Box<dyn Optimizer> = match opt_kind {
        "adam" => Box::new(Adam::new(model.parameters(), AdamConfig::adamw().lr(0.01)).unwrap()),
        _ => Box::new(
            Sgd::new(
                model.parameters(),
                SgdConfig {
                    lr: 0.05,
                    momentum: 0.9,
                    nesterov: true,
                    weight_decay: 1e-3,
                },
            )
            .unwrap(),
        ),
    };
    if let Some(path) = resume_from {
        checkpoint::load(path, &model, Some(opt.as_mut())).unwrap();
    }
    (0..steps)
        .map(|step| {
            let loss = train_step(&model, opt.as_mut(), &x, &labels);
            if let Some((at, path)) = checkpoint_at {
                if step + 1 == at {
                    checkpoint::save(path, &model, Some(opt.as_ref())).unwrap();
                }
            }
            loss
        })
        .collect()
}

#[test]
fn resumed_training_repeats_the_uninterrupted_losses() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["adam", "sgd"] {
        let path = temp_path(&dir, &format!("{kind}.safetensors"));
        let uninterrupted = losses(kind, 10, Some((4, &path)), None);
        let resumed = losses(kind, 6, None, Some(&path));
        assert_eq!(resumed, uninterrupted[4..], "{kind}");
    }
}

#[test]
fn resumed_training_draws_the_dropout_masks_of_the_uninterrupted_run() {
    let (x, labels) = common::spiral(3, 30, 2);
    let model = |seed| {
        Sequential::new()
            .with(Residual::new(Dropout::new(0.5, 11).unwrap()))
            .with(common::mlp(16, 3, false, seed))
    };
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "dropout.safetensors");
    let adam = |m: &Sequential| Adam::new(m.parameters(), AdamConfig::default().lr(0.01)).unwrap();
    let uninterrupted = model(7);
    let mut opt = adam(&uninterrupted);
    let mut expected = Vec::new();
    for step in 0..8 {
        if step == 3 {
            checkpoint::save(&path, &uninterrupted, Some(&opt)).unwrap();
        }
        expected.push(train_step(&uninterrupted, &mut opt, &x, &labels));
    }
    let dict = StateDict::load(&path).unwrap();
    assert_eq!(dict.counter("0.inner.calls").unwrap(), 3);

    let resumed = model(50);
    let mut opt = adam(&resumed);
    checkpoint::load(&path, &resumed, Some(&mut opt)).unwrap();
    let losses: Vec<f32> = (3..8)
        .map(|_| train_step(&resumed, &mut opt, &x, &labels))
        .collect();
    assert_eq!(losses, expected[3..]);
}

/// A small model and its Adam after one step.
fn after_one_adam_step() -> (Sequential, Adam) {
    let model = common::mlp(4, 3, false, 0);
    let mut adam = Adam::new(model.parameters(), AdamConfig::default()).unwrap();
    let (x, labels) = common::spiral(3, 4, 0);
    train_step(&model, &mut adam, &x, &labels);
    (model, adam)
}

#[test]
fn optimizer_state_is_saved_under_the_parameter_index() {
    let (model, adam) = after_one_adam_step();
    let dict = checkpoint::state_dict(&model, Some(&adam));
    assert_eq!(dict.counter("optimizer.parameters").unwrap(), 6);
    assert_eq!(dict.counter("optimizer.0.step").unwrap(), 1);
    assert_eq!(dict.tensor("optimizer.5.exp_avg_sq").unwrap().dims(), &[3]);
    assert_eq!(dict.tensor("0.weight").unwrap().dims(), &[4, 2]);

    let other = Sequential::new().with(Linear::new(2, 3, LayerInit::torch(), 0).unwrap());
    let mut small = Adam::new(other.parameters(), AdamConfig::default()).unwrap();
    let err = small.load_state("optimizer.", &dict).unwrap_err();
    assert!(matches!(err, CheckpointError::Incompatible(_)), "{err}");
    assert!(err.to_string().contains("6 parameters"), "{err}");
}

#[test]
fn a_step_count_past_what_an_optimizer_takes_is_refused_at_load() {
    let (model, mut adam) = after_one_adam_step();
    let mut dict = checkpoint::state_dict(&model, Some(&adam));
    dict.insert_counter("optimizer.0.step", u64::MAX);
    let err = adam.load_state("optimizer.", &dict).unwrap_err();
    assert!(matches!(err, CheckpointError::Incompatible(_)), "{err}");
    assert!(
        err.to_string().contains("`optimizer.0.step` counts"),
        "{err}"
    );
}

#[test]
fn an_entry_of_the_other_kind_is_named_as_such_not_as_missing() {
    let mut dict = StateDict::new();
    dict.insert_tensor(
        "optimizer.0.step",
        Tensor::from_vec(vec![3.0], &[]).unwrap(),
    );
    dict.insert_counter("0.weight", 1);
    let err = dict.counter("optimizer.0.step").unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint entry `optimizer.0.step` is a tensor, not a counter (a U64 scalar)"
    );
    let err = dict.tensor("0.weight").unwrap_err();
    assert!(matches!(err, CheckpointError::WrongKind { .. }), "{err}");
    let err = dict.tensor("1.weight").unwrap_err();
    assert!(matches!(err, CheckpointError::Missing { .. }), "{err}");
}

#[test]
fn loading_into_another_shape_names_the_tensor_and_both_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "wide.safetensors");
    checkpoint::save(&path, &common::mlp(16, 3, true, 0), None).unwrap();
    let narrow = common::mlp(8, 3, true, 0);
    let before = values(&narrow);
    let err = checkpoint::load(&path, &narrow, None).unwrap_err();
    assert_eq!(
        values(&narrow),
        before,
        "a failed load leaves the model as it was"
    );
    match err.cause() {
        CheckpointError::ShapeMismatch {
            name,
            expected,
            found,
        } => {
            assert_eq!(name, "0.weight");
            assert_eq!(
                (expected, found),
                (&Shape::new(&[8, 2]), &Shape::new(&[16, 2]))
            );
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "checkpoint {}: checkpoint tensor `0.weight` has shape [16, 2], the model expects \
             [8, 2]",
            path.display()
        )
    );
}

#[test]
fn a_missing_or_unexpected_tensor_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let batch_norm = |affine| {
        let config = BatchNormConfig {
            affine,
            ..BatchNormConfig::default()
        };
        Sequential::new().with(BatchNorm1d::new(8, config).unwrap())
    };
    let (with_affine, without) = (
        temp_path(&dir, "affine.safetensors"),
        temp_path(&dir, "plain.safetensors"),
    );
    checkpoint::save(&with_affine, &batch_norm(true), None).unwrap();
    checkpoint::save(&without, &batch_norm(false), None).unwrap();

    let err = checkpoint::load(&without, &batch_norm(true), None).unwrap_err();
    assert!(
        matches!(err.cause(), CheckpointError::Missing { name } if name == "0.weight"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "checkpoint {}: checkpoint has no entry named `0.weight`",
            without.display()
        )
    );

    let err = checkpoint::load(&with_affine, &batch_norm(false), None).unwrap_err();
    assert!(
        matches!(err.cause(), CheckpointError::Unexpected { name } if name == "0.bias"),
        "{err}"
    );
}

#[test]
fn files_are_plain_safetensors_with_dtypes_and_counters() {
    let mut dict = StateDict::new();
    dict.insert_tensor("a", Tensor::from_vec(vec![1.5, -2.0], &[2, 1]).unwrap());
    dict.insert_tensor("b", Tensor::from_vec_f64(vec![0.1], &[1]).unwrap());
    dict.insert_counter("steps", 1 << 40);
    let bytes = dict.to_bytes().unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
    assert!(
        header.contains(r#""a":{"dtype":"F32","shape":[2,1]"#),
        "{header}"
    );
    assert!(
        header.contains(r#""steps":{"dtype":"U64","shape":[]"#),
        "{header}"
    );

    let back = StateDict::from_bytes(&bytes).unwrap();
    assert_eq!(back.tensor("a").unwrap().to_vec().unwrap(), vec![1.5, -2.0]);
    assert_eq!(back.tensor("b").unwrap().dtype(), DType::F64);
    assert_eq!(back.tensor("b").unwrap().to_vec_f64().unwrap(), vec![0.1]);
    assert_eq!(back.counter("steps").unwrap(), 1 << 40);
    assert!(matches!(
        StateDict::from_bytes(b"not a checkpoint"),
        Err(CheckpointError::Format(_))
    ));
    let err = StateDict::load(temp_path(&tempfile::tempdir().unwrap(), "absent")).unwrap_err();
    assert!(err.to_string().contains("absent"), "{err}");
}

#[test]
fn flipped_bytes_are_caught_by_the_checksum_and_the_error_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "model.safetensors");
    checkpoint::save(&path, &common::mlp(16, 3, true, 0), None).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() - 100;
    bytes[middle] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    let err = checkpoint::load(&path, &common::mlp(16, 3, true, 0), None).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("model.safetensors"), "{message}");
    assert!(message.contains("do not match their checksum"), "{message}");
}

#[test]
fn metadata_is_covered_by_the_checksum_too() {
    let mut dict = StateDict::new();
    dict.insert_tensor("a", Tensor::from_vec(vec![1.0], &[1]).unwrap());
    dict.insert_metadata("progress", r#"{"step":12}"#);
    let bytes = dict.to_bytes().unwrap();
    let back = StateDict::from_bytes(&bytes).unwrap();
    assert_eq!(back.metadata("progress"), Some(r#"{"step":12}"#));
    let mut edited = bytes.clone();
    let at = bytes
        .windows(4)
        .position(|w| w == b":12}")
        .expect("the metadata is in the header");
    edited[at + 2] = b'3';
    let err = StateDict::from_bytes(&edited).unwrap_err();
    assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err}");
}

/// The state of `model` and `opt` after two training steps, recorded as taken at `step` and
/// read back from its bytes.
fn after_two_steps(model: &Sequential, opt: &mut dyn Optimizer, step: u64) -> StateDict {
    let (x, labels) = common::spiral(3, 4, 0);
    train_step(model, opt, &x, &labels);
    train_step(model, opt, &x, &labels);
    let mut dict = checkpoint::state_dict(model, Some(&*opt));
    dict.set_step(step);
    StateDict::from_bytes(&dict.to_bytes().unwrap()).unwrap()
}

#[test]
fn a_checkpoint_whose_step_disagrees_with_its_optimizer_state_is_refused() {
    let model = common::mlp(4, 3, false, 0);
    let mut adam = Adam::new(model.parameters(), AdamConfig::default()).unwrap();
    let dict = after_two_steps(&model, &mut adam, 3);
    let err = checkpoint::load_state_dict(&dict, &model, Some(&mut adam)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint is at step 3 but its optimizer state is at step 2"
    );
    let mut dict = checkpoint::state_dict(&model, Some(&adam));
    dict.set_step(2);
    checkpoint::load_state_dict(&dict, &model, Some(&mut adam)).unwrap();
}

#[test]
fn plain_sgd_records_its_steps_so_its_checkpoints_load() {
    let model = common::mlp(4, 3, false, 0);
    let mut sgd = Sgd::new(model.parameters(), SgdConfig::default()).unwrap();
    let dict = after_two_steps(&model, &mut sgd, 2);
    assert_eq!(dict.counter("optimizer.0.step").unwrap(), 2);
    assert!(!dict.has_tensor("optimizer.0.momentum_buffer"));
    checkpoint::load_state_dict(&dict, &model, Some(&mut sgd)).unwrap();
}

#[test]
fn a_failed_optimizer_load_leaves_the_model_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "adam.safetensors");
    let trained = common::mlp(4, 3, false, 0);
    let mut adam = Adam::new(trained.parameters(), AdamConfig::default()).unwrap();
    let (x, labels) = common::spiral(3, 4, 0);
    train_step(&trained, &mut adam, &x, &labels);
    checkpoint::save(&path, &trained, Some(&adam)).unwrap();

    let model = common::mlp(4, 3, false, 1);
    let before = values(&model);
    let config = SgdConfig {
        momentum: 0.9,
        ..SgdConfig::default()
    };
    let mut sgd = Sgd::new(model.parameters(), config).unwrap();
    let err = checkpoint::load(&path, &model, Some(&mut sgd)).unwrap_err();
    assert!(
        matches!(err.cause(), CheckpointError::Missing { name } if name.ends_with("momentum_buffer")),
        "{err}"
    );
    assert!(err.to_string().contains("adam.safetensors"), "{err}");
    assert_eq!(values(&model), before);
}

#[test]
fn a_missing_file_is_named_with_what_was_being_done() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "absent.safetensors");
    let err = checkpoint::load(&path, &common::mlp(4, 3, false, 0), None).unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("checkpoint: reading "), "{message}");
    assert!(message.contains("absent.safetensors"), "{message}");
}

#[test]
fn a_damaged_checksum_key_is_refused_not_taken_for_a_foreign_file() {
    let mut dict = StateDict::new();
    dict.insert_tensor("a", Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap());
    let bytes = dict.to_bytes().unwrap();
    let at = bytes
        .windows(10)
        .position(|w| w == b"kiln.crc32")
        .expect("the checksum key is in the header");
    // One bit flipped in the key, and another in the data, which the checksum would catch.
    let mut damaged = bytes.clone();
    damaged[at] ^= 0x04;
    *damaged.last_mut().unwrap() ^= 0x01;
    let err = StateDict::from_bytes(&damaged).unwrap_err();
    assert!(matches!(err, CheckpointError::Format(_)), "{err}");
    assert!(err.to_string().contains("checksum"), "{err}");
    // Neither the format mark nor the checksum shows in the metadata of a sound file.
    let back = StateDict::from_bytes(&bytes).unwrap();
    assert_eq!(back.metadata("kiln.format"), None);
    assert_eq!(back.metadata("kiln.crc32"), None);
}

/// Two layers whose walk forgets to prefix their names.
struct Unprefixed(Linear, Linear);

impl Module for Unprefixed {
    fn forward(&self, x: &Tensor) -> kiln_tensor::Result<Tensor> {
        self.1.forward(&self.0.forward(x)?)
    }
    fn visit_tensors(&self, f: &mut dyn FnMut(&str, &Tensor, kiln_nn::TensorRole)) {
        self.0.visit_tensors(f);
        self.1.visit_tensors(f);
    }
    fn map_tensors(
        &mut self,
        f: &mut dyn FnMut(&Tensor) -> kiln_tensor::Result<Tensor>,
    ) -> kiln_tensor::Result<()> {
        self.0.map_tensors(f)?;
        self.1.map_tensors(f)
    }
    fn visit_counters(&self, _: &mut dyn FnMut(&str, &std::sync::atomic::AtomicU64)) {}
    fn set_training(&mut self, _: bool) {}
}

#[test]
fn a_module_with_two_tensors_of_one_name_is_refused_not_half_saved() {
    let layer = |seed| Linear::new(3, 3, LayerInit::torch(), seed).unwrap();
    let twins = Unprefixed(layer(0), layer(1));
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "twins.safetensors");
    let err = checkpoint::save(&path, &twins, None).unwrap_err();
    assert!(
        matches!(err, CheckpointError::DuplicateName { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("`weight`"), "{err}");
    assert!(!path.exists());
    checkpoint::save(&path, &layer(2), None).unwrap();
    let err = checkpoint::load(&path, &twins, None).unwrap_err();
    assert!(
        matches!(err.cause(), CheckpointError::DuplicateName { .. }),
        "{err}"
    );
}
