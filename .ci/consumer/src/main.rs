//! What a new user writes first: a small CNN trained for a few steps on the device
//! `KILN_DEVICE` names (`cpu`, `gpu`, or `auto`), a checkpoint saved and loaded back, and
//! errors of kiln's crates carried by `?` into the program's own error type.

use kiln::prelude::*;
use std::path::Path;

/// The program's own errors: a `Result<T, AppError>` beside `use kiln::prelude::*`.
#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error(transparent)]
    Kiln(#[from] kiln::Error),
    #[error("the loss did not fall: {first} -> {last}")]
    NoProgress { first: f32, last: f32 },
    #[error("the reloaded model's outputs differ from the saved one's")]
    Reload,
}

fn cnn(seed: u64) -> kiln::Result<Sequential> {
    Ok(Sequential::new()
        .with(Conv2d::new(3, 8, (3, 3), LayerInit::default(), seed)?)
        .with(BatchNorm2d::new(8, BatchNormConfig::default())?)
        .with(ReLU)
        .with(Flatten)
        .with(Linear::new(8 * 6 * 6, 4, LayerInit::default(), seed + 1)?))
}

/// Trains `model` for `steps` steps on one batch; the losses.
fn train(model: &mut Sequential, device: Device, steps: usize) -> kiln::Result<Vec<f32>> {
    model.to_device(device)?;
    let mut adam = Adam::new(model.parameters(), AdamConfig::default().lr(1e-2))?;
    let x = Tensor::rand_uniform(&[16, 3, 8, 8], 0.0, 1.0, 7).to_device(device)?;
    let labels: Vec<u32> = (0..16).map(|i| i % 4).collect();
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        adam.zero_grad();
        let loss = cross_entropy(&model.forward(&x)?, &labels)?;
        loss.backward()?;
        adam.step()?;
        losses.push(loss.item()?);
    }
    Ok(losses)
}

fn outputs(model: &mut Sequential, device: Device) -> kiln::Result<Vec<f32>> {
    model.eval();
    let x = Tensor::rand_uniform(&[2, 3, 8, 8], 0.0, 1.0, 9).to_device(device)?;
    Ok(no_grad(|| model.forward(&x))?.to_vec()?)
}

/// Saves `model` into `folder`, loads it into a fresh model: whether their outputs agree.
fn reloads_exactly(model: &mut Sequential, device: Device, folder: &Path) -> kiln::Result<bool> {
    let path = folder.join("model.safetensors");
    checkpoint::save(&path, model, None)?;
    let mut restored = cnn(1)?;
    restored.to_device(device)?;
    checkpoint::load(&path, &restored, None)?;
    Ok(outputs(model, device)? == outputs(&mut restored, device)?)
}

fn run(device: Device, folder: &Path) -> Result<(), AppError> {
    let mut model = cnn(0)?;
    let losses = train(&mut model, device, 20)?;
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    if !(last < first) {
        return Err(AppError::NoProgress { first, last });
    }
    if !reloads_exactly(&mut model, device, folder)? {
        return Err(AppError::Reload);
    }
    println!("{device}: loss {first:.4} -> {last:.4} in 20 steps; checkpoint reloads exactly");
    Ok(())
}

fn main() -> Result<(), AppError> {
    let device = default_device().map_err(kiln::Error::from)?;
    let folder = std::env::temp_dir().join(format!("kiln-consumer-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("temporary folder");
    let result = run(device, &folder);
    let _ = std::fs::remove_dir_all(&folder);
    result
}
