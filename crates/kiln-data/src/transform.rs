//! Per-image transforms applied by the loader while it converts bytes to `f32`.

use crate::error::{DataError, Result};
use crate::format::{CHANNELS, HEIGHT, WIDTH};
use kiln_tensor::random::Rng;

/// One step of a [`Transforms`] pipeline, acting on one CHW `f32` image of shape `[3, 32, 32]`.
///
/// The loader starts every image from its raw byte values (0.0 to 255.0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transform {
    /// Divide by 255, so bytes map to `[0, 1]`.
    ScaleTo01,
    /// Per-channel `(x - mean[c]) / std[c]`; every `std` must be positive. With the values of
    /// [`Dataset::channel_stats`](crate::Dataset::channel_stats) after [`Transform::ScaleTo01`],
    /// each channel gets mean ~0 and std ~1.
    Standardize {
        /// Per-channel mean, in the scale the image has at this step.
        mean: [f32; CHANNELS],
        /// Per-channel standard deviation, same scale.
        std: [f32; CHANNELS],
    },
    /// Pad every side with `padding` zeros, then keep a random 32x32 window (the shape is
    /// unchanged, the content moves by up to `padding` pixels). Random: for training only.
    RandomCrop {
        /// Zero border added on each side before cropping: less than the image's side, so
        /// that every window keeps part of the image.
        padding: usize,
    },
    /// Mirror left-right with probability 1/2. Random: for training only.
    RandomHorizontalFlip,
    /// Cutout (DeVries and Taylor): set a `size` x `size` square to zero in every channel, its
    /// centre drawn uniformly over the image and the square clipped at the borders (so near an
    /// edge less than `size²` pixels are cut). After [`Transform::Standardize`] zero is the
    /// channel mean, the usual choice. `size` is 1 to 32. Random: for training only.
    Cutout {
        /// Side of the square, in pixels.
        size: usize,
    },
}

/// A pipeline of [`Transform`]s applied in order (empty: raw byte values as `f32`).
///
/// Order matters: padding zeros are black when [`Transform::RandomCrop`] comes before
/// scaling and standardization (the usual choice, as in [`Transforms::train`]), and equal to
/// the channel mean after [`Transform::Standardize`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transforms(Vec<Transform>);

impl Transforms {
    /// An empty pipeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// This pipeline followed by `step`.
    pub fn then(mut self, step: Transform) -> Self {
        self.0.push(step);
        self
    }

    // ANCHOR: pipelines
    /// Evaluation pipeline: scale to `[0, 1]`, then standardize with `mean` / `std` (given in
    /// the `[0, 1]` scale).
    pub fn eval(mean: [f32; CHANNELS], std: [f32; CHANNELS]) -> Self {
        Self::new()
            .then(Transform::ScaleTo01)
            .then(Transform::Standardize { mean, std })
    }

    /// The usual CIFAR training pipeline: random crop with 4 pixels of zero padding, random
    /// horizontal flip, then [`Transforms::eval`].
    pub fn train(mean: [f32; CHANNELS], std: [f32; CHANNELS]) -> Self {
        Self::new()
            .then(Transform::RandomCrop { padding: 4 })
            .then(Transform::RandomHorizontalFlip)
            .then(Transform::ScaleTo01)
            .then(Transform::Standardize { mean, std })
    }
    // ANCHOR_END: pipelines

    /// The steps, in order.
    pub fn steps(&self) -> &[Transform] {
        &self.0
    }

    /// Fails on a standardization with a non-positive or non-finite std, or non-finite mean,
    /// on a crop's padding as wide as the image or wider, and on a cutout square of side 0 or
    /// larger than the image.
    pub(crate) fn validate(&self) -> Result<()> {
        let side = HEIGHT.min(WIDTH);
        for step in &self.0 {
            match step {
                Transform::Standardize { mean, std }
                    if std.iter().any(|s| !(s.is_finite() && *s > 0.0))
                        || mean.iter().any(|m| !m.is_finite()) =>
                {
                    return Err(DataError::InvalidArgument(format!(
                        "Standardize needs finite means and positive stds, got mean {mean:?} \
                         std {std:?}"
                    )));
                }
                Transform::RandomCrop { padding } if *padding >= side => {
                    return Err(DataError::InvalidArgument(format!(
                        "RandomCrop padding must be 0 to {}, got {padding}",
                        side - 1
                    )));
                }
                Transform::Cutout { size } if !(1..=side).contains(size) => {
                    return Err(DataError::InvalidArgument(format!(
                        "Cutout size must be 1 to {side}, got {size}"
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Applies every step to `image` (`[3, 32, 32]`), drawing randomness from `rng`;
    /// `scratch` is reused working memory.
    pub(crate) fn apply(&self, image: &mut [f32], scratch: &mut Vec<f32>, rng: &mut Rng) {
        let plane = HEIGHT * WIDTH;
        for step in &self.0 {
            match *step {
                Transform::ScaleTo01 => image.iter_mut().for_each(|x| *x /= 255.0),
                Transform::Standardize { mean, std } => {
                    for (c, channel) in image.chunks_exact_mut(plane).enumerate() {
                        channel
                            .iter_mut()
                            .for_each(|x| *x = (*x - mean[c]) / std[c]);
                    }
                }
                Transform::RandomCrop { padding } => {
                    let dy = rng.below(2 * padding + 1) as isize - padding as isize;
                    let dx = rng.below(2 * padding + 1) as isize - padding as isize;
                    shift(image, scratch, dy, dx);
                }
                Transform::RandomHorizontalFlip => {
                    if rng.chance(0.5) {
                        image.chunks_exact_mut(WIDTH).for_each(<[f32]>::reverse);
                    }
                }
                Transform::Cutout { size } => {
                    let (cy, cx) = (rng.below(HEIGHT), rng.below(WIDTH));
                    // Rows and columns `centre - size/2 ..` for `size` pixels, clipped.
                    let span = |centre: usize, len: usize| {
                        let start = centre.saturating_sub(size / 2);
                        start..(centre + size - size / 2).min(len)
                    };
                    let (rows, cols) = (span(cy, HEIGHT), span(cx, WIDTH));
                    for channel in image.chunks_exact_mut(plane) {
                        for y in rows.clone() {
                            channel[y * WIDTH..][cols.clone()].fill(0.0);
                        }
                    }
                }
            }
        }
    }
}

/// Moves the content of a CHW image so that `out[y][x] = in[y + dy][x + dx]`, zero where that
/// falls outside: a crop of the zero-padded image.
fn shift(image: &mut [f32], scratch: &mut Vec<f32>, dy: isize, dx: isize) {
    scratch.clear();
    scratch.extend_from_slice(image);
    for c in 0..CHANNELS {
        for y in 0..HEIGHT {
            let row = &mut image[(c * HEIGHT + y) * WIDTH..][..WIDTH];
            let sy = y as isize + dy;
            if !(0..HEIGHT as isize).contains(&sy) {
                row.fill(0.0);
                continue;
            }
            let src = &scratch[(c * HEIGHT + sy as usize) * WIDTH..][..WIDTH];
            for (x, out) in row.iter_mut().enumerate() {
                let sx = x as isize + dx;
                *out = if (0..WIDTH as isize).contains(&sx) {
                    src[sx as usize]
                } else {
                    0.0
                };
            }
        }
    }
}
