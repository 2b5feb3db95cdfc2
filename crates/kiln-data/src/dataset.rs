//! An in-memory image classification dataset in CIFAR layout.

use std::sync::Arc;

use crate::error::{DataError, Result};
use crate::format::{CHANNELS, HEIGHT, IMAGE_BYTES, WIDTH};

/// Images as raw bytes with one class label each.
///
/// Image `i` is `images()[i * 3072..(i + 1) * 3072]`: channel-planar R, G, B planes of 32x32
/// row-major pixels (the CIFAR layout, which is also one NCHW sample). The bytes stay `u8` in
/// memory (50,000 images take 150 MB) and are converted to `f32` per batch by the loader.
/// Cloning is cheap: the buffers are shared.
#[derive(Debug, Clone)]
pub struct Dataset {
    images: Arc<[u8]>,
    labels: Arc<[u32]>,
    class_names: Arc<[String]>,
}

impl Dataset {
    /// Builds a dataset; `images` must hold `labels.len() * 3072` bytes and every label must
    /// index `class_names`.
    pub fn new(images: Vec<u8>, labels: Vec<u32>, class_names: Vec<String>) -> Result<Self> {
        if images.len() != labels.len() * IMAGE_BYTES {
            return Err(DataError::InvalidArgument(format!(
                "{} image bytes for {} labels, expected {} ({} per image)",
                images.len(),
                labels.len(),
                labels.len() * IMAGE_BYTES,
                IMAGE_BYTES
            )));
        }
        if let Some((i, &label)) = labels
            .iter()
            .enumerate()
            .find(|(_, &label)| label as usize >= class_names.len())
        {
            return Err(DataError::InvalidArgument(format!(
                "label {label} of image {i} is not below the {} class names",
                class_names.len()
            )));
        }
        Ok(Self {
            images: images.into(),
            labels: labels.into(),
            class_names: class_names.into(),
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// `true` when there is no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The 3072 bytes of image `i`, channel-planar. Panics if `i >= len()`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES]
    }

    /// Every image's bytes, back to back (`len() * 3072`).
    pub fn images(&self) -> &[u8] {
        &self.images
    }

    /// Label of image `i`, below `num_classes()`. Panics if `i >= len()`.
    pub fn label(&self, i: usize) -> u32 {
        self.labels[i]
    }

    /// Every label, in image order.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// Class names, indexed by label.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// The first `n` images (all of them when `n >= len()`) and their labels, with the same
    /// class names.
    pub fn first(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        if n == self.len() {
            return self.clone();
        }
        Dataset {
            images: self.images[..n * IMAGE_BYTES].into(),
            labels: self.labels[..n].into(),
            class_names: self.class_names.clone(),
        }
    }

    /// Images per class, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        self.labels.iter().for_each(|&l| counts[l as usize] += 1);
        counts
    }

    /// Per-channel mean and standard deviation of the pixels scaled to `[0, 1]`, over the whole
    /// dataset: the usual arguments of [`Transform::Standardize`](crate::Transform::Standardize)
    /// (compute them on the training set and use them for both sets).
    pub fn channel_stats(&self) -> ([f32; CHANNELS], [f32; CHANNELS]) {
        let plane = HEIGHT * WIDTH;
        let mut sums = [[0u64; 2]; CHANNELS];
        for image in self.images.chunks_exact(IMAGE_BYTES) {
            for (c, sum) in sums.iter_mut().enumerate() {
                for &p in &image[c * plane..(c + 1) * plane] {
                    sum[0] += u64::from(p);
                    sum[1] += u64::from(p) * u64::from(p);
                }
            }
        }
        let count = (self.len() * plane).max(1) as f64;
        let mut mean = [0.0; CHANNELS];
        let mut std = [0.0; CHANNELS];
        for (c, [s, sq]) in sums.into_iter().enumerate() {
            let m = s as f64 / count / 255.0;
            let var = (sq as f64 / count / (255.0 * 255.0) - m * m).max(0.0);
            mean[c] = m as f32;
            std[c] = var.sqrt() as f32;
        }
        (mean, std)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn new_checks_lengths_and_labels() {
        let err = Dataset::new(vec![0; 3071], vec![0], names(2)).unwrap_err();
        assert!(
            err.to_string().contains("3071 image bytes for 1 labels"),
            "{err}"
        );
        let err = Dataset::new(vec![0; 2 * 3072], vec![0, 2], names(2)).unwrap_err();
        assert!(err.to_string().contains("label 2 of image 1"), "{err}");
        let ds = Dataset::new(vec![7; 2 * 3072], vec![1, 0], names(2)).unwrap();
        assert_eq!((ds.len(), ds.label(0), ds.image(1).len()), (2, 1, 3072));
        assert_eq!(ds.class_counts(), vec![1, 1]);
    }

    #[test]
    fn first_keeps_the_leading_images_and_labels() {
        let images: Vec<u8> = (0..3).flat_map(|i| vec![i as u8; IMAGE_BYTES]).collect();
        let ds = Dataset::new(images, vec![2, 0, 1], names(3)).unwrap();
        let two = ds.first(2);
        assert_eq!((two.len(), two.labels()), (2, &[2, 0][..]));
        assert_eq!(two.image(1), ds.image(1));
        assert_eq!(two.class_names(), ds.class_names());
        assert_eq!(ds.first(0).len(), 0);
        assert_eq!(ds.first(7).len(), 3);
    }

    #[test]
    fn channel_stats_per_plane() {
        // Channel 0 all 0, channel 1 all 255, channel 2 half 0 half 255.
        let mut image = vec![0u8; IMAGE_BYTES];
        image[1024..2048].fill(255);
        image[2048..2560].fill(255);
        let ds = Dataset::new(image, vec![0], names(1)).unwrap();
        let (mean, std) = ds.channel_stats();
        let expect = |got: [f32; 3], want: [f32; 3]| {
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
            }
        };
        expect(mean, [0.0, 1.0, 0.5]);
        expect(std, [0.0, 0.0, 0.5]);
    }
}
