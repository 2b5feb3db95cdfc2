//! Batches of NCHW `f32` tensors from a [`Dataset`], prepared on a background thread.

use std::sync::mpsc::{sync_channel, Receiver};

use kiln_tensor::{Device, Tensor};

use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::format::{CHANNELS, HEIGHT, IMAGE_BYTES, WIDTH};
use crate::transform::Transforms;
use kiln_tensor::random::Rng;

/// How a [`DataLoader`] batches a dataset. Build with [`LoaderConfig::new`] and struct update
/// syntax: `LoaderConfig { shuffle: true, ..LoaderConfig::new(128) }`.
#[derive(Debug, Clone, PartialEq)]
pub struct LoaderConfig {
    /// Images per batch (the last batch may be smaller unless `drop_last`). Must be positive.
    pub batch_size: usize,
    /// Shuffle every epoch (the order is a function of `seed` and the epoch number); `false`
    /// keeps file order.
    pub shuffle: bool,
    /// Seed of the shuffling and of the random transforms.
    pub seed: u64,
    /// Skip the last batch of an epoch when it is smaller than `batch_size`.
    pub drop_last: bool,
    /// Prepare the next batch on a background thread while the current one is used (where
    /// there are threads: not on the web).
    pub prefetch: bool,
    /// Applied to every image, in order, after the bytes become `f32` (0.0-255.0).
    pub transforms: Transforms,
    /// Device the image tensors are moved to.
    pub device: Device,
}

impl LoaderConfig {
    /// `batch_size`, file order, seed 0, keep the last batch, prefetch, no transforms, CPU.
    pub fn new(batch_size: usize) -> Self {
        Self {
            batch_size,
            shuffle: false,
            seed: 0,
            drop_last: false,
            prefetch: true,
            transforms: Transforms::new(),
            device: Device::Cpu,
        }
    }
}

/// One batch of `n` images.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Images, shape `[n, 3, 32, 32]` (NCHW), on the loader's device.
    pub images: Tensor,
    /// Class labels, `n` of them.
    pub labels: Vec<u32>,
    /// Index of each image in the dataset.
    pub indices: Vec<usize>,
}

/// Splits a dataset into batches, epoch after epoch. The raw bytes stay shared with the
/// dataset; each batch is converted to `f32` and transformed when it is prepared.
#[derive(Debug, Clone)]
pub struct DataLoader {
    dataset: Dataset,
    config: LoaderConfig,
}

/// Random-stream domains, so that shuffling and augmentation never share a stream.
const SHUFFLE_STREAM: u64 = 0;
const AUGMENT_STREAM: u64 = 1;

impl DataLoader {
    /// A loader over `dataset` (shared, not copied). Fails on a zero batch size or an invalid
    /// transform (see [`Transform::Standardize`](crate::Transform::Standardize)).
    pub fn new(dataset: &Dataset, config: LoaderConfig) -> Result<Self> {
        if config.batch_size == 0 {
            return Err(DataError::InvalidArgument(
                "batch size must be positive".into(),
            ));
        }
        config.transforms.validate()?;
        Ok(Self {
            dataset: dataset.clone(),
            config,
        })
    }

    /// The dataset being batched.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The configuration.
    pub fn config(&self) -> &LoaderConfig {
        &self.config
    }

    /// Batches per epoch.
    pub fn num_batches(&self) -> usize {
        let (n, b) = (self.dataset.len(), self.config.batch_size);
        if self.config.drop_last {
            n / b
        } else {
            n.div_ceil(b)
        }
    }

    /// Dataset indices in the order epoch `epoch` visits them: file order, or a permutation
    /// determined by `(seed, epoch)`.
    pub fn epoch_order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if self.config.shuffle {
            Rng::from_key(&[self.config.seed, SHUFFLE_STREAM, epoch]).shuffle(&mut order);
        }
        order
    }

    // ANCHOR: epoch
    /// The batches of epoch `epoch` (number them from 0). Every image appears once, except
    /// those of a short last batch with `drop_last`. Random transforms draw from
    /// `(seed, epoch, image index)`, so an epoch's batches are the same with or without
    /// prefetching. With prefetching, the worker thread also moves each batch to the device,
    /// so that a GPU upload (a copy into a staging buffer) is off the training loop's thread.
    pub fn epoch(&self, epoch: u64) -> Batches {
        let plan = EpochPlan {
            dataset: self.dataset.clone(),
            transforms: self.config.transforms.clone(),
            seed: self.config.seed,
            epoch,
            order: self.epoch_order(epoch),
            batch_size: self.config.batch_size,
            batches: self.num_batches(),
            device: self.config.device,
        };
        // The web has no threads: batches are prepared in turn there.
        let source = if self.config.prefetch && cfg!(not(target_arch = "wasm32")) {
            // Capacity 1: one batch waits in the channel while the next is being prepared.
            let (sender, receiver) = sync_channel(1);
            std::thread::spawn(move || {
                for b in 0..plan.batches {
                    if sender.send(plan.prepare(b)).is_err() {
                        return; // The consumer is gone.
                    }
                }
            });
            Source::Prefetch(receiver)
        } else {
            Source::Inline { plan, next: 0 }
        };
        Batches {
            source,
            remaining: self.num_batches(),
        }
    }
    // ANCHOR_END: epoch
}

/// Everything needed to prepare the batches of one epoch, owned so it can move to a thread.
struct EpochPlan {
    dataset: Dataset,
    transforms: Transforms,
    seed: u64,
    epoch: u64,
    order: Vec<usize>,
    batch_size: usize,
    batches: usize,
    device: Device,
}

impl EpochPlan {
    // ANCHOR: prepare
    /// Converts and transforms batch `b` of the epoch, and moves it to the device.
    fn prepare(&self, b: usize) -> Result<Batch> {
        let start = b * self.batch_size;
        let indices = self.order[start..(start + self.batch_size).min(self.order.len())].to_vec();
        let mut data = vec![0f32; indices.len() * IMAGE_BYTES];
        let mut scratch = Vec::with_capacity(IMAGE_BYTES);
        for (&i, image) in indices.iter().zip(data.chunks_exact_mut(IMAGE_BYTES)) {
            image
                .iter_mut()
                .zip(self.dataset.image(i))
                .for_each(|(x, &p)| *x = f32::from(p));
            let mut rng = Rng::from_key(&[self.seed, AUGMENT_STREAM, self.epoch, i as u64]);
            self.transforms.apply(image, &mut scratch, &mut rng);
        }
        let labels = indices.iter().map(|&i| self.dataset.label(i)).collect();
        let shape = [indices.len(), CHANNELS, HEIGHT, WIDTH];
        Ok(Batch {
            images: Tensor::from_vec(data, &shape)?.to_device(self.device)?,
            labels,
            indices,
        })
    }
    // ANCHOR_END: prepare
}

enum Source {
    Inline {
        plan: EpochPlan,
        next: usize,
    },
    /// Batches sent by the worker thread, which exits when this is dropped.
    Prefetch(Receiver<Result<Batch>>),
}

/// Iterator over the batches of one epoch, from [`DataLoader::epoch`]. Dropping it early stops
/// the background thread after the batch it is preparing.
pub struct Batches {
    source: Source,
    remaining: usize,
}

impl Iterator for Batches {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        Some(match &mut self.source {
            Source::Inline { plan, next } => {
                *next += 1;
                plan.prepare(*next - 1)
            }
            Source::Prefetch(receiver) => receiver.recv().unwrap_or_else(|_| {
                // The worker hung up before sending every batch: it panicked.
                self.remaining = 0;
                Err(DataError::LoaderThread)
            }),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Batches {}
