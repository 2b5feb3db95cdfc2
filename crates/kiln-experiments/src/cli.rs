//! What the example programs' command lines share: flag parsers, the device flag, `--resume`'s
//! settings check, and the signals that stop a run.

use crate::folder::{self, Program, RUN_FILE};
use anyhow::{bail, Context};
use clap::parser::ValueSource;
use clap::ArgMatches;
use kiln::tensor::{Device, DeviceChoice};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    /// A hardware GPU if there is one, else the CPU.
    Auto,
    Cpu,
    Gpu,
}

/// The device `--device arg` selects; an error names the flag.
pub fn device(arg: DeviceArg) -> anyhow::Result<Device> {
    let choice = match arg {
        DeviceArg::Auto => DeviceChoice::Auto,
        DeviceArg::Cpu => DeviceChoice::Cpu,
        DeviceArg::Gpu => DeviceChoice::Gpu,
    };
    Device::select(choice).with_context(|| format!("--device {arg:?}").to_lowercase())
}

/// How a device is named in a program's header: the adapter, or the CPU's thread count.
pub fn describe(device: Device) -> String {
    match device {
        Device::Gpu => device.describe(),
        Device::Cpu => format!("cpu ({} threads)", rayon::current_num_threads()),
    }
}

/// Parses a count of at least 1.
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// Parses a positive finite number.
pub fn positive_finite(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err("must be a positive finite number".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Settings as JSON, numbers as written (`0.01`, not the `f64` nearest the `f32`).
pub fn settings_json(settings: &impl serde::Serialize) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::from_str(&serde_json::to_string(settings)?)?)
}

/// `--resume folder`: the settings stored in the folder's `run.json`, after checking that none
/// of `given` set on the command line (per `matches`) contradicts them (each one named with
/// both values).
pub fn resumed_settings<S: serde::Serialize + serde::de::DeserializeOwned>(
    program: &Program,
    folder: &Path,
    given: &S,
    matches: &ArgMatches,
) -> anyhow::Result<S> {
    let stored_json = folder::settings(program, folder)?;
    let given_json = settings_json(given)?;
    let mut conflicts = Vec::new();
    for (key, value) in given_json.as_object().expect("settings are an object") {
        let on_command_line = matches.value_source(key) == Some(ValueSource::CommandLine);
        let stored = &stored_json[key];
        if on_command_line && stored != value {
            let flag = key.replace('_', "-");
            conflicts.push(format!("--{flag} {value} (the run has {stored})"));
        }
    }
    let run_file = folder.join(RUN_FILE);
    if !conflicts.is_empty() {
        bail!(
            "--resume {}: these flags contradict the run's settings in {}: {}; drop them to \
             continue the run as it was",
            folder.display(),
            run_file.display(),
            conflicts.join(", ")
        );
    }
    serde_json::from_value(stored_json).with_context(|| {
        format!(
            "--resume {}: {} is damaged",
            folder.display(),
            run_file.display()
        )
    })
}

/// The first signal (SIGINT or SIGTERM) sets `stop` and records its number; a second one ends
/// the process at once with status 128 + signal.
pub struct Signals {
    pub stop: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

impl Signals {
    /// Registers the handlers.
    pub fn register() -> anyhow::Result<Signals> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let (stop, which) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicUsize::new(0)),
        );
        for signal in [SIGINT, SIGTERM] {
            // Registered first, so it sees the flag as the earlier signal left it.
            signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, stop.clone())?;
            signal_hook::flag::register(signal, stop.clone())?;
            signal_hook::flag::register_usize(signal, which.clone(), signal as usize)?;
        }
        Ok(Signals { stop, which })
    }

    /// Whether a signal asked the run to stop.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The exit status: 128 + the signal's number (130 SIGINT, 143 SIGTERM) after one, else
    /// success.
    pub fn exit_code(&self) -> ExitCode {
        if !self.stopped() {
            return ExitCode::SUCCESS;
        }
        let signal = self.which.load(Ordering::Relaxed);
        note!("stopped by signal {signal}; what was measured is written");
        ExitCode::from(128 + signal as u8)
    }
}

/// Runs a program's `run`, printing its error (with its causes) on stderr.
pub fn main(run: impl FnOnce() -> anyhow::Result<ExitCode>) -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            note!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
