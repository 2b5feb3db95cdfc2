//! kiln in the browser: the batch-norm comparison of `cifar_bn` trained live in a web page,
//! on WebGPU with kiln's WGSL kernels, or on kiln's CPU kernels where the browser offers no
//! WebGPU adapter.
//!
//! - [`settings`]: what the page lets a reader choose, turned into the experiment's
//!   configuration (shared with the native reference run, `src/bin/reference.rs`).
//! - [`data`]: the data, synthetic or from CIFAR-10 files given to the page (shared too).
//! - `page` (wasm32 only): the JavaScript interface the page drives.

pub mod data;
#[cfg(target_arch = "wasm32")]
mod page;
pub mod settings;
