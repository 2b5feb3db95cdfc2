//! kiln in the browser: the batch-norm comparison of `cifar_bn` trained live in a web page,
//! on WebGPU with kiln's WGSL kernels, or on kiln's CPU kernels where the browser offers no
//! WebGPU adapter.
//!
//! - [`settings`]: what the page lets a reader choose, turned into the experiment's
//!   configuration and data (shared with the native reference run, `src/bin/reference.rs`).
//! - `page` (wasm32 only): the JavaScript interface the page drives.

#[cfg(target_arch = "wasm32")]
mod page;
pub mod settings;
