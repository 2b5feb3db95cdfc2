//! Batching: coverage, order, shapes and values, prefetching and transforms.

use kiln_data::{DataLoader, Dataset, LoaderConfig, Transform, Transforms, IMAGE_BYTES};

/// `n` images with label `i % 10`; pixel `p` of image `i` is `(i + p) % 256`.
fn dataset(n: usize) -> Dataset {
    let images = (0..n)
        .flat_map(|i| (0..IMAGE_BYTES).map(move |p| ((i + p) % 256) as u8))
        .collect();
    let labels = (0..n).map(|i| (i % 10) as u32).collect();
    let names = (0..10).map(|c| format!("class{c}")).collect();
    Dataset::new(images, labels, names).unwrap()
}

fn indices(loader: &DataLoader, epoch: u64) -> Vec<Vec<usize>> {
    loader
        .epoch(epoch)
        .map(|batch| batch.unwrap().indices)
        .collect()
}

#[test]
fn every_sample_once_per_epoch_shuffled_reproducibly() {
    let data = dataset(103);
    let config = LoaderConfig {
        shuffle: true,
        seed: 5,
        ..LoaderConfig::new(10)
    };
    let loader = DataLoader::new(&data, config.clone()).unwrap();
    assert_eq!(loader.num_batches(), 11);
    let epoch0 = indices(&loader, 0);
    let sizes: Vec<usize> = epoch0.iter().map(Vec::len).collect();
    assert_eq!(sizes, [vec![10; 10], vec![3]].concat());
    let mut seen: Vec<usize> = epoch0.concat();
    assert_ne!(seen, (0..103).collect::<Vec<_>>(), "not shuffled");
    seen.sort_unstable();
    assert_eq!(seen, (0..103).collect::<Vec<_>>());

    let epoch1 = indices(&loader, 1);
    assert_ne!(epoch0, epoch1, "epochs share an order");
    let mut seen1 = epoch1.concat();
    seen1.sort_unstable();
    assert_eq!(seen1, (0..103).collect::<Vec<_>>());

    let again = DataLoader::new(&data, config.clone()).unwrap();
    assert_eq!(indices(&again, 0), epoch0);
    assert_eq!(indices(&again, 1), epoch1);
    let other_seed = DataLoader::new(&data, LoaderConfig { seed: 6, ..config }).unwrap();
    assert_ne!(indices(&other_seed, 0), epoch0);
}

#[test]
fn file_order_without_shuffle() {
    let loader = DataLoader::new(&dataset(25), LoaderConfig::new(8)).unwrap();
    let expected: Vec<Vec<usize>> = vec![
        (0..8).collect(),
        (8..16).collect(),
        (16..24).collect(),
        vec![24],
    ];
    assert_eq!(indices(&loader, 0), expected);
    assert_eq!(indices(&loader, 3), expected);
}

#[test]
fn drop_last_skips_the_short_batch() {
    let data = dataset(25);
    let config = LoaderConfig {
        drop_last: true,
        shuffle: true,
        ..LoaderConfig::new(8)
    };
    let loader = DataLoader::new(&data, config).unwrap();
    assert_eq!(loader.num_batches(), 3);
    let batches = indices(&loader, 0);
    assert_eq!(batches.len(), 3);
    assert!(batches.iter().all(|b| b.len() == 8));
    // The dropped images are the last ones of that epoch's order.
    assert_eq!(batches.concat(), loader.epoch_order(0)[..24]);
    assert_eq!(loader.epoch(0).len(), 3);
}

#[test]
fn shapes_values_and_labels() {
    let data = dataset(12);
    let loader = DataLoader::new(&data, LoaderConfig::new(5)).unwrap();
    let batches: Vec<_> = loader.epoch(0).map(Result::unwrap).collect();
    assert_eq!(batches.len(), 3);
    assert_eq!(batches[0].images.shape().dims(), [5, 3, 32, 32]);
    assert_eq!(batches[2].images.shape().dims(), [2, 3, 32, 32]);
    assert_eq!(batches[2].labels, [0, 1]);
    let values = batches[1].images.to_vec().unwrap();
    // Raw byte values, NCHW: sample 0 of batch 1 is image 5.
    for (k, &v) in values[..IMAGE_BYTES].iter().enumerate() {
        assert_eq!(v, ((5 + k) % 256) as f32);
    }
    assert_eq!(values[IMAGE_BYTES + 1], 7.0);
}

#[test]
fn prefetching_gives_the_same_batches() {
    let data = dataset(37);
    let (mean, std) = data.channel_stats();
    let config = LoaderConfig {
        shuffle: true,
        seed: 11,
        transforms: Transforms::train(mean, std),
        ..LoaderConfig::new(6)
    };
    let with = DataLoader::new(
        &data,
        LoaderConfig {
            prefetch: true,
            ..config.clone()
        },
    )
    .unwrap();
    let without = DataLoader::new(
        &data,
        LoaderConfig {
            prefetch: false,
            ..config
        },
    )
    .unwrap();
    for epoch in 0..2 {
        let a: Vec<_> = with.epoch(epoch).map(Result::unwrap).collect();
        let b: Vec<_> = without.epoch(epoch).map(Result::unwrap).collect();
        assert_eq!(a.len(), b.len());
        for (a, b) in a.iter().zip(&b) {
            assert_eq!(a.indices, b.indices);
            assert_eq!(a.labels, b.labels);
            assert_eq!(a.images.to_vec().unwrap(), b.images.to_vec().unwrap());
        }
    }
    // Abandoning an epoch early does not hang.
    let mut partial = with.epoch(5);
    assert!(partial.next().unwrap().is_ok());
    drop(partial);
}

/// The single image of a one-image loader after `transforms`, for epoch `epoch`.
fn transformed(data: &Dataset, transforms: Transforms, seed: u64, epoch: u64) -> Vec<f32> {
    let config = LoaderConfig {
        seed,
        transforms,
        ..LoaderConfig::new(1)
    };
    let loader = DataLoader::new(data, config).unwrap();
    let batch = loader.epoch(epoch).next().unwrap().unwrap();
    batch.images.to_vec().unwrap()
}

fn at(image: &[f32], c: usize, y: usize, x: usize) -> f32 {
    image[(c * 32 + y) * 32 + x]
}

#[test]
fn horizontal_flip_is_a_mirror() {
    let data = dataset(1);
    let raw = transformed(&data, Transforms::new(), 0, 0);
    let flip = Transforms::new().then(Transform::RandomHorizontalFlip);
    let mut flipped = 0;
    for epoch in 0..20 {
        let image = transformed(&data, flip.clone(), 0, epoch);
        if image == raw {
            continue;
        }
        flipped += 1;
        for (c, y, x) in [(0, 0, 0), (1, 5, 7), (2, 31, 31), (2, 13, 16)] {
            assert_eq!(at(&image, c, y, x), at(&raw, c, y, 31 - x));
        }
    }
    assert!((4..=16).contains(&flipped), "flipped {flipped} of 20");
}

#[test]
fn random_crop_pads_with_zeros_and_keeps_shape() {
    let data = dataset(1);
    let raw = transformed(&data, Transforms::new(), 0, 0);
    let crop = Transforms::new().then(Transform::RandomCrop { padding: 4 });
    let mut shifts = std::collections::HashSet::new();
    for epoch in 0..30 {
        let image = transformed(&data, crop.clone(), 1, epoch);
        assert_eq!(image.len(), 3 * 32 * 32);
        // Find the shift (dy, dx) that explains the output.
        let shift = (-4i32..=4)
            .flat_map(|dy| (-4i32..=4).map(move |dx| (dy, dx)))
            .find(|&(dy, dx)| {
                (0..3).all(|c| {
                    (0..32).all(|y| {
                        (0..32).all(|x| {
                            let (sy, sx) = (y as i32 + dy, x as i32 + dx);
                            let want = if (0..32).contains(&sy) && (0..32).contains(&sx) {
                                at(&raw, c, sy as usize, sx as usize)
                            } else {
                                0.0
                            };
                            at(&image, c, y, x) == want
                        })
                    })
                })
            });
        shifts.insert(shift.expect("output is a padded crop of the input"));
    }
    assert!(shifts.len() > 10, "only {} distinct crops", shifts.len());
    assert!(shifts.iter().any(|&(dy, dx)| dy != 0 && dx != 0));
}

#[test]
fn cutout_zeroes_one_clipped_square_in_every_channel_reproducibly() {
    let data = dataset(1);
    // Shift the bytes by one so that no pixel of the input is zero.
    let plus_one = || {
        Transforms::new().then(Transform::Standardize {
            mean: [-1.0; 3],
            std: [1.0; 3],
        })
    };
    let raw = transformed(&data, plus_one(), 0, 0);
    assert!(raw.iter().all(|&v| v >= 1.0));
    let cutout = plus_one().then(Transform::Cutout { size: 8 });
    let mut areas = std::collections::HashSet::new();
    for epoch in 0..40 {
        let image = transformed(&data, cutout.clone(), 2, epoch);
        assert_eq!(
            image,
            transformed(&data, cutout.clone(), 2, epoch),
            "not reproducible"
        );
        let cut: Vec<(usize, usize)> = (0..32)
            .flat_map(|y| (0..32).map(move |x| (y, x)))
            .filter(|&(y, x)| at(&image, 0, y, x) == 0.0)
            .collect();
        // The same pixels in every channel, the rest untouched.
        for c in 0..3 {
            for y in 0..32 {
                for x in 0..32 {
                    let want = if cut.contains(&(y, x)) {
                        0.0
                    } else {
                        at(&raw, c, y, x)
                    };
                    assert_eq!(at(&image, c, y, x), want, "channel {c} ({y}, {x})");
                }
            }
        }
        // A rectangle of at most 8 x 8, smaller only where it touches a border.
        let (ys, xs): (Vec<usize>, Vec<usize>) = cut.iter().copied().unzip();
        let (y0, y1) = (*ys.iter().min().unwrap(), *ys.iter().max().unwrap());
        let (x0, x1) = (*xs.iter().min().unwrap(), *xs.iter().max().unwrap());
        let (h, w) = (y1 - y0 + 1, x1 - x0 + 1);
        assert_eq!(cut.len(), h * w, "not a rectangle");
        assert!(
            h == 8 || y0 == 0 || y1 == 31,
            "height {h} at rows {y0}..={y1}"
        );
        assert!(
            w == 8 || x0 == 0 || x1 == 31,
            "width {w} at columns {x0}..={x1}"
        );
        areas.insert(cut.len());
    }
    assert!(areas.contains(&64) && areas.len() > 1, "{areas:?}");
    let msg = DataLoader::new(
        &data,
        LoaderConfig {
            transforms: Transforms::new().then(Transform::Cutout { size: 33 }),
            ..LoaderConfig::new(1)
        },
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("Cutout size must be 1 to 32, got 33"), "{msg}");
    for padding in [32, usize::MAX] {
        let msg = DataLoader::new(
            &data,
            LoaderConfig {
                transforms: Transforms::new().then(Transform::RandomCrop { padding }),
                ..LoaderConfig::new(1)
            },
        )
        .unwrap_err()
        .to_string();
        let said = format!("RandomCrop padding must be 0 to 31, got {padding}");
        assert!(msg.contains(&said), "{msg}");
    }
}

#[test]
fn standardization_gives_zero_mean_unit_std() {
    let data = dataset(40);
    let (mean, std) = data.channel_stats();
    let config = LoaderConfig {
        transforms: Transforms::eval(mean, std),
        ..LoaderConfig::new(40)
    };
    let loader = DataLoader::new(&data, config).unwrap();
    let values = loader
        .epoch(0)
        .next()
        .unwrap()
        .unwrap()
        .images
        .to_vec()
        .unwrap();
    for c in 0..3 {
        let channel: Vec<f64> = values
            .chunks_exact(1024)
            .skip(c)
            .step_by(3)
            .flatten()
            .map(|&v| f64::from(v))
            .collect();
        let m = channel.iter().sum::<f64>() / channel.len() as f64;
        let s =
            (channel.iter().map(|v| (v - m).powi(2)).sum::<f64>() / channel.len() as f64).sqrt();
        assert!(
            m.abs() < 1e-4 && (s - 1.0).abs() < 1e-4,
            "channel {c}: mean {m} std {s}"
        );
    }
    // Scaling alone maps bytes to [0, 1].
    let scaled = transformed(&data, Transforms::new().then(Transform::ScaleTo01), 0, 0);
    assert_eq!(scaled[1], 1.0 / 255.0);
    assert!(scaled.iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn invalid_configurations_are_refused() {
    let data = dataset(3);
    let msg = DataLoader::new(&data, LoaderConfig::new(0))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("batch size must be positive"), "{msg}");
    let bad = Transforms::eval([0.5; 3], [0.2, 0.0, 0.2]);
    let msg = DataLoader::new(
        &data,
        LoaderConfig {
            transforms: bad,
            ..LoaderConfig::new(2)
        },
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("positive stds"), "{msg}");
}

#[test]
fn batches_on_the_gpu_match_the_cpu_with_and_without_prefetch() {
    let Some(gpu) = kiln_tensor::test_util::gpu_or_skip() else {
        return;
    };
    let data = dataset(29);
    let config = LoaderConfig {
        shuffle: true,
        seed: 5,
        transforms: Transforms::new().then(Transform::ScaleTo01),
        ..LoaderConfig::new(8)
    };
    let cpu = DataLoader::new(&data, config.clone()).unwrap();
    let want: Vec<_> = cpu.epoch(1).map(Result::unwrap).collect();
    for prefetch in [true, false] {
        let config = LoaderConfig {
            prefetch,
            device: gpu,
            ..config.clone()
        };
        let loader = DataLoader::new(&data, config).unwrap();
        let got: Vec<_> = loader.epoch(1).map(Result::unwrap).collect();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.images.device(), gpu);
            assert_eq!(g.images.dims(), w.images.dims());
            assert_eq!(g.images.to_vec().unwrap(), w.images.to_vec().unwrap());
            assert_eq!((&g.labels, &g.indices), (&w.labels, &w.indices));
        }
    }
}
