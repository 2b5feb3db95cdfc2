//! CIFAR-10 data for kiln: the binary format, download, a synthetic dataset in the same format,
//! and a batch loader.
//!
//! Images are 3x32x32, channel-planar (R, G, B planes of row-major pixels), stored as raw
//! bytes in a [`Dataset`]; labels are `u32` class indices.
//!
//! - [`Cifar10`] / [`Cifar100`] read the official binary versions, validating sizes and labels;
//!   [`Cifar10::parse_batch`] parses one CIFAR-10 record file already in memory.
//! - [`Cifar10::download`] fetches, checks and extracts the official archive (feature
//!   `download`, on by default).
//! - [`SyntheticConfig`] generates a deterministic CIFAR-format stand-in with ten procedural
//!   classes, cached on disk and read by the same reader; [`SyntheticGenerator`] makes it a
//!   chunk at a time.
//! - [`Cifar10::load_or_synthetic`] picks real data when it can and says which it got
//!   ([`DataOrigin`]): synthetic data when the real data is absent, an error when it is there
//!   but damaged.
//! - [`DataLoader`] turns a dataset into batches of `[n, 3, 32, 32]` `f32` tensors with `u32`
//!   labels, shuffled per epoch or in file order, through composable [`Transforms`], prepared on
//!   a background thread.
//!
//! ```no_run
//! use std::path::Path;
//! use kiln_data::{Cifar10, DataLoader, DataSource, LoaderConfig, Transforms};
//!
//! # fn main() -> kiln_data::Result<()> {
//! let source = DataSource::Auto { download: true };
//! let (train, test, origin) = Cifar10::load_or_synthetic(Path::new("data"), source)?;
//! println!("data: {origin}");
//! let (mean, std) = train.channel_stats();
//! let train_loader = DataLoader::new(
//!     &train,
//!     LoaderConfig {
//!         shuffle: true,
//!         seed: 1,
//!         transforms: Transforms::train(mean, std),
//!         ..LoaderConfig::new(128)
//!     },
//! )?;
//! let test_loader = DataLoader::new(
//!     &test,
//!     LoaderConfig { transforms: Transforms::eval(mean, std), ..LoaderConfig::new(500) },
//! )?;
//! for epoch in 0..2 {
//!     for batch in train_loader.epoch(epoch) {
//!         let batch = batch?;
//!         assert_eq!(batch.images.dims()[1..], [3, 32, 32]);
//!         assert_eq!(batch.labels.len(), batch.images.dims()[0]);
//!     }
//! }
//! assert_eq!(test_loader.num_batches(), test.len().div_ceil(500));
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod cifar;
mod dataset;
#[cfg(feature = "download")]
mod download;
mod error;
#[cfg(feature = "download")]
mod extract;
mod files;
mod format;
mod loader;
mod source;
mod staging;
mod synthetic;
mod transform;

pub use cifar::{Cifar10, Cifar100, Cifar100Labels};
pub use dataset::Dataset;
pub use error::{DataError, Result};
#[cfg(feature = "download")]
pub use extract::extract_tar_gz;
pub use format::{CHANNELS, HEIGHT, IMAGE_BYTES, WIDTH};
pub use loader::{Batch, Batches, DataLoader, LoaderConfig};
pub use source::{DataOrigin, DataSource};
pub use synthetic::{SyntheticConfig, SyntheticGenerator, SYNTHETIC_CLASSES};
pub use transform::{Transform, Transforms};
