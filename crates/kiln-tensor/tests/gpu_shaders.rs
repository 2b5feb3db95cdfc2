//! Every WGSL file in `shaders/` parses and validates with `naga`: a shader error fails
//! `cargo test` on any machine, with or without a GPU.
//!
//! A file that is only valid after others (the runtime compiles the concatenation) names them
//! in a header line `// requires: a.wgsl, b.wgsl`; it is validated with those prepended, in
//! that order. A file that others require is checked through them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[test]
fn every_shader_parses_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut sources = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("shaders/ exists") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "wgsl") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            sources.insert(
                name,
                std::fs::read_to_string(&path).expect("readable shader"),
            );
        }
    }
    assert!(!sources.is_empty(), "no .wgsl files in {}", dir.display());
    let required: BTreeSet<String> = sources.values().flat_map(|s| requires(s)).collect();
    let mut failures = Vec::new();
    for (name, source) in &sources {
        if required.contains(name) {
            continue;
        }
        let mut full = String::new();
        for part in requires(source) {
            match sources.get(&part) {
                Some(s) => full.push_str(s),
                None => failures.push(format!("{name}: requires missing {part}")),
            }
        }
        full.push_str(source);
        if let Err(e) = validate(&full) {
            failures.push(format!(
                "{name} (after its `// requires:` files, if any):\n{e}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The files named by a `// requires:` header line.
fn requires(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("// requires:"))
        .flat_map(|list| list.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Parses and validates one WGSL source, returning the rendered error.
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
