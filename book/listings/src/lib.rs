//! Listings of the kiln book that are not part of kiln itself: a first compute shader written
//! with nothing but `wgpu` (chapter 4), and a small harness that runs three matrix-product
//! shaders, naive, tiled and kiln's register-blocked one, on the same footing, and the two
//! kernels between the tiled one and kiln's (`ladder`, chapter 5).
//!
//! The tests in `tests/` hold the book's worked examples; `examples/matmul_gflops.rs` measures
//! the table of chapter 5.

pub mod first_shader;
pub mod ladder;
pub mod matmul;

pub use first_shader::Gpu;
