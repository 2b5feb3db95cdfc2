//! Weights saved by PyTorch (`safetensors.torch.save_file(model.state_dict())`) load into the
//! kiln model of the same layout, and give PyTorch's outputs. The files are made by
//! `data/torch_state_dict.py`.

use kiln_nn::checkpoint::{self, CheckpointError, LoadOptions, LoadReport};
use kiln_nn::{
    BatchNorm2d, BatchNormConfig, Conv2d, Flatten, LayerInit, Linear, Module, ReLU, Sequential,
    StateDict,
};
use kiln_tensor::no_grad;
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The script's model: conv 3->4 (3x3), batch norm, ReLU, flatten, linear 36->5.
fn model(affine: bool) -> Sequential {
    let config = BatchNormConfig {
        affine,
        ..BatchNormConfig::default()
    };
    let mut net = Sequential::new()
        .with(Conv2d::new(3, 4, (3, 3), LayerInit::torch(), 1).unwrap())
        .with(BatchNorm2d::new(4, config).unwrap())
        .with(ReLU)
        .with(Flatten)
        .with(Linear::new(36, 5, LayerInit::torch(), 2).unwrap());
    net.eval();
    net
}

/// The largest difference between the model's output on the script's input and PyTorch's.
fn error_against_torch(net: &Sequential) -> f32 {
    let io = StateDict::load(data("torch_io.safetensors")).unwrap();
    let y = no_grad(|| net.forward(io.tensor("x").unwrap())).unwrap();
    let expected = io.tensor("y").unwrap().to_vec().unwrap();
    y.to_vec()
        .unwrap()
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

#[test]
fn a_pytorch_state_dict_loads_strictly_and_reproduces_pytorch_outputs() {
    let net = model(true);
    assert!(
        error_against_torch(&net) > 1e-2,
        "before loading, outputs differ"
    );
    checkpoint::load(data("torch_f32.safetensors"), &net, None).unwrap();
    let err = error_against_torch(&net);
    assert!(err < 1e-5, "max |kiln - torch| = {err}");
}

#[test]
fn float64_and_float16_weights_load_when_a_cast_is_asked_for() {
    for (file, found, tolerance) in [
        ("torch_f64.safetensors", "F64", 1e-5),
        ("torch_f16.safetensors", "F16", 2e-2),
    ] {
        let net = model(true);
        let err = checkpoint::load(data(file), &net, None).unwrap_err();
        match err.cause() {
            CheckpointError::DTypeMismatch { found: f, .. } => assert_eq!(f, found),
            other => panic!("{file}: {other}"),
        }
        assert!(err.to_string().contains("cast: true"), "{err}");
        let cast = LoadOptions {
            cast: true,
            ..LoadOptions::default()
        };
        let report = checkpoint::load_with(data(file), &net, None, cast).unwrap();
        assert_eq!(report, LoadReport::default());
        let diff = error_against_torch(&net);
        assert!(diff < tolerance, "{file}: max |kiln - torch| = {diff}");
    }
}

#[test]
fn a_non_strict_load_reports_missing_and_unexpected_tensors_as_pytorch_does() {
    // Without affine parameters the batch norm has no weight and bias.
    let plain = model(false);
    let err = checkpoint::load(data("torch_f32.safetensors"), &plain, None).unwrap_err();
    assert!(
        matches!(err.cause(), CheckpointError::Unexpected { name } if name == "1.bias"),
        "{err}"
    );
    let lenient = LoadOptions {
        strict: false,
        ..LoadOptions::default()
    };
    let report =
        checkpoint::load_with(data("torch_f32.safetensors"), &plain, None, lenient).unwrap();
    assert_eq!(report.unexpected, ["1.bias", "1.weight"]);
    assert!(report.missing.is_empty());

    // A longer model: the extra layer is missing from the file and keeps its values.
    let longer = model(true)
        .with(ReLU)
        .with(Linear::new(5, 2, LayerInit::torch(), 3).unwrap());
    let extra = |net: &Sequential| {
        let tensors = net.named_tensors();
        let (_, t, _) = tensors.iter().find(|(n, _, _)| n == "6.weight").unwrap();
        t.to_vec().unwrap()
    };
    let before = extra(&longer);
    let report =
        checkpoint::load_with(data("torch_f32.safetensors"), &longer, None, lenient).unwrap();
    assert_eq!(report.missing, ["6.weight", "6.bias"]);
    assert!(report.unexpected.is_empty());
    assert_eq!(extra(&longer), before);
    let err = checkpoint::load(data("torch_f32.safetensors"), &longer, None).unwrap_err();
    assert!(
        matches!(err.cause(), CheckpointError::Missing { name } if name == "6.weight"),
        "{err}"
    );
}

/// PyTorch's state dicts often hold integer or bool buffers, which kiln does not: a non-strict
/// load lists them as unexpected, a strict one refuses them, and a module needing one is told
/// its dtype.
#[test]
fn entries_kiln_cannot_hold_are_unexpected_in_a_non_strict_load() {
    use safetensors::tensor::TensorView;
    use safetensors::Dtype;
    let bytes = std::fs::read(data("torch_f32.safetensors")).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let positions: Vec<u8> = (0..4i64).flat_map(i64::to_le_bytes).collect();
    let mask = [1u8, 0];
    let mut entries: Vec<(String, TensorView)> = file
        .iter()
        .map(|(name, view)| (name.to_string(), view))
        .collect();
    entries.push((
        "pos".into(),
        TensorView::new(Dtype::I64, vec![4], &positions).unwrap(),
    ));
    entries.push((
        "mask".into(),
        TensorView::new(Dtype::BOOL, vec![2], &mask).unwrap(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("buffers.safetensors");
    safetensors::serialize_to_file(entries, None, &path).unwrap();

    let net = model(true);
    let lenient = LoadOptions {
        strict: false,
        ..LoadOptions::default()
    };
    let report = checkpoint::load_with(&path, &net, None, lenient).unwrap();
    assert_eq!(report.unexpected, ["mask", "pos"]);
    assert!(error_against_torch(&net) < 1e-5);
    let err = checkpoint::load(&path, &net, None).unwrap_err();
    assert!(
        matches!(err.cause(), CheckpointError::Unexpected { name } if name == "mask"),
        "{err}"
    );
    let dict = kiln_nn::StateDict::load(&path).unwrap();
    let err = dict.tensor("pos").unwrap_err().to_string();
    assert!(err.contains("dtype I64 and shape [4]"), "{err}");
}
