//! Helpers shared by the chapters' tests.

use kiln::tensor::gradcheck::random_input;
use kiln::tensor::Tensor;
use proptest::test_runner::Config;

/// A proptest configuration with `cases` cases that writes no regression files: a failure
/// prints its shrunk input and seed instead.
pub fn cases(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// `len` seeded values in `[-1, 1)` (kiln's gradient-check inputs).
pub fn random(len: usize, seed: u64) -> Vec<f64> {
    random_input(&[len], seed).to_vec_f64().expect("f64 values")
}

/// [`random`] as `f32`.
pub fn random_f32(len: usize, seed: u64) -> Vec<f32> {
    random(len, seed).into_iter().map(|v| v as f32).collect()
}

/// `values` as an `f64` CPU tensor of shape `dims`.
pub fn tensor(values: &[f64], dims: &[usize]) -> Tensor {
    Tensor::from_vec_f64(values.to_vec(), dims).expect("values match the shape")
}

/// [`tensor`], tracking gradients.
pub fn leaf(values: &[f64], dims: &[usize]) -> Tensor {
    tensor(values, dims).requires_grad()
}

/// The values of a tensor, as `f64`.
pub fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec_f64().expect("a CPU tensor")
}

/// The gradient a backward pass left on `t`.
pub fn grad(t: &Tensor) -> Vec<f64> {
    values(&t.grad().expect("a gradient"))
}

/// Asserts `|got - want| <= atol + rtol * |want|` elementwise (and equal lengths), naming
/// `what` and the first element that differs. NaN matches NaN only.
#[track_caller]
pub fn assert_close<T: Into<f64> + Copy>(got: &[T], want: &[T], atol: f64, rtol: f64, what: &str) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} values, expected {}",
        got.len(),
        want.len()
    );
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g.into(), w.into());
        let ok = if w.is_nan() {
            g.is_nan()
        } else {
            (g - w).abs() <= atol + rtol * w.abs()
        };
        assert!(ok, "{what}: element {i} is {g}, expected {w}");
    }
}

/// `Σ a_i b_i`.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Parses and validates WGSL as wgpu will, without a GPU: naga's report on failure, pointing
/// at the line.
pub fn validate_wgsl(source: &str) -> Result<naga::Module, String> {
    let module = naga::front::wgsl::parse_str(source).map_err(|e| e.emit_to_string(source))?;
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    )
    .validate(&module)
    .map_err(|e| e.emit_to_string(source))?;
    Ok(module)
}

/// [`validate_wgsl`], panicking with naga's report.
#[track_caller]
pub fn valid_module(source: &str) -> naga::Module {
    validate_wgsl(source).unwrap_or_else(|report| panic!("the shader does not validate:\n{report}"))
}

/// The entry point `name` of `module`.
#[track_caller]
pub fn entry_point<'m>(module: &'m naga::Module, name: &str) -> &'m naga::EntryPoint {
    module
        .entry_points
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("the shader has no entry point `{name}`"))
}

/// The address space of the global variable at `@group(0) @binding(binding)`, if any.
pub fn binding_space(module: &naga::Module, binding: u32) -> Option<naga::AddressSpace> {
    module
        .global_variables
        .iter()
        .find(|(_, var)| {
            var.binding
                .as_ref()
                .is_some_and(|b| b.group == 0 && b.binding == binding)
        })
        .map(|(_, var)| var.space)
}

/// A uniform block of `u32` fields, as bytes.
pub fn uniform(fields: &[u32]) -> Vec<u8> {
    bytemuck::cast_slice(fields).to_vec()
}
