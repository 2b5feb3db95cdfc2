//! The page's comparison run natively on kiln's CPU device: the reference the browser's losses
//! are checked against. `reference '<settings JSON>'` prints one JSON line per step, as the page
//! reports them.

use kiln::tensor::Device;
use kiln_experiments::cifar_bn::live::Live;
use kiln_web::settings::Settings;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let json = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: reference '<settings JSON>'"))?;
    let settings: Settings = serde_json::from_str(&json)
        .map_err(|e| anyhow::anyhow!("reading the settings {json}: {e}"))?;
    let (train, test, _) = settings.generate();
    let started = Instant::now();
    let clock = Box::new(move || started.elapsed().as_secs_f64());
    let mut live = Live::new(settings.experiment(Device::Cpu)?, &train, &test, clock)?;
    while let Some(progress) = pollster::block_on(live.step())? {
        println!("{}", serde_json::to_string(&progress)?);
    }
    Ok(())
}
