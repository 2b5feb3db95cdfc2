//! The page's comparison run natively on kiln's CPU device: the reference the browser's losses
//! are checked against. `reference '<settings JSON>' [CIFAR-10 FILE...]` prints one JSON line
//! per step, as the page reports them; on the synthetic data of the settings, or on the CIFAR-10
//! record files named, taken as the page takes the files given to it.

use anyhow::Context;
use kiln::tensor::Device;
use kiln_experiments::cifar_bn::live::{self, Live};
use kiln_web::data::{Cifar10Files, TrainingData};
use kiln_web::settings::Settings;
use std::path::PathBuf;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let json = args
        .next()
        .context("usage: reference '<settings JSON>' [CIFAR-10 FILE...]")?;
    let settings: Settings =
        serde_json::from_str(&json).with_context(|| format!("reading the settings {json}"))?;
    let paths: Vec<PathBuf> = args.map(PathBuf::from).collect();
    let data = if paths.is_empty() {
        TrainingData::synthetic(&settings, settings.synthetic().generate())
    } else {
        let mut files = Cifar10Files::default();
        for path in &paths {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            files.add(name, &bytes)?;
        }
        files.data(&settings)?
    };
    let started = Instant::now();
    let clock = Box::new(move || started.elapsed().as_secs_f64());
    let mut live = Live::new(
        settings.experiment(Device::Cpu)?,
        &data.train,
        &data.test,
        clock,
        live::native_yield(),
    )?;
    while let Some(progress) = pollster::block_on(live.step())? {
        println!("{}", serde_json::to_string(&progress)?);
    }
    Ok(())
}
