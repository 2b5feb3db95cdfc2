//! Helpers shared by the tests that run the example programs.

use std::path::PathBuf;

/// `target/<profile>/examples/<name>`, beside the running test's `deps/` folder (`cargo test`
/// builds the examples with the tests).
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().unwrap().parent().unwrap();
    let path = profile
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --example {name}` (cargo test does)",
        path.display()
    );
    path
}
