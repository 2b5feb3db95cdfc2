//! Every shader the runtime compiles parses and validates with `naga`, exactly as compiled:
//! the header of constants generated from the Rust side, then its files of `shaders/`. A shader
//! error fails `cargo test` on any machine, with or without a GPU.
//!
//! Every file of `shaders/` must be part of a compiled shader, and a file that is only valid
//! after others names them in a header line `// requires: a.wgsl, b.wgsl`: they must come
//! before it in every shader that contains it.

use crate::gpu::compiled_shaders;
use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn every_shader_parses_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("shaders/ exists") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "wgsl") {
            files.insert(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(!files.is_empty(), "no .wgsl files in {}", dir.display());
    let shaders = compiled_shaders();
    let mut failures = Vec::new();
    let mut used = BTreeSet::new();
    for (name, parts, source) in &shaders {
        for (i, part) in parts.iter().enumerate() {
            used.insert(part.to_string());
            let Ok(text) = std::fs::read_to_string(dir.join(format!("{part}.wgsl"))) else {
                failures.push(format!("{name}: no file shaders/{part}.wgsl"));
                continue;
            };
            for required in requires(&text) {
                if !parts[..i].contains(&required.as_str()) {
                    failures.push(format!(
                        "{name}: {part}.wgsl requires {required}.wgsl, which does not come \
                         before it"
                    ));
                }
            }
        }
        if let Err(e) = validate(source) {
            failures.push(format!(
                "{name} (as compiled, generated header first):\n{e}"
            ));
        }
    }
    for file in files.difference(&used) {
        failures.push(format!(
            "shaders/{file}.wgsl is part of no shader in `compiled_shaders`"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The files named by a `// requires:` header line, without `.wgsl`.
fn requires(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("// requires:"))
        .flat_map(|list| list.split(','))
        .map(|s| s.trim().trim_end_matches(".wgsl").to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Parses and validates one WGSL source, returning the rendered error. Only a source that
/// enables `f16` may use it, and only one that takes a subgroup builtin may use subgroup
/// operations (in compute shaders).
fn validate(source: &str) -> Result<(), String> {
    use naga::valid::{Capabilities, ShaderStages, SubgroupOperationSet};
    let module = naga::front::wgsl::parse_str(source).map_err(|e| e.emit_to_string(source))?;
    let mut capabilities = Capabilities::empty();
    capabilities.set(Capabilities::SHADER_FLOAT16, source.contains("enable f16;"));
    let subgroups = source.contains("@builtin(subgroup_size)");
    capabilities.set(Capabilities::SUBGROUP, subgroups);
    let mut validator =
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), capabilities);
    if subgroups {
        validator
            .subgroup_stages(ShaderStages::COMPUTE)
            .subgroup_operations(SubgroupOperationSet::all());
    }
    validator
        .validate(&module)
        .map_err(|e| e.emit_to_string(source))?;
    Ok(())
}
