//! Chapter 4: the book's shaders validate with naga on any machine, and saxpy runs on a GPU
//! adapter when there is one (lavapipe counts).

use kiln_book_listings::first_shader::{saxpy, SAXPY};
use kiln_book_listings::matmul::KERNELS;
use kiln_book_listings::Gpu;

// ANCHOR: naga
/// Parses and validates WGSL the way wgpu will, without a GPU: a syntax or type error becomes
/// a test failure with naga's report, which points at the line.
fn validate(source: &str) -> Result<(), String> {
    let module = naga::front::wgsl::parse_str(source).map_err(|e| e.emit_to_string(source))?;
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    )
    .validate(&module)
    .map_err(|e| e.emit_to_string(source))?;
    Ok(())
}

#[test]
fn book_shaders_validate() {
    validate(SAXPY).unwrap();
    for kernel in KERNELS {
        if let Err(report) = validate(&kernel.source()) {
            panic!("{}:\n{report}", kernel.name());
        }
    }
}

#[test]
fn naga_rejects_a_type_error() {
    let broken = SAXPY.replace("params.a * x[i]", "params.len * x[i]"); // u32 * f32
    let report = validate(&broken).unwrap_err();
    assert!(report.contains("error"), "{report}");
}
// ANCHOR_END: naga

// ANCHOR: run
#[test]
fn saxpy_runs_on_the_gpu() {
    let Some(gpu) = Gpu::for_test() else { return };
    eprintln!("adapter: {}", gpu.adapter);
    // 1000 is not a multiple of the workgroup size 64: the last workgroup is partly idle.
    let x: Vec<f32> = (0..1000).map(|i| i as f32).collect();
    let y = vec![1.0; 1000];
    let out = saxpy(&gpu, 2.0, &x, &y);
    let expected: Vec<f32> = x.iter().map(|v| 2.0 * v + 1.0).collect();
    assert_eq!(out, expected);
}
// ANCHOR_END: run
