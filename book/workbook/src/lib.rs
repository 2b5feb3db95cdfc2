//! The kiln workbook: one module per chapter of the book, each a set of exercises that you fill
//! in and that tests check.
//!
//! Without features, the chapter modules are the stubs of `src/exercises/`: every exercise is a
//! function whose body is `todo!()` (or, for a shader, a WGSL file whose body calls `todo()`),
//! with its documentation and a hint. Replace the stub, then run the chapter's tests:
//!
//! ```text
//! cargo test --release --manifest-path book/workbook/Cargo.toml ch01
//! ```
//!
//! With the feature `solutions`, the same modules come from `src/solutions/`: worked solutions,
//! for after you have tried. The tests are the same for both.
//!
//! Conventions, as in kiln: tensors are row-major and contiguous; images are NCHW; convolution
//! weights are `[out, in, kh, kw]`; gradients are `∂L/∂·` of a scalar loss `L`, with the shape
//! of the value they belong to.

pub mod geometry;
pub mod graph;
pub mod records;
pub mod training;

/// Chapter 4's open GPU device, from the book's listings: [`Gpu::open`], [`Gpu::for_test`]
/// (skips, or fails under `KILN_REQUIRE_GPU=1`, when there is no adapter) and
/// [`Gpu::read_back`].
pub use kiln_book_listings::Gpu;

#[cfg(not(feature = "solutions"))]
mod exercises;
#[cfg(not(feature = "solutions"))]
pub use exercises::*;

#[cfg(feature = "solutions")]
mod solutions;
#[cfg(feature = "solutions")]
pub use solutions::*;
