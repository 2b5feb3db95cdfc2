//! Listings of the kiln book that are not part of kiln itself: a first compute shader written
//! with nothing but `wgpu` (chapter 4), and a small harness that runs chapter 5's five
//! matrix-product shaders, from the naive one to kiln's register-blocked one, on the same footing.
//!
//! The tests in `tests/` hold the book's worked examples; `src/bin/matmul_ladder.rs` measures
//! chapter 5's lavapipe table and chart, `examples/matmul_gflops.rs` its H100 table, and
//! `src/bin/synthetic_samples.rs` prints the images of chapter 9's figure.

pub mod first_shader;
pub mod matmul;

pub use first_shader::Gpu;
